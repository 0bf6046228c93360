/**
 * A WebSocket relay in front of a local chain whose finality trails its best block by `lag` blocks,
 * as it does on the live People chains (chopsticks finalizes every block it builds at once). Every
 * JSON-RPC message passes through unchanged except the finalized head: `chain_getFinalizedHead`
 * answers the canonical block `lag` below the best one, and each `chain_finalizedHead` notification
 * carries that block's header instead. For the tests and the benchmarks only.
 */
import { WebSocket, WebSocketServer } from 'ws';

interface RpcMessage {
  id?: number | string;
  method?: string;
  params?: { subscription?: string; result?: unknown };
  result?: unknown;
  error?: unknown;
}

interface Header {
  number: string;
}

const FINALIZED_HEAD = new Set(['chain_getFinalizedHead', 'chain_getFinalisedHead']);

/** A request the chain answered through the relay: when it was passed on and when answered. */
export interface RelayedCall {
  method: string;
  params: unknown;
  sentAt: number;
  answeredAt: number;
}

export class FinalityRelay {
  private readonly sockets = new Set<WebSocket>();
  private control: RpcClient | undefined;

  private constructor(
    private readonly server: WebSocketServer,
    readonly port: number,
    private readonly upstream: string,
    /** How many blocks finality trails the best block. */
    public lag: number,
    /** Told of every request the chain answered (the benchmarks time the node with it). */
    private readonly observe?: (call: RelayedCall) => void,
  ) {}

  static async start(
    upstream: string,
    lag: number,
    observe?: (call: RelayedCall) => void,
  ): Promise<FinalityRelay> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const relay = new FinalityRelay(server, address.port, upstream, lag, observe);
    relay.control = await RpcClient.open(upstream);
    server.on('connection', (client) => relay.serve(client));
    return relay;
  }

  get endpoint(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** The number of the block this relay calls finalized now. */
  async finalizedNumber(): Promise<number> {
    const header = (await this.rpc('chain_getHeader', [await this.finalizedHash()])) as Header;
    return Number.parseInt(header.number, 16);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.control?.close();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private rpc(method: string, params: unknown[]): Promise<unknown> {
    if (!this.control) throw new Error('relay not started');
    return this.control.call(method, params);
  }

  private async finalizedHash(): Promise<string> {
    const best = (await this.rpc('chain_getHeader', [])) as Header;
    const number = Math.max(0, Number.parseInt(best.number, 16) - this.lag);
    return (await this.rpc('chain_getBlockHash', [number])) as string;
  }

  private serve(client: WebSocket): void {
    const upstream = new WebSocket(this.upstream);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const early: string[] = [];
    const inFlight = new Map<number | string, Omit<RelayedCall, 'answeredAt'>>();
    // One chain of work per direction keeps each direction's messages in order.
    let toClient = Promise.resolve();
    let toUpstream = Promise.resolve();
    const close = () => {
      client.terminate();
      upstream.terminate();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    upstream.on('open', () => {
      for (const message of early.splice(0)) upstream.send(message);
    });
    upstream.on('close', close);
    upstream.on('error', close);
    client.on('close', close);
    client.on('error', close);
    client.on('message', (data) => {
      const text = data.toString();
      toUpstream = toUpstream.then(async () => {
        const message = JSON.parse(text) as RpcMessage;
        if (message.method && FINALIZED_HEAD.has(message.method)) {
          const result = await this.finalizedHash().catch(() => undefined);
          client.send(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
          return;
        }
        if (this.observe && message.method && message.id !== undefined) {
          inFlight.set(message.id, {
            method: message.method,
            params: message.params,
            sentAt: performance.now(),
          });
        }
        if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
        else early.push(text);
      });
    });
    upstream.on('message', (data) => {
      const text = data.toString();
      toClient = toClient.then(async () => {
        const message = JSON.parse(text) as RpcMessage;
        const call = message.id !== undefined ? inFlight.get(message.id) : undefined;
        if (call && message.id !== undefined) {
          inFlight.delete(message.id);
          this.observe?.({ ...call, answeredAt: performance.now() });
        }
        if (message.method === 'chain_finalizedHead' && message.params) {
          const hash = await this.finalizedHash().catch(() => undefined);
          if (!hash) return;
          message.params.result = await this.rpc('chain_getHeader', [hash]);
          client.send(JSON.stringify(message));
          return;
        }
        client.send(text);
      });
    });
  }
}

/** A minimal JSON-RPC client over one WebSocket, for the relay's own look-ups. */
class RpcClient {
  private next = 1;
  private readonly waiting = new Map<number, (message: RpcMessage) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as RpcMessage;
      if (typeof message.id !== 'number') return;
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }

  static async open(url: string): Promise<RpcClient> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new RpcClient(socket);
  }

  call(method: string, params: unknown[]): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (message) =>
        message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result),
      );
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.socket.terminate();
  }
}
