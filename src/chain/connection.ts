/**
 * One @polkadot/api connection over a list of endpoints. When the socket drops, the provider
 * retries on the next endpoint of the list after `retryMs`, cycling; @polkadot/api resubscribes
 * its subscriptions once connected again. This class reports the state and tells listeners about
 * every reconnect, so the watcher can reconcile what it may have missed.
 */
// Typed query/tx decorations (declarations only; the runtime's own metadata decides at run time).

import { ApiPromise, WsProvider } from '@polkadot/api';
import type {} from '@polkadot/api-augment';
import type { Logger } from '../log.js';

export interface ConnectionState {
  connected: boolean;
  endpoint: string | undefined;
  head: number | undefined;
  since: number;
}

export class ChainConnection {
  private state: ConnectionState = {
    connected: false,
    endpoint: undefined,
    head: undefined,
    since: Date.now(),
  };
  private readonly reconnectListeners = new Set<() => void>();
  private everConnected = false;

  private constructor(
    readonly api: ApiPromise,
    private readonly provider: WsProvider,
    private readonly log: Logger,
  ) {}

  /** Connects to the first endpoint that answers, in turn; rejects after `timeoutMs` without any. */
  static async open(
    endpoints: string[],
    log: Logger,
    options: { retryMs?: number; timeoutMs?: number } = {},
  ) {
    const provider = new WsProvider(endpoints, options.retryMs ?? 2_000);
    const api = new ApiPromise({ provider, noInitWarn: true, throwOnConnect: false });
    // @polkadot/api rejects this promise when the first endpoint is down; the provider goes on.
    api.isReadyOrError.catch(() => undefined);
    const connection = new ChainConnection(api, provider, log);
    connection.listen();
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Not isReadyOrError: an endpoint that is down must not end the start-up while the provider
      // goes on to the next one.
      await Promise.race([
        api.isReady,
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(`no chain endpoint answered within ${timeoutMs} ms (${endpoints.join(', ')})`),
              ),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      await api.disconnect().catch(() => undefined);
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

  setHead(number: number): void {
    this.state.head = number;
  }

  async close(): Promise<void> {
    this.reconnectListeners.clear();
    await this.api.disconnect();
  }

  private listen(): void {
    this.api.on('connected', () => {
      this.state = { ...this.state, connected: true, endpoint: this.provider.endpoint, since: Date.now() };
      if (!this.everConnected) {
        this.everConnected = true;
        this.log.info({ endpoint: this.provider.endpoint }, 'chain connected');
        return;
      }
      // The provider has resubscribed by now; what happened while we were away is for the listeners.
      this.log.info({ endpoint: this.provider.endpoint }, 'chain reconnected');
      for (const listener of this.reconnectListeners) listener();
    });
    this.api.on('disconnected', () => {
      this.state = { ...this.state, connected: false, since: Date.now() };
      this.log.warn(
        { endpoint: this.provider.endpoint },
        'chain disconnected; retrying, next endpoint in turn',
      );
    });
    this.api.on('error', (error: Error) => {
      this.log.warn({ err: error.message }, 'chain connection error');
    });
  }
}
