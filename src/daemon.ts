/**
 * The composition root: builds every part from the configuration (each by its own function in
 * parts/), wires them and starts them; the function it returns stops them in order so nothing is
 * left half-written. `main.ts` (the `npm start` entry point) and the dev mode call it.
 */
import { EventEmitter } from 'node:events';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Config } from './config.js';
import { HttpListener } from './http/listener.js';
import { buildAdmin } from './parts/admin.js';
import { connectChain, proxyKey } from './parts/chain.js';
import { buildChannels, reportUnprovable } from './parts/channels.js';
import { leaderDuties } from './parts/leader.js';
import { buildMetrics } from './parts/metrics.js';
import { buildRegistrar } from './parts/registrar.js';
import { sanctionsRefresh } from './parts/sanctions.js';
import { openStore } from './parts/store.js';
import { buildWeb, whoRunsIt } from './parts/web.js';
import { whitelistPublisher } from './parts/whitelist.js';
import { Lease } from './registrar/lease.js';
import { notifyingStore } from './store/notifying.js';
import { collectGarbage } from './support/heap.js';
import type { Logger } from './support/log.js';

export { StartupError } from './parts/startup-error.js';

/**
 * Starts the registrar; resolves with the function that stops it. `onLeaseLost` is called when
 * another instance took the lease over (this one stalled): the caller should stop this one.
 */
export async function startRegistrar(
  config: Config,
  log: Logger,
  onLeaseLost?: () => void,
  opened?: HttpListener,
): Promise<() => Promise<void>> {
  // main.ts opens it before loading the chain libraries; the web server answers from here on.
  const listener = opened ?? (await HttpListener.open(config.http));
  try {
    return await start(config, log, listener, onLeaseLost);
  } catch (error) {
    await listener.close();
    throw error;
  }
}

async function start(
  config: Config,
  log: Logger,
  listener: HttpListener,
  onLeaseLost?: () => void,
): Promise<() => Promise<void>> {
  await cryptoWaitReady();
  const proxy = proxyKey(config);
  const store = await openStore(config);
  const chain = await connectChain(config, proxy, log, listener, store);
  // Who runs it, on every page and in every message; the chain's own name unless configured.
  const site = whoRunsIt(config, chain);
  const channels = await buildChannels(config, store, log);
  reportUnprovable(chain.entry, channels, log);

  // Every request write is announced, for the live status pages.
  const requestChanges = new EventEmitter();
  requestChanges.setMaxListeners(0);
  const announcing = notifyingStore(store, (request) => requestChanges.emit('changed', request));
  const { registry, metrics } = buildMetrics(config, store, chain);
  // One instance judges and delivers: the one holding the lease. Others serve pages only.
  const lease = new Lease(store, config.leaseSeconds * 1000, log);
  const { registrar, watcher } = buildRegistrar({
    config,
    store: announcing,
    chain,
    channels,
    metrics,
    lease,
    log,
    operator: site,
  });
  const whitelist = whitelistPublisher({ config, store, requestChanges, log });
  const sanctions = sanctionsRefresh({ config, screening: registrar.screening, metrics, log });
  const leader = leaderDuties({ config, registrar, watcher, judge: chain.judge, lease, log, sanctions });
  const http = buildWeb({
    config,
    chain,
    store,
    registrar,
    channels,
    requestChanges,
    lease,
    registry,
    reconciled: leader.reconciled,
    listener,
    whitelist: whitelist.current,
    site,
  });
  const admin = buildAdmin({ config, registrar, store, watcher, lease, registry });

  // Pages first: nothing the chain or a channel does may keep /healthz or a confirmation waiting.
  await http.ready();
  listener.serve();
  // Everything is loaded and the scan has not begun: the one full collection (support/heap.ts says why now).
  collectGarbage();
  const adminAddress = await admin?.listen();

  let leading: Promise<void> | undefined;
  await lease.start({
    gained: () => {
      leading = leader.lead();
      return leading;
    },
    lost: () => {
      // Someone else judges now; going on could judge or mail twice. Stop, and let the supervisor
      // start this instance again as a follower.
      log.error('the lease was lost to another instance; stopping');
      onLeaseLost?.();
    },
  });
  if (leading) await leading;
  log.info(
    {
      http: listener.url,
      admin: adminAddress,
      index: config.registrar.index,
      role: lease.held ? 'leader' : 'follower',
      memoryMiB: memoryMiB(),
    },
    'registrar ready',
  );

  return async () => {
    await http.close();
    whitelist.stop();
    await listener.close();
    await admin?.close();
    leader.stop();
    await leading?.catch(() => undefined);
    await watcher.stop();
    await registrar.drain();
    for (const channel of channels) await channel.close?.();
    await lease.stop();
    await chain.connection.close();
    await store.close();
  };
}

/** Resident and heap memory, for the start-up log line (operators size their machines by it). */
function memoryMiB(): { rss: number; heapUsed: number; heapTotal: number; external: number } {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  const mib = (n: number) => Math.round(n / 1_048_576);
  return { rss: mib(rss), heapUsed: mib(heapUsed), heapTotal: mib(heapTotal), external: mib(external) };
}
