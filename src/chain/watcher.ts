/**
 * Turns chain activity into registrar events. Events come from finalized blocks as they happen;
 * because blocks can be missed (downtime, a dropped connection), the pending requests are also read
 * from storage at start, after every reconnect and every `reconcileIntervalMs`. Everything reaches
 * the handler through one queue, in order, never two at a time.
 */
import type { Codec } from '@polkadot/types/types';
import type { Logger } from '../log.js';
import type { ChainConnection } from './connection.js';
import { readPendingAccounts } from './identity.js';

export type RegistrarEventKind =
  | 'requested'
  | 'unrequested'
  | 'judgement-given'
  | 'identity-set'
  | 'identity-cleared'
  | 'identity-killed';

export interface RegistrarEvent {
  kind: RegistrarEventKind;
  account: string;
  blockHash: string;
  blockNumber: number;
}

export interface WatcherHandler {
  onEvent(event: RegistrarEvent): Promise<void>;
  /** `pending`: every account whose judgement slot for our index is FeePaid right now. */
  reconcile(pending: string[]): Promise<void>;
}

/** pallet-identity event name → our kind, and whether it names a registrar index to filter on. */
const EVENTS: Record<string, { kind: RegistrarEventKind; account: string; indexed: boolean }> = {
  JudgementRequested: { kind: 'requested', account: 'who', indexed: true },
  JudgementUnrequested: { kind: 'unrequested', account: 'who', indexed: true },
  JudgementGiven: { kind: 'judgement-given', account: 'target', indexed: true },
  IdentitySet: { kind: 'identity-set', account: 'who', indexed: false },
  IdentityCleared: { kind: 'identity-cleared', account: 'who', indexed: false },
  IdentityKilled: { kind: 'identity-killed', account: 'who', indexed: false },
};

/** How far back missed blocks are read one by one; beyond that reconciliation alone catches up. */
const MAX_BACKFILL = 200;

interface EventRecordLike {
  event: { section: string; method: string; data: Codec[] & { names?: string[] | null } };
}

export class Watcher {
  private queue: Promise<void> = Promise.resolve();
  private lastBlock: number | undefined;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopReconnect: (() => void) | undefined;
  private stopped = false;
  /** The highest finalized block seen from any endpoint: no endpoint behind it is believed. */
  private highestFinalized: number | undefined;
  /** A reconciliation queued and not yet begun: later asks join it instead of queueing another. */
  private queuedReconcile: Promise<number> | undefined;

  constructor(
    private readonly connection: ChainConnection,
    private readonly registrarIndex: number,
    private readonly handler: WatcherHandler,
    private readonly log: Logger,
    private readonly reconcileIntervalMs: number,
    /** Told of every identity event, whatever registrar it names (the display-name corpus). */
    private readonly observe?: (event: RegistrarEvent) => Promise<void>,
  ) {}

  async start(): Promise<void> {
    const api = this.connection.api;
    const head = await api.rpc.chain.getFinalizedHead();
    this.lastBlock = (await api.rpc.chain.getHeader(head)).number.toNumber();
    this.connection.setHead(this.lastBlock);
    this.highestFinalized = this.lastBlock;
    await this.reconcile('start-up');
    this.unsubscribe = await api.rpc.chain.subscribeFinalizedHeads((header) => {
      const number = header.number.toNumber();
      // A lagging endpoint's older heads say nothing new; reconciliation refuses that endpoint.
      if (this.highestFinalized !== undefined && number < this.highestFinalized) return;
      this.highestFinalized = number;
      this.connection.setHead(number);
      this.enqueue(() => this.catchUpTo(number));
    });
    this.stopReconnect = this.connection.onReconnect(() => {
      void this.reconcile('reconnect').catch(() => undefined);
    });
    this.timer = setInterval(() => {
      void this.reconcile('interval').catch(() => undefined);
    }, this.reconcileIntervalMs);
    this.timer.unref();
  }

  /**
   * Reads the pending requests from storage and hands them to the handler (queued). Asks made while
   * one is queued and not yet begun (a timer tick during a reconnect) are answered by that one.
   */
  reconcile(reason: string): Promise<number> {
    if (this.queuedReconcile) return this.queuedReconcile;
    let pending = 0;
    const run = this.enqueue(async () => {
      this.queuedReconcile = undefined;
      pending = await this.reconcileNow(reason);
    }).then(() => pending);
    this.queuedReconcile = run;
    return run;
  }

  /**
   * Returns how many requests are pending on chain. Storage is read at the endpoint's finalized
   * block, and only when that block is not behind one already seen: after a failover to a node
   * that lags, its storage would say that requests were never made, and they would be closed.
   */
  private async reconcileNow(reason: string): Promise<number> {
    const api = this.connection.api;
    const head = await api.rpc.chain.getFinalizedHead();
    const number = (await api.rpc.chain.getHeader(head)).number.toNumber();
    if (this.highestFinalized !== undefined && number < this.highestFinalized) {
      this.log.error(
        { reason, endpoint: this.connection.status().endpoint, head: number, seen: this.highestFinalized },
        'chain endpoint is behind blocks already seen; not reconciling with it, trying another',
      );
      await this.connection.failover();
      return 0;
    }
    this.highestFinalized = number;
    const pending = await readPendingAccounts(await api.at(head), this.registrarIndex);
    this.log.info({ reason, pending: pending.length, block: number }, 'reconciling with chain storage');
    await this.handler.reconcile(pending);
    return pending.length;
  }

  /** Resolves once everything queued so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.stopReconnect?.();
    clearInterval(this.timer);
    await this.queue;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped) return;
      await work();
    });
    this.queue = run.catch((error: unknown) => {
      this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'watcher step failed');
    });
    return run;
  }

  private async catchUpTo(number: number): Promise<void> {
    const from = this.lastBlock === undefined ? number : this.lastBlock + 1;
    if (number < from) return;
    if (number - from >= MAX_BACKFILL) {
      this.log.warn({ from, to: number }, 'too many blocks missed to read one by one; reconciling instead');
      this.lastBlock = number;
      await this.reconcileNow('blocks missed');
      return;
    }
    for (let n = from; n <= number; n++) {
      await this.processBlock(n);
      this.lastBlock = n;
    }
  }

  private async processBlock(number: number): Promise<void> {
    const api = this.connection.api;
    const blockHash = await api.rpc.chain.getBlockHash(number);
    const at = await api.at(blockHash);
    const records = (await at.query.system.events()) as unknown as EventRecordLike[];
    for (const { event } of records) {
      if (event.section !== 'identity') continue;
      const spec = EVENTS[event.method];
      if (!spec) continue;
      const data = namedData(event.data);
      const observed: RegistrarEvent = {
        kind: spec.kind,
        account: String(data[spec.account]),
        blockHash: blockHash.toHex(),
        blockNumber: number,
      };
      await this.observe?.(observed);
      if (spec.indexed && Number(data.registrarIndex) !== this.registrarIndex) continue;
      await this.handler.onEvent(observed);
    }
  }
}

function namedData(data: Codec[] & { names?: string[] | null }): Record<string, string> {
  const names = data.names ?? [];
  return Object.fromEntries(names.map((name, i) => [name, data[i]?.toString() ?? '']));
}
