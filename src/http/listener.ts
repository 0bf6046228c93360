/**
 * The web server's socket, listening from the first moment of start-up. Until the pages are ready
 * (the chain connected, the registrar checked) every request gets a 503 that says the registrar
 * is starting, instead of a refused connection: a person clicking a link learns to come back, and
 * a supervisor sees the process alive. Nothing is read or changed meanwhile, so nothing is lost:
 * a Confirm pressed now is pressed again once the page answers.
 *
 * It imports no chain library on purpose: main.ts opens it before loading those (seconds).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { operatorInfo } from '../domain/operator.js';
import { SECURITY_HEADERS } from './headers.js';
import { type OperatorInfo, page } from './views.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** What start-up is doing, as /readyz and the starting page name it. */
export type StartupStep = 'starting' | 'connecting to the chain' | 'checking the registrar on chain';

/** How long a stop waits for open event streams (status pages left open) before ending them. */
const STREAMS_GRACE_MS = 2_000;

export class HttpListener {
  /** The pages' handler (Fastify's), given before Fastify is ready, and whether it serves yet. */
  private pages: Handler | undefined;
  private serving = false;
  private step: StartupStep = 'starting';

  private constructor(
    private readonly server: Server,
    /** Who runs the registrar, for the starting page's header (the chain's name only if configured). */
    private readonly site: OperatorInfo | undefined,
  ) {}

  /** Listens on `host`:`port` now, answering "starting" until `serve` hands over the pages. */
  static async open(options: {
    host: string;
    port: number;
    /** The registrar's index and the operator's settings (Config's `operator`). */
    operator?: {
      index: number;
      name?: string | undefined;
      contact?: string | undefined;
      chainName?: string | undefined;
    };
  }): Promise<HttpListener> {
    const server = createServer();
    const site = options.operator && operatorInfo(options.operator.index, options.operator);
    const listener = new HttpListener(server, site);
    server.on('request', (request: IncomingMessage, response: ServerResponse) =>
      listener.serving && listener.pages
        ? listener.pages(request, response)
        : listener.starting(request, response),
    );
    // As Fastify sets them on a server of its own: no slow client holds a socket forever.
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 72_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return listener;
  }

  /** The address it listens on, as `http://host:port`. */
  get url(): string {
    const { address, family, port } = this.server.address() as AddressInfo;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  }

  /** For Fastify's `serverFactory`: the socket the pages will be served on, by `handler`. */
  socketFor(handler: Handler): Server {
    this.pages = handler;
    return this.server;
  }

  startupStep(step: StartupStep): void {
    this.step = step;
  }

  /** From now on every request goes to the pages (call once Fastify is ready). */
  serve(): void {
    if (!this.pages) throw new Error('no pages to serve: build the server on this listener first');
    this.serving = true;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // A status page left open holds an event stream; its browser reconnects to whoever serves next.
    const streams = setTimeout(() => this.server.closeAllConnections(), STREAMS_GRACE_MS);
    streams.unref();
    await closed;
    clearTimeout(streams);
  }

  private starting(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    const headers = { ...SECURITY_HEADERS, 'retry-after': '5' };
    // What monitoring polls gets JSON, as it will once started; people get a page. The process is
    // alive (a liveness probe must not kill a daemon still scanning), it is just not ready yet.
    if (path === '/healthz' || path === '/readyz') {
      const live = path === '/healthz';
      const body = live
        ? { status: 'starting', step: this.step }
        : { status: 'not ready', ready: false, checks: { startup: this.step } };
      response.writeHead(live ? 200 : 503, {
        ...(live ? SECURITY_HEADERS : headers),
        'content-type': 'application/json; charset=utf-8',
      });
      response.end(JSON.stringify(body));
      return;
    }
    response.writeHead(503, { ...headers, 'content-type': 'text/html; charset=utf-8' });
    response.end(
      request.method === 'HEAD'
        ? undefined
        : page(
            'The registrar is starting',
            `<p>It answers in a moment (now: ${this.step}). Nothing you did here was lost or changed: reload this page shortly.</p>`,
            this.site,
          ),
    );
  }
}
