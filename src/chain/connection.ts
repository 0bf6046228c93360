/**
 * One @polkadot/api connection over a list of endpoints. When the socket drops, or an endpoint does
 * not answer, it tries the next endpoint of the list after a delay that doubles with each failed
 * attempt (from `minRetryMs` to `maxRetryMs`) and starts again from the shortest delay once
 * connected. @polkadot/api resubscribes its subscriptions on the new socket. This class reports the
 * state and tells listeners about every reconnect, so the watcher can reconcile what it missed.
 *
 * An endpoint is trusted only once its finalized head is checked: one behind the highest finalized
 * block seen (kept in the store, so a restart remembers it) or whose head is hours old would show
 * storage from the past, where requests were never made and judgements never given. Such an
 * endpoint is left for the next one of the list, with an error in the log.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
// Typed query/tx decorations (declarations only; the runtime's own metadata decides at run time).
import type {} from '@polkadot/api-augment';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import { readTimestamp, TIMESTAMP_NOW } from './block-time.js';

export interface ConnectionState {
  connected: boolean;
  /** Which endpoint: its place in the list and its host, never its path or credentials. */
  endpoint: string | undefined;
  head: number | undefined;
  /** When the last finalized head was seen (ms since the epoch), if any. */
  headAt?: number;
  since: number;
  /** Reconnections since start. */
  reconnects: number;
}

/**
 * A WsProvider that keeps no answers. Asked for a cache of capacity 0, @polkadot/rpc-provider 16.5
 * still caches (it reads 0 as its default of 1,024) into a cache of capacity 0 that never evicts:
 * every answer to a call made at a block hash was kept for good (a full scan's pages of keys, the
 * header of each block), seen in a heap snapshot of the daemon after a scan of 20,000 identities.
 */
export class UncachedWsProvider extends WsProvider {
  override send<T = unknown>(
    method: string,
    params: unknown[],
    _isCacheable?: boolean,
    subscription?: Parameters<WsProvider['send']>[3],
  ): Promise<T> {
    return super.send<T>(method, params, false, subscription);
  }
}

/** Where the highest finalized block seen is kept between restarts (the store), by genesis hash. */
export interface FinalizedMemory {
  highestFinalized(chain: string): Promise<number | undefined>;
  raiseFinalized(chain: string, number: number): Promise<number>;
}

export interface ConnectionOptions {
  minRetryMs?: number;
  maxRetryMs?: number;
  /** How long start-up waits for any endpoint. */
  timeoutMs?: number;
  /** The highest finalized block seen, kept between restarts; without it, within this run only. */
  memory?: FinalizedMemory;
  /** An endpoint whose finalized head is older than this is not trusted. */
  maxHeadAgeMs?: number;
}

/**
 * A live People chain finalizes every few seconds; an hour without a finalized block is a node
 * that stopped following it (or a chain that halted, where nothing can be judged either).
 */
export const MAX_HEAD_AGE_MS = 3_600_000;
/** The stored highest finalized block is written at most this often (each write is a sync). */
const REMEMBER_EVERY_MS = 10_000;

/** An endpoint's finalized head, as the trust check reads it. */
export interface FinalizedHead {
  number: number;
  /** The block's own time (Timestamp.Now), ms since the epoch; undefined if it holds none. */
  time: number | undefined;
}

/**
 * Why an endpoint whose finalized head is `head` is not to be trusted, or undefined when it may be:
 * behind the highest finalized block seen (`seen`), or older than `maxAgeMs` at `now`.
 */
export function distrust(
  head: FinalizedHead,
  seen: number | undefined,
  now: number,
  maxAgeMs: number,
): string | undefined {
  if (seen !== undefined && head.number < seen)
    return `chain endpoint is behind blocks already seen (its finalized head ${head.number}, seen ${seen})`;
  if (head.time !== undefined && now - head.time > maxAgeMs)
    return `chain endpoint's finalized head is old (block ${head.number}, ${Math.round((now - head.time) / 60_000)} minutes)`;
  return undefined;
}

export class ChainConnection {
  private state: ConnectionState = {
    connected: false,
    endpoint: undefined,
    head: undefined,
    since: Date.now(),
    reconnects: 0,
  };
  private readonly reconnectListeners = new Set<() => void>();
  private everConnected = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** The highest finalized block seen in this run, and when it was last written to `memory`. */
  private highest: { chain: string | undefined; number: number | undefined; storedAt: number } = {
    chain: undefined,
    number: undefined,
    storedAt: 0,
  };
  /** Why the last endpoint was not trusted: what start-up says if no endpoint ever is. */
  private lastDistrust: string | undefined;
  private trusted: { promise: Promise<void>; resolve: () => void };

  private constructor(
    readonly api: ApiPromise,
    private readonly provider: UncachedWsProvider,
    private readonly log: Logger,
    private readonly minRetryMs: number,
    private readonly maxRetryMs: number,
    private readonly endpoints: readonly string[],
    private readonly options: ConnectionOptions,
  ) {
    let resolve = () => {};
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.trusted = { promise, resolve };
  }

  /** Connects to the first endpoint that answers, in turn; rejects after `timeoutMs` without any. */
  static async open(
    endpoints: string[],
    log: Logger,
    options: ConnectionOptions = {},
  ): Promise<ChainConnection> {
    // autoConnect off: the retries, and their backoff, are ours. No response cache in the provider,
    // and a small one of decoded storage values in @polkadot/api (102,400 by default, 30 s each):
    // a scan of every identity would otherwise keep each one it decoded, over 100 MiB at 50,000.
    const provider = new UncachedWsProvider(endpoints, false, {}, undefined, 0);
    const api = new ApiPromise({ provider, noInitWarn: true, throwOnConnect: false, rpcCacheCapacity: 64 });
    // @polkadot/api rejects this promise when the first endpoint is down; we go on to the next.
    api.isReadyOrError.catch(() => undefined);
    const connection = new ChainConnection(
      api,
      provider,
      log,
      options.minRetryMs ?? 500,
      options.maxRetryMs ?? 30_000,
      endpoints,
      options,
    );
    connection.listen();
    connection.connect();
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([api.isReady, connection.trusted.promise]),
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `no chain endpoint answered within ${timeoutMs} ms (${endpoints.map((_, i) => endpointName(endpoints, i)).join(', ')})${connection.lastDistrust ? `; not trusted: ${connection.lastDistrust}` : ''}`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return connection;
  }

  status(): ConnectionState {
    return { ...this.state };
  }

  /** Called after every reconnect (not the first connect). */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** A finalized head of the endpoint in use: shown, and remembered as the highest seen. */
  setHead(number: number): void {
    this.state.head = number;
    this.state.headAt = Date.now();
    this.remember(number, false);
  }

  /** Raises the highest finalized block seen; written to the store now and then (or `now`). */
  private remember(number: number, now: boolean): void {
    const { highest } = this;
    if (highest.number !== undefined && number <= highest.number) return;
    highest.number = number;
    const { memory } = this.options;
    if (!memory || highest.chain === undefined) return;
    if (!now && Date.now() - highest.storedAt < REMEMBER_EVERY_MS) return;
    highest.storedAt = Date.now();
    memory.raiseFinalized(highest.chain, number).catch((error: unknown) => {
      this.log.warn({ err: errorText(error) }, 'could not store the highest finalized block seen');
    });
  }

  /**
   * Reads the new endpoint's finalized head, straight from the socket (the API may not be ready
   * yet), and trusts the endpoint only if it is not behind the highest finalized block seen, in
   * this run or stored by one before, and not hours old.
   */
  private async vet(): Promise<boolean> {
    const send = <T>(method: string, params: unknown[]) => this.provider.send<T>(method, params);
    const chain = await send<string>('chain_getBlockHash', [0]);
    const hash = await send<string>('chain_getFinalizedHead', []);
    const header = await send<{ number: string }>('chain_getHeader', [hash]);
    const stamp = await send<string | null>('state_getStorage', [TIMESTAMP_NOW, hash]);
    const head: FinalizedHead = {
      number: Number.parseInt(header.number, 16),
      time: stamp ? readTimestamp(stamp) : undefined,
    };
    if (this.highest.chain !== chain) this.highest = { chain, number: undefined, storedAt: 0 };
    const stored = await this.options.memory?.highestFinalized(chain);
    const seen = Math.max(stored ?? -1, this.highest.number ?? -1);
    const reason = distrust(
      head,
      seen < 0 ? undefined : seen,
      Date.now(),
      this.options.maxHeadAgeMs ?? MAX_HEAD_AGE_MS,
    );
    if (reason) {
      this.lastDistrust = `${this.endpointName()}: ${reason}`;
      this.log.error(
        { endpoint: this.endpointName(), head: head.number, seen: seen < 0 ? undefined : seen },
        `${reason}; not trusted, trying the next endpoint`,
      );
      return false;
    }
    if (stored !== undefined) this.highest.number = Math.max(this.highest.number ?? 0, stored);
    this.remember(head.number, true);
    return true;
  }

  private endpointName(): string {
    const endpoints = this.endpoints;
    return endpointName(endpoints, endpoints.indexOf(this.provider.endpoint));
  }

  /** Leaves this endpoint (it lags or misbehaves) for the next one of the list. */
  async failover(): Promise<void> {
    if (this.closing) return;
    this.log.warn({ endpoint: this.endpointName() }, 'leaving chain endpoint for the next');
    // The provider's 'disconnected' event schedules the connection to the next endpoint.
    await this.provider.disconnect().catch(() => undefined);
    this.scheduleRetry();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.retryTimer);
    this.reconnectListeners.clear();
    await this.api.disconnect();
  }

  /** Opens a socket to the next endpoint of the list (the provider moves along it on each call). */
  private connect(): void {
    this.provider.connect().catch((error: unknown) => {
      this.log.warn({ err: errorText(error) }, 'chain connect failed');
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (this.closing || this.retryTimer) return;
    const delay = Math.min(this.maxRetryMs, this.minRetryMs * 2 ** this.failures);
    this.failures += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closing && !this.provider.isConnected) this.connect();
    }, delay);
  }

  /** The endpoint passed the check: connected, from now on (and the backoff starts again). */
  private onTrusted(): void {
    this.failures = 0;
    this.state = { ...this.state, connected: true, endpoint: this.endpointName(), since: Date.now() };
    this.trusted.resolve();
    if (!this.everConnected) {
      this.everConnected = true;
      this.log.info({ endpoint: this.endpointName() }, 'chain connected');
      return;
    }
    // The provider has resubscribed by now; what happened while we were away is for the listeners.
    this.state.reconnects += 1;
    this.log.info({ endpoint: this.endpointName() }, 'chain reconnected');
    for (const listener of this.reconnectListeners) listener();
  }

  private listen(): void {
    this.api.on('connected', () => {
      this.vet().then(
        (trusted) => {
          if (this.closing || !this.provider.isConnected) return;
          if (trusted) this.onTrusted();
          else void this.failover();
        },
        (error: unknown) => {
          if (this.closing) return;
          this.log.warn({ err: errorText(error) }, "could not read the chain endpoint's finalized head");
          void this.failover();
        },
      );
    });
    this.api.on('disconnected', () => {
      if (this.closing) return;
      const wasConnected = this.state.connected;
      this.state = { ...this.state, connected: false, since: Date.now() };
      this.log.warn(
        {
          endpoint: this.endpointName(),
          retryInMs: Math.min(this.maxRetryMs, this.minRetryMs * 2 ** this.failures),
        },
        wasConnected
          ? 'chain disconnected; trying the next endpoint'
          : 'chain endpoint did not answer; trying the next',
      );
      this.scheduleRetry();
    });
    this.api.on('error', (error: Error) => {
      this.log.warn({ err: errorText(error) }, 'chain connection error');
    });
  }
}

/**
 * How an endpoint is named in logs and on /healthz: `#2 rpc.example.org:443`. Endpoint URLs may
 * carry an API key in their path, query or user part; none of that is shown.
 */
export function endpointName(endpoints: readonly string[], index: number): string {
  const url = endpoints[index];
  if (url === undefined) return 'unknown';
  try {
    return `#${index + 1} ${new URL(url).host}`;
  } catch {
    return `#${index + 1}`;
  }
}
