/**
 * A website for web proofs, on this machine: a certificate from a local authority, an HTTPS server on port 443 of a loopback address, and a DNS server (dns2)
 * that answers A and TXT questions for the test's names. `pages` says what each path answers.
 */
import { createServer, type Server } from 'node:https';
import dns2 from 'dns2';
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

  private constructor(
    private readonly https: Server,
    private readonly dns: ReturnType<typeof dns2.createServer>,
    readonly dnsPort: number,
    private readonly certificates: Certificates,
  ) {}

  get ca(): string {
    return this.certificates.ca;
  }

  get caFile(): string {
    return this.certificates.caFile;
  }

  /**
   * `names`: the DNS names the certificate covers (wildcards allowed); `address`: the loopback
   * address whose port 443 the site takes (one per test file, which may run side by side).
   */
  static async start(names: string[], address: string): Promise<WebSite> {
    const certificates = makeCertificates(names);
    let site: WebSite | undefined;
    const https = createServer({ key: certificates.key, cert: certificates.cert }, (req, res) => {
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
    await new Promise<void>((resolve, reject) => {
      https.once('error', reject);
      https.listen(443, address, () => resolve());
    });

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
    site = new WebSite(https, dns, listening.udp.port, certificates);
    return site;
  }

  async close(): Promise<void> {
    this.https.closeAllConnections();
    await new Promise<void>((resolve) => this.https.close(() => resolve()));
    await this.dns.close();
    this.certificates.remove();
  }
}
