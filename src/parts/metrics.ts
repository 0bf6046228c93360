/** The metrics part: Prometheus gauges read on each scrape (open requests, the chain, the proxy's balance). */

import type { Config } from '../config.js';
import { createMetrics } from '../registrar/metrics.js';
import type { Store } from '../store/store.js';
import type { ChainPart } from './chain.js';

export function buildMetrics(
  config: Config,
  store: Store,
  chain: ChainPart,
): ReturnType<typeof createMetrics> {
  const { connection, api, proxyAccount } = chain;
  return createMetrics({
    openRequests: async () => ({
      open: 0,
      judging: 0,
      ...(await store.countOpenRequests(config.registrar.index)),
    }),
    chain: () => connection.status(),
    judgedProofs: () => store.countJudgedProofs(config.registrar.index),
    proxyBalance: async () => {
      try {
        const account = (await api.query.system.account(proxyAccount)) as unknown as {
          data: { free: { toBigInt(): bigint } };
        };
        return account.data.free.toBigInt();
      } catch {
        return undefined;
      }
    },
  });
}
