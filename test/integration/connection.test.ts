/**
 * The daemon's chain connection keeps no answers of the node: a call made at a block hash is
 * asked of the node each time, and nothing of it is kept after it is answered. The provider
 * @polkadot/api ships, asked for no cache, kept every such answer for good (a full scan's pages
 * of keys, the header of every block): memory that grew with the chain and with time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { ChainConnection } from '../../src/chain/connection.js';
import { createLogger } from '../../src/support/log.js';
import { TestChain } from '../support/chain.js';

describe('the chain connection', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await TestChain.start();
  });
  afterAll(async () => {
    await chain?.close();
  });

  /** Asks twice for a header and a page of keys at one block; how many answers came from a cache. */
  async function cachedAnswers(api: ApiPromise): Promise<number> {
    const at = await api.rpc.chain.getFinalizedHead();
    const prefix = api.query.system.account.keyPrefix();
    const before = api.stats?.total.cached ?? Number.NaN;
    for (let i = 0; i < 2; i++) {
      await api.rpc.chain.getHeader(at);
      await api.rpc.state.getKeysPaged(prefix, 5, undefined, at);
    }
    return (api.stats?.total.cached ?? Number.NaN) - before;
  }

  it('asks the node again for what it asked at the same block, keeping no answer', async () => {
    const connection = await ChainConnection.open([chain.endpoint], createLogger('silent'));
    try {
      expect(await cachedAnswers(connection.api)).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it('is needed: the provider as shipped, asked for no cache, still answers from one', async () => {
    // When this fails, @polkadot/rpc-provider honours a capacity of 0 and UncachedWsProvider can go.
    const api = await ApiPromise.create({
      provider: new WsProvider(chain.endpoint, 1_000, {}, undefined, 0),
      noInitWarn: true,
    });
    try {
      expect(await cachedAnswers(api)).toBeGreaterThanOrEqual(2);
    } finally {
      await api.disconnect();
    }
  });
});
