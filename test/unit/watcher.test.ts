/**
 * The watcher's reconciliation with a scripted endpoint: asks that come while one is queued join
 * it (a timer tick during a reconnect storm does not queue a second pass), and an endpoint whose
 * finalized block is behind one already seen is left instead of believed; the periodic pass reads
 * only the accounts with open requests, the full one scans storage.
 */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { ChainConnection } from '../../src/chain/connection.js';
import { Watcher, type WatcherHandler } from '../../src/chain/watcher.js';

/** An endpoint at finalized block `head`, with no identities. */
function endpoint() {
  const state = { head: 100, failovers: 0, scans: 0, asked: [] as string[][] };
  // Raw JSON-RPC calls: no identity for any account asked about, so none is pending.
  const rawCall = async (method: string, keys: string[]) => {
    if (method !== 'state_queryStorageAt') throw new Error(`unexpected ${method}`);
    state.asked.push(keys);
    return [{ changes: [] }];
  };
  const api = {
    registry: {},
    query: { identity: { identityOf: { keyPrefix: () => '0x1234', key: (account: string) => account } } },
    rpc: Object.assign(rawCall, {
      state: {
        getKeysPaged: async () => {
          state.scans += 1;
          return [];
        },
      },
      chain: {
        getFinalizedHead: async () => ({ toHex: () => `0x${state.head.toString(16)}` }),
        getHeader: async () => ({ number: { toNumber: () => state.head } }),
        subscribeFinalizedHeads: async () => () => undefined,
      },
    }),
  };
  const connection = {
    api,
    setHead: () => undefined,
    status: () => ({ endpoint: '#1 node' }),
    failover: async () => {
      state.failovers += 1;
    },
    onReconnect: () => () => undefined,
  } as unknown as ChainConnection;
  return { state, connection };
}

/** A handler whose reconciliations wait until released. */
function handler() {
  const calls: string[][] = [];
  let entered: () => void = () => undefined;
  const begun = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const h: WatcherHandler = {
    onEvent: async () => undefined,
    openSnapshots: async () => new Map(),
    openFound: async () => [],
    reconcile: async (pending) => {
      calls.push([...pending.keys()]);
      entered();
      await gate;
    },
  };
  return {
    h,
    calls,
    begun,
    release: () => {
      release();
      gate = Promise.resolve();
    },
  };
}

describe('the watcher', () => {
  it('merges asks for reconciliation made while one is queued', async () => {
    const { connection } = endpoint();
    const { h, calls, begun, release } = handler();
    const watcher = new Watcher(connection, 1, h, pino({ level: 'silent' }), { openMs: 3_600_000 });
    const first = watcher.reconcile('start-up');
    await begun;
    // While the first runs, a reconnect, a timer tick and an operator all ask.
    const asks = [watcher.reconcile('reconnect'), watcher.reconcile('interval'), watcher.reconcile('admin')];
    expect(asks[0]).toBe(asks[1]);
    expect(asks[1]).toBe(asks[2]);
    release();
    await Promise.all([first, ...asks]);
    expect(calls).toHaveLength(2);
    await watcher.stop();
  });

  it('leaves an endpoint that is behind a block already seen, reconciling nothing with it', async () => {
    const { state, connection } = endpoint();
    const { h, calls, release } = handler();
    release();
    const watcher = new Watcher(connection, 1, h, pino({ level: 'silent' }), { openMs: 3_600_000 });
    await watcher.reconcile('start-up');
    expect(calls).toHaveLength(1);
    // Failover to a node 40 blocks behind: its storage would say the requests were never made.
    state.head = 60;
    expect(await watcher.reconcile('reconnect')).toBe(0);
    expect(calls).toHaveLength(1);
    expect(state.failovers).toBe(1);
    // Caught up (or another node): believed again.
    state.head = 101;
    await watcher.reconcile('reconnect');
    expect(calls).toHaveLength(2);
    await watcher.stop();
  });

  it('reads only the open requests in a periodic pass, and scans all of storage in a full one', async () => {
    const { state, connection } = endpoint();
    const { h, release } = handler();
    release();
    const open = Array.from({ length: 2_500 }, (_, i) => `account-${i}`);
    const scopes: unknown[] = [];
    const watcher = new Watcher(
      connection,
      1,
      {
        ...h,
        openSnapshots: async () =>
          new Map(open.map((account) => [account, { infoHex: '0x00', hash: '0x00' }])),
        reconcile: async (_pending, scope) => void scopes.push(scope),
      },
      pino({ level: 'silent' }),
      { openMs: 3_600_000 },
    );
    await watcher.reconcile('interval', 'open');
    expect(state.scans).toBe(0);
    // One storage query per 1,000 accounts, not one per account.
    expect(state.asked.map((page) => page.length)).toEqual([1_000, 1_000, 500]);
    expect(state.asked.flat()).toEqual(open);
    expect(scopes).toEqual([open]);

    await watcher.reconcile('reconnect');
    expect(state.scans).toBe(1);
    expect(scopes[1]).toBe('all');
    await watcher.stop();
  });
});
