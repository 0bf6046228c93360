/** A TCP relay between the daemon and the chain, so a test can cut the connection under it. */
import { createServer, type Server, Socket } from 'node:net';

/**
 * relay: connections go through; hang: they are accepted and never answered (a mail server that
 * stalls); refuse: they are closed at once (an endpoint that is down).
 */
export type RelayMode = 'relay' | 'hang' | 'refuse';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  mode: RelayMode = 'relay';
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (proxy?.mode === 'refuse') {
        client.destroy();
        return;
      }
      if (proxy?.mode === 'hang') {
        proxy.sockets.add(client);
        client.on('close', () => proxy?.sockets.delete(client));
        client.on('error', () => client.destroy());
        return;
      }
      const upstream = new Socket();
      upstream.connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        proxy?.sockets.add(socket);
        socket.on('close', () => proxy?.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  /** Number of connections open through the relay right now. */
  get open(): number {
    return this.sockets.size;
  }

  /** Drops every connection; new ones are accepted again. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
