/**
 * Turns chain activity into registrar events, through one queue, in order, never two at a time.
 *
 * What opens work is acted on at the best block: a request or an edit seen in a new best block is
 * handed over at once (opening a request and sending its challenges is safe to repeat). What closes
 * work waits for finality: cancellations, clears and judgements are handed over from finalized
 * blocks only. A best block that is retracted (a re-org) makes the accounts it touched suspect:
 * once finality passes that height they are read again from finalized storage, so a request that
 * only existed on the retracted branch is closed and one that came back stays as it was.
 *
 * Because blocks can be missed (downtime, a dropped connection), the chain is also reconciled: a
 * full, paged scan of IdentityOf at a pinned finalized block at start-up, after a reconnect, after
 * a gap and every `intervals.fullMs`; and every `intervals.openMs`, a read of just the accounts
 * with open requests.
 */
import type { Codec } from '@polkadot/types/types';
import type { Snapshot } from '../domain/request.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import type { ChainConnection } from './connection.js';
import type { ChainIdentity } from './identity.js';
import {
  AccountKeys,
  readPendingIdentities,
  readPendingOf,
  type ScanVisitor,
  type StoredIdentity,
} from './stored-identities.js';

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
  /** For a judgement of ours: the extrinsic that gave it (whose hash a submission records). */
  extrinsicHash?: string;
}

/** Which accounts a reconciliation read: all of chain storage, or just these. */
export type ReconcileScope = 'all' | readonly string[];

export interface WatcherHandler {
  onEvent(event: RegistrarEvent): Promise<void>;
  /**
   * `pending`: the accounts of `scope` whose judgement slot for our index is FeePaid, with their
   * identities, read at one finalized block. With scope 'all', every such account on chain.
   * `leaveAlone`: requests the pass must not touch: those it opened from the same read (current
   * by construction), and those whose stored value did not decode (unknown: neither closed nor
   * planned again).
   */
  reconcile(
    pending: ReadonlyMap<string, ChainIdentity>,
    scope: ReconcileScope,
    leaveAlone?: ReadonlySet<string>,
  ): Promise<void>;
  /**
   * Pending requests a full scan has found so far (one page of it), handed over before the scan
   * goes on, so that the first are opened minutes before the last on a large chain. Returns the
   * accounts it opened: `reconcile` is told of them and has nothing more to do for them.
   */
  openFound(found: ReadonlyMap<string, ChainIdentity>, provisional: boolean): Promise<string[]>;
  /**
   * The accounts with an open request, each with the snapshot it verifies: what a periodic pass
   * reads (an identity that still holds its snapshot is not decoded).
   */
  openSnapshots(): Promise<ReadonlyMap<string, Snapshot>>;
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

/** Events that open or refresh work, acted on in best blocks; the others wait for finality. */
const OPENING: ReadonlySet<RegistrarEventKind> = new Set(['requested', 'identity-set']);

/** How far back missed blocks are read one by one; beyond that reconciliation alone catches up. */
const MAX_BACKFILL = 200;
/** How many best blocks are remembered (to find where a new best block forks off). */
const BEST_WINDOW = 256;

interface EventRecordLike {
  event: { section: string; method: string; data: Codec[] & { names?: string[] | null } };
  phase: { isApplyExtrinsic: boolean; asApplyExtrinsic: { toNumber(): number } };
}

interface BlockEvents {
  /** Events naming our index or none, for the handler. */
  ours: RegistrarEvent[];
  /** Every identity event, for `observe`. */
  all: RegistrarEvent[];
}

interface HeaderLike {
  hash: { toHex(): string };
  number: { toNumber(): number };
  parentHash: { toHex(): string };
}

export class Watcher {
  private queue: Promise<void> = Promise.resolve();
  private lastBlock: number | undefined;
  private readonly unsubscribes: (() => void)[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private stopReconnect: (() => void) | undefined;
  private stopped = false;
  /** The highest finalized block seen from any endpoint: no endpoint behind it is believed. */
  private highestFinalized: number | undefined;
  /** A reconciliation queued and not yet begun: later asks join it instead of queueing another. */
  private queued: { run: Promise<number>; full: boolean } | undefined;
  /** Best blocks handled, by number: where a new best block joins them tells what was retracted. */
  private readonly best = new Map<number, string>();
  /** Accounts named by our events in a best block, by that block's hash and number. */
  private readonly touched = new Map<string, { number: number; accounts: string[] }>();
  /** Accounts touched by retracted blocks, to read again once finality passes `height`. */
  private suspects: { height: number; accounts: Set<string> } | undefined;
  /** The storage keys of the open requests' accounts, kept from one periodic pass to the next. */
  private readonly openKeys = new AccountKeys();
  /** Whether a full scan has been read to its end (the corpus saw every entry). */
  private scannedAll = false;
  /** Events of recent blocks, so a block read when it was best is not read again when final. */
  private readonly events = new Map<string, BlockEvents>();

  constructor(
    private readonly connection: ChainConnection,
    private readonly registrarIndex: number,
    private readonly handler: WatcherHandler,
    private readonly log: Logger,
    /** How often the open requests are read again, and how often every identity is scanned. */
    private readonly intervals: { openMs: number; fullMs?: number },
    /** Told of every identity event in finalized blocks, whatever registrar it names. */
    private readonly observe?: (event: RegistrarEvent) => Promise<void>,
    /** Shown every IdentityOf entry of each full scan (the display-name corpus). */
    private readonly corpus?: ScanVisitor,
  ) {}

  async start(): Promise<void> {
    const api = this.connection.api;
    const head = await api.rpc.chain.getFinalizedHead();
    this.lastBlock = (await api.rpc.chain.getHeader(head)).number.toNumber();
    this.connection.setHead(this.lastBlock);
    this.highestFinalized = this.lastBlock;
    await this.reconcile('start-up');
    this.unsubscribes.push(
      await api.rpc.chain.subscribeNewHeads((header) => {
        this.enqueue(() => this.onBest(header as unknown as HeaderLike));
      }),
    );
    this.unsubscribes.push(
      await api.rpc.chain.subscribeFinalizedHeads((header) => {
        const number = header.number.toNumber();
        // A lagging endpoint's older heads say nothing new; reconciliation refuses that endpoint.
        if (this.highestFinalized !== undefined && number < this.highestFinalized) return;
        this.highestFinalized = number;
        this.connection.setHead(number);
        this.enqueue(() => this.catchUpTo(number));
      }),
    );
    this.stopReconnect = this.connection.onReconnect(() => {
      void this.reconcile('reconnect').catch(() => undefined);
    });
    this.timers.push(
      setInterval(
        () => void this.reconcile('interval', 'open').catch(() => undefined),
        this.intervals.openMs,
      ),
    );
    // Every request arrives as an event; the daily scan is the net under anything missed unnoticed.
    if (this.intervals.fullMs) {
      this.timers.push(
        setInterval(() => void this.reconcile('daily scan').catch(() => undefined), this.intervals.fullMs),
      );
    }
    for (const timer of this.timers) timer.unref();
  }

  /**
   * Reconciles with chain storage (queued): `full` scans every identity, `open` reads only the
   * accounts with open requests. Asks made while one is queued and not yet begun join it (a full
   * ask makes it full). Resolves with the number of pending requests read.
   */
  reconcile(reason: string, kind: 'full' | 'open' = 'full'): Promise<number> {
    if (this.queued) {
      this.queued.full ||= kind === 'full';
      return this.queued.run;
    }
    let pending = 0;
    const queued = { full: kind === 'full', run: Promise.resolve(0) };
    queued.run = this.enqueue(async () => {
      this.queued = undefined;
      pending = await this.reconcileNow(reason, queued.full ? 'all' : undefined);
    }).then(() => pending);
    this.queued = queued;
    return queued.run;
  }

  /**
   * Returns how many requests are pending on chain among those read. Storage is read at the
   * endpoint's finalized block, and only when that block is not behind one already seen: after a
   * failover to a node that lags, its storage would say that requests were never made, and they
   * would be closed. `accounts`: read only these; 'all': the full scan; undefined: the open requests.
   */
  private async reconcileNow(reason: string, accounts?: ReconcileScope): Promise<number> {
    const started = Date.now();
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
    const known = accounts === undefined ? await this.handler.openSnapshots() : undefined;
    const scope: ReconcileScope = accounts ?? [...(known?.keys() ?? [])];
    const opened = new Set<string>();
    const unreadable = new Set<string>();
    const skip = (account: string, error: unknown) => {
      unreadable.add(account);
      this.log.error(
        { account, err: decodingError(error) },
        "an IdentityOf value does not decode with this runtime's types: skipped, its request left as it is",
      );
    };
    // Until one full scan has shown the look-alike corpus every entry, what it opens is provisional.
    const provisional = this.corpus !== undefined && !this.scannedAll;
    if (scope === 'all') this.corpus?.beginScan();
    const pending =
      scope === 'all'
        ? await readPendingIdentities(api, this.registrarIndex, {
            at: head.toHex(),
            visit: (entry: StoredIdentity) => this.corpus?.visit(entry),
            found: async (found) => {
              for (const account of await this.handler.openFound(found, provisional)) opened.add(account);
            },
            unreadable: skip,
            keys: this.openKeys,
          })
        : await readPendingOf(api, head.toHex(), this.registrarIndex, scope, {
            known,
            unreadable: skip,
            keys: this.openKeys,
          });
    if (scope === 'all') {
      this.scannedAll = true;
      this.corpus?.endScan();
    }
    const read = Date.now() - started;
    this.log.info(
      {
        reason,
        scope: scope === 'all' ? 'all' : scope.length,
        pending: pending.size,
        opened: opened.size,
        ...(unreadable.size > 0 ? { unreadable: unreadable.size } : {}),
        block: number,
        readMs: read,
      },
      'reconciling with chain storage',
    );
    await this.handler.reconcile(pending, scope, new Set([...opened, ...unreadable]));
    this.log.info(
      { reason, pending: pending.size, reconciled: true, ms: Date.now() - started },
      scope === 'all' ? 'full reconciliation done' : 'periodic reconciliation done',
    );
    return pending.size;
  }

  /** Resolves once everything queued so far has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    this.stopReconnect?.();
    for (const timer of this.timers) clearInterval(timer);
    await this.queue;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped) return;
      await work();
    });
    this.queue = run.catch((error: unknown) => {
      this.log.error({ err: errorText(error) }, 'watcher step failed');
    });
    return run;
  }

  /**
   * A new best block: hands over the opening events of it and of any ancestors not yet handled.
   * Where it forks off the blocks handled before, those above the fork are retracted.
   */
  private async onBest(header: HeaderLike): Promise<void> {
    const api = this.connection.api;
    const final = this.lastBlock ?? 0;
    const branch: { hash: string; number: number }[] = [];
    let hash = header.hash.toHex();
    let number = header.number.toNumber();
    let parent = header.parentHash.toHex();
    // Walk back to a block already handled (or finalized), at most MAX_BACKFILL blocks.
    while (number > final && this.best.get(number) !== hash && branch.length < MAX_BACKFILL) {
      branch.push({ hash, number });
      if (this.best.get(number - 1) === parent || number - 1 <= final) break;
      const above = await api.rpc.chain.getHeader(parent);
      hash = parent;
      number = above.number.toNumber();
      parent = above.parentHash.toHex();
    }
    if (branch.length === 0) return;
    branch.reverse();
    const forkAt = branch[0]?.number ?? 0;
    this.retractFrom(forkAt, header.number.toNumber());
    for (const block of branch) {
      const { ours } = await this.eventsOf(block.hash, block.number);
      const opening = ours.filter((e) => OPENING.has(e.kind));
      for (const event of opening) await this.handler.onEvent(event);
      this.best.set(block.number, block.hash);
      // Every event of ours counts, not just the opening ones: a judgement in a block that is then
      // retracted is no judgement, and its request (kept as judging) is read again and judged again.
      if (ours.length > 0) {
        this.touched.set(block.hash, { number: block.number, accounts: ours.map((e) => e.account) });
      }
    }
    for (const n of this.best.keys()) if (n < header.number.toNumber() - BEST_WINDOW) this.best.delete(n);
  }

  /** Best blocks from `from` up that a new branch replaces: what they touched becomes suspect. */
  private retractFrom(from: number, to: number): void {
    for (const [number, hash] of this.best) {
      if (number < from) continue;
      this.best.delete(number);
      const touched = this.touched.get(hash);
      this.touched.delete(hash);
      if (!touched) continue;
      this.log.warn(
        { block: number, accounts: touched.accounts.length },
        'best block retracted; its requests are read again once final',
      );
      const suspects = this.suspects ?? { height: 0, accounts: new Set<string>() };
      for (const account of touched.accounts) suspects.accounts.add(account);
      suspects.height = Math.max(suspects.height, to, number);
      this.suspects = suspects;
    }
  }

  private async catchUpTo(number: number): Promise<void> {
    const from = this.lastBlock === undefined ? number : this.lastBlock + 1;
    if (number < from) return;
    if (number - from >= MAX_BACKFILL) {
      this.log.warn({ from, to: number }, 'too many blocks missed to read one by one; reconciling instead');
      this.lastBlock = number;
      await this.reconcileNow('blocks missed', 'all');
      return;
    }
    for (let n = from; n <= number; n++) {
      await this.processFinalized(n);
      this.lastBlock = n;
    }
    const suspects = this.suspects;
    if (suspects && number >= suspects.height) {
      this.suspects = undefined;
      await this.reconcileNow('re-org', [...suspects.accounts]);
    }
  }

  private async processFinalized(number: number): Promise<void> {
    const api = this.connection.api;
    const blockHash = (await api.rpc.chain.getBlockHash(number)).toHex();
    const { ours, all } = await this.eventsOf(blockHash, number);
    // Opening events of a block handled when it was best were handed over then.
    const handled = this.touched.has(blockHash) || this.best.get(number) === blockHash;
    for (const event of all) await this.observe?.(event);
    for (const event of ours) {
      if (handled && OPENING.has(event.kind)) continue;
      await this.handler.onEvent(event);
    }
    this.touched.delete(blockHash);
    this.events.delete(blockHash);
    for (const [hash, touched] of this.touched) if (touched.number < number) this.touched.delete(hash);
  }

  /** The identity events of a block, read once while it is recent. */
  private async eventsOf(blockHash: string, number: number): Promise<BlockEvents> {
    const cached = this.events.get(blockHash);
    if (cached) return cached;
    const at = await this.connection.api.at(blockHash);
    const records = (await at.query.system.events()) as unknown as EventRecordLike[];
    const found: BlockEvents = { ours: [], all: [] };
    /** Our judgements, by the index of the extrinsic that gave each. */
    const judgements = new Map<RegistrarEvent, number>();
    for (const { event, phase } of records) {
      if (event.section !== 'identity') continue;
      const spec = EVENTS[event.method];
      if (!spec) continue;
      const data = namedData(event.data);
      const observed: RegistrarEvent = {
        kind: spec.kind,
        account: String(data[spec.account]),
        blockHash,
        blockNumber: number,
      };
      found.all.push(observed);
      if (spec.indexed && Number(data.registrarIndex) !== this.registrarIndex) continue;
      found.ours.push(observed);
      if (spec.kind === 'judgement-given' && phase.isApplyExtrinsic)
        judgements.set(observed, phase.asApplyExtrinsic.toNumber());
    }
    if (judgements.size > 0) {
      // The audit log names the extrinsic a judgement came from: ours, or another (one by hand).
      const { block } = await this.connection.api.rpc.chain.getBlock(blockHash);
      for (const [observed, index] of judgements)
        observed.extrinsicHash = block.extrinsics[index]?.hash.toHex();
    }
    this.events.set(blockHash, found);
    if (this.events.size > BEST_WINDOW) {
      const oldest = this.events.keys().next().value;
      if (oldest !== undefined) this.events.delete(oldest);
    }
    return found;
  }
}

function namedData(data: Codec[] & { names?: string[] | null }): Record<string, string> {
  const names = data.names ?? [];
  return Object.fromEntries(names.map((name, i) => [name, data[i]?.toString() ?? '']));
}

/** A decoding error as logged: without the bytes some codec errors quote (a value's own data). */
function decodingError(error: unknown): string {
  const message = errorText(error);
  return message.replace(/0x[0-9a-f]{8,}/gi, '0x…').slice(0, 300);
}
