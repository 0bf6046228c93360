/**
 * A website for web proofs, on this machine: a certificate from a local authority, an HTTPS server on port 443 of a loopback address, and a DNS server (dns2)
 * that answers A and TXT questions for the test's names. `pages` says what each path answers.
 * Dev mode runs the DNS server alone (port 443 needs root), with a page where a person publishes a
 * TXT record as they would at their DNS provider (`servePublishPage`).
 */
import { randomInt } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import dns2 from 'dns2';
import { escapeHtml } from '../../support/html.js';
import { type Certificates, makeCertificates } from './certificates.js';

/** What a path answers: a body, a redirect, or a body that never ends. */
export type Page =
  | { body: string }
  | { redirect: string; status?: number }
  | { bytes: number }
  | { hang: true };

export class WebSite {
  /** Path on any host → answer. */
  readonly pages = new Map<string, Page>();
  /** Name → A record. */
  readonly addresses = new Map<string, string>();
  /** Name → TXT records, each a list of strings. */
  readonly texts = new Map<string, string[][]>();
  /** Every request the site received, as host + path. */
  readonly visits: string[] = [];

  private publishPage: HttpServer | undefined;

  private constructor(
    private readonly https: Server | undefined,
    private readonly dns: ReturnType<typeof dns2.createServer>,
    readonly dnsPort: number,
    private readonly certificates: Certificates | undefined,
    /** The loopback address whose port 443 the site holds (none without HTTPS). */
    readonly address: string | undefined,
  ) {}

  get ca(): string {
    return this.certificates?.ca ?? '';
  }

  get caFile(): string {
    return this.certificates?.caFile ?? '';
  }

  /** Dev mode: the DNS server alone, answering the TXT records published on `servePublishPage`. */
  static async dnsOnly(): Promise<WebSite> {
    return WebSite.start([], false);
  }

  /**
   * A page to publish TXT records, as at a DNS provider; GET only shows. Resolves with its URL.
   */
  async servePublishPage(port = 0): Promise<string> {
    const server = createHttpServer((req, res) => {
      const answer = (status: number, html: string) =>
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      if (req.method === 'POST' && req.url === '/txt') {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          if (body.length < 8192) body += chunk.toString();
        });
        req.on('end', () => {
          const form = new URLSearchParams(body);
          const name = (form.get('name') ?? '').trim().toLowerCase().replace(/\.$/, '');
          const value = (form.get('value') ?? '').trim();
          if (!/^[a-z0-9_.-]{1,253}$/.test(name) || value.length === 0 || value.length > 255) {
            return answer(
              422,
              publishHtml(this.texts, 'Give a DNS name and a value of at most 255 characters.'),
            );
          }
          this.texts.set(name, [...(this.texts.get(name) ?? []), [value]]);
          res.writeHead(303, { location: '/' }).end();
        });
        return;
      }
      if (req.method === 'GET' && (req.url === '/' || req.url === ''))
        return answer(200, publishHtml(this.texts));
      answer(404, 'not found');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.publishPage = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /**
   * `names`: the DNS names the certificate covers (wildcards allowed); `https`: whether the site
   * serves HTTPS, on port 443 of a loopback address of its own (`address`), taken at random in
   * 127.8.0.0 - 127.254.255.255 so that test files and whole test runs side by side never meet.
   */
  static async start(names: string[], https: boolean): Promise<WebSite> {
    const certificates = https ? makeCertificates(names) : undefined;
    let site: WebSite | undefined;
    const server =
      certificates &&
      createServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
        const path = req.url ?? '/';
        site?.visits.push(`${req.headers.host}${path}`);
        const page = site?.pages.get(path);
        if (!page) return void res.writeHead(404).end('not found');
        if ('redirect' in page)
          return void res.writeHead(page.status ?? 302, { location: page.redirect }).end();
        if ('hang' in page) return;
        if ('bytes' in page)
          return void res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(page.bytes));
        res.writeHead(200, { 'content-type': 'text/plain' }).end(page.body);
      });
    const address = server ? await listenOnSomeLoopback(server) : undefined;

    const { Packet } = dns2;
    const dns = dns2.createServer({
      udp: true,
      handle: (request, send) => {
        const response = Packet.createResponseFromRequest(request);
        for (const question of request.questions) {
          const name = question.name.toLowerCase();
          const address = site?.addresses.get(name);
          if (question.type === Packet.TYPE.AAAA && address?.includes(':')) {
            response.answers.push({
              name: question.name,
              type: Packet.TYPE.AAAA,
              class: Packet.CLASS.IN,
              ttl: 1,
              address,
            });
          }
          if (question.type === Packet.TYPE.A && address && !address.includes(':')) {
            response.answers.push({
              name: question.name,
              type: Packet.TYPE.A,
              class: Packet.CLASS.IN,
              ttl: 1,
              address,
            });
          }
          if (question.type === Packet.TYPE.TXT) {
            for (const data of site?.texts.get(name) ?? []) {
              response.answers.push({
                name: question.name,
                type: Packet.TYPE.TXT,
                class: Packet.CLASS.IN,
                ttl: 1,
                data,
              });
            }
          }
        }
        send(response);
      },
    });
    const listening = await dns.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
    site = new WebSite(server, dns, listening.udp.port, certificates, address);
    return site;
  }

  async close(): Promise<void> {
    for (const server of [this.https, this.publishPage]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await this.dns.close();
    this.certificates?.remove();
  }
}

function publishHtml(texts: Map<string, string[][]>, problem = ''): string {
  const rows = [...texts]
    .flatMap(([name, records]) =>
      records.map(
        (record) =>
          `<li><code>${escapeHtml(name)}</code> TXT <code>${escapeHtml(record.join(''))}</code></li>`,
      ),
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Dev DNS: publish a TXT record</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}code{overflow-wrap:anywhere}input{width:100%;box-sizing:border-box}</style></head>
<body><h1>Dev DNS</h1>
<p>The dev mode's stand-in for your DNS provider: the registrar's web proof asks this DNS server, and
only it. Publish the record that the registrar's web page asks for, then press "Check now" there.</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/txt">
<p><label for="name">Name</label><input id="name" name="name" placeholder="_polkadot-registrar.example.org" required></p>
<p><label for="value">TXT value</label><input id="value" name="value" placeholder="polkadot-registrar=..." required></p>
<button type="submit">Publish</button></form>
<h2>Published</h2>${rows ? `<ul>${rows}</ul>` : '<p>Nothing yet.</p>'}
</body></html>`;
}

/** Listens on port 443 of a random loopback address not taken yet; resolves with the address. */
async function listenOnSomeLoopback(server: Server): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    const address = `127.${8 + randomInt(247)}.${randomInt(256)}.${1 + randomInt(254)}`;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(443, address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return address;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw error;
    }
  }
}
