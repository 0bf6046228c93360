/**
 * A daemon with every channel, for the suites that exercise every field: mask 1023, a local
 * homeserver for Matrix, an HTTPS site with its DNS for the web proof, GitHub, Discord and X
 * stand-ins for sign-ins and posts, legal name and image reviewed by the operator, the admin API on.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestHomeserver } from '../../src/dev/stand-ins/matrix-server.js';
import { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';
import { WebSite } from '../../src/dev/stand-ins/web-site.js';
import { DaemonHarness, freePort } from './harness.js';

export const EVERY_FIELD = 1023;

/** The text of an HTML fragment the pages escaped (a line to publish, a text to sign). */
export const textOfHtml = (html: string) =>
  html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

export class EveryService {
  private constructor(
    readonly h: DaemonHarness,
    readonly hs: TestHomeserver,
    readonly site: WebSite,
    readonly services: Record<'github' | 'discord' | 'x', OAuthServer>,
    readonly adminPort: number,
    readonly adminToken: string,
    private readonly trustDir: string,
  ) {}

  /** `host` is served by the site at `address` (a loopback address of its own); `env`: more settings. */
  static async start(host: string, env: Record<string, string> = {}): Promise<EveryService> {
    const hs = await TestHomeserver.start();
    const site = await WebSite.start([host], true);
    site.addresses.set(host, site.address ?? '');
    const services = {
      github: await OAuthServer.start('github'),
      discord: await OAuthServer.start('discord'),
      x: await OAuthServer.start('x'),
    };
    // One trust file: the web site's authority and the X API's.
    const trustDir = mkdtempSync(join(tmpdir(), 'registrar-every-service-'));
    const trust = join(trustDir, 'ca.pem');
    writeFileSync(trust, `${site.ca}\n${readFileSync(services.x.caFile ?? '', 'utf8')}`);
    const adminPort = await freePort();
    const adminToken = `every-service-admin-token-${process.pid}-0123456789abcdef`;
    const h = await DaemonHarness.start(EVERY_FIELD, {
      ...services.github.env(),
      ...services.discord.env(),
      ...services.x.env(),
      NODE_EXTRA_CA_CERTS: trust,
      REGISTRAR_MATRIX_HOMESERVER: hs.url,
      REGISTRAR_MATRIX_USER: hs.bot,
      REGISTRAR_MATRIX_ACCESS_TOKEN: hs.token,
      REGISTRAR_MATRIX_DEVICE_ID: 'REGISTRARBOT',
      REGISTRAR_WEB_DNS_SERVERS: `127.0.0.1:${site.dnsPort}`,
      REGISTRAR_WEB_ALLOW_LOOPBACK: 'true',
      REGISTRAR_REVIEW_FIELDS: 'legal,image',
      REGISTRAR_ADMIN_TOKEN: adminToken,
      REGISTRAR_ADMIN_PORT: String(adminPort),
      // The shortest time between two automatic looks for a published line.
      REGISTRAR_RECHECK_SECONDS: '10',
      ...env,
    });
    return new EveryService(h, hs, site, services, adminPort, adminToken, trustDir);
  }

  /** The operator's review of `field` through the admin API, as `registrar review` sends it. */
  review(body: Record<string, string | undefined>): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.adminPort}/admin/review`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async close(): Promise<void> {
    await this.h.close();
    await this.hs.close();
    await this.site.close();
    for (const service of Object.values(this.services)) await service.close();
    rmSync(this.trustDir, { recursive: true, force: true });
  }
}
