/**
 * The website, proven by a published code (pull only: nothing is sent): the line
 * `polkadot-registrar=<code>` at https://<host>/.well-known/polkadot-registrar, or in a DNS TXT
 * record at _polkadot-registrar.<host>. The fetch is HTTPS with certificate checks, follows at most
 * 3 redirects within the same site, reads at most 4 KiB, gives up after 10 s, and connects only to
 * public addresses (IPv4 outside the private, shared, metadata and reserved ranges; IPv6 global
 * unicast only): a name resolving to any other is refused, and the address checked is the one
 * connected to (no second look-up to rebind).
 */
import { Resolver } from 'node:dns/promises';
import { request } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { ChannelMeans } from '../domain/answers.js';
import type { CheckAnswer } from '../domain/sweep.js';
import { proofLine } from './account.js';
import type { ChallengeMessage, Channel, PageChallenge, PageProof, RecheckedProof } from './channel.js';

export const WEB_PROOF_PATH = '/.well-known/polkadot-registrar';
export const WEB_PROOF_LABEL = '_polkadot-registrar';
const MAX_REDIRECTS = 3;
const MAX_BODY = 4 * 1024;
const TIMEOUT_MS = 10_000;

export interface WebSettings {
  /** DNS servers (host or host:port) to ask; the system's when empty. */
  dnsServers: string[];
  /** Tests only: allow names that resolve to loopback addresses. */
  allowLoopback: boolean;
}

/**
 * IPv4 addresses no published proof may live at: the registrar's own network, the cloud's metadata,
 * shared, documentation, benchmarking, multicast and reserved ranges.
 */
function blockedV4(allowLoopback: boolean): BlockList {
  const list = new BlockList();
  const v4: [string, number][] = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  if (!allowLoopback) v4.push(['127.0.0.0', 8]);
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  return list;
}

/** IPv6 global unicast (2000::/3): the only IPv6 addresses a published proof may live at... */
const GLOBAL_UNICAST: [string, number] = ['2000::', 3];
/** ...but for these within it, which tunnel to other addresses or are not for the internet. */
const NOT_GLOBAL_V6: [string, number][] = [
  ['2001::', 32], // Teredo: tunnels to an IPv4 address of its choosing
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:20::', 28], // ORCHIDv2
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: tunnels to the IPv4 address inside it
  ['3fff::', 20], // documentation
];

function globalV6(): { global: BlockList; except: BlockList } {
  const global = new BlockList();
  global.addSubnet(GLOBAL_UNICAST[0], GLOBAL_UNICAST[1], 'ipv6');
  const except = new BlockList();
  for (const [net, prefix] of NOT_GLOBAL_V6) except.addSubnet(net, prefix, 'ipv6');
  return { global, except };
}

/** A fetch refused or answered without the file. `definite`: the site answered that it has none (404, 410). */
class Refused extends Error {
  constructor(
    message: string,
    readonly definite = false,
  ) {
    super(message);
  }
}

/** Same site: the same host, or one is the `www.` of the other. */
const sameSite = (a: string, b: string) => a === b || a === `www.${b}` || b === `www.${a}`;

export class WebChannel implements Channel {
  readonly field = 'web' as const;
  readonly means: readonly ChannelMeans[] = ['published'];
  readonly messages = false;
  readonly page = 'web' as const;
  readonly path = WEB_PROOF_PATH;
  readonly label = WEB_PROOF_LABEL;
  private readonly resolver = new Resolver({ timeout: 3_000, tries: 2 });
  private readonly blockedV4: BlockList;
  private readonly v6 = globalV6();
  private readonly allowLoopback: boolean;

  constructor(settings: WebSettings) {
    if (settings.dnsServers.length > 0) this.resolver.setServers(settings.dnsServers);
    this.blockedV4 = blockedV4(settings.allowLoopback);
    this.allowLoopback = settings.allowLoopback;
  }

  async send(_message: ChallengeMessage): Promise<void> {}

  /** Looks for the challenge's code in DNS, then at the site. Never throws. */
  async check(c: PageChallenge & { ok: true }): Promise<PageProof> {
    const look = await this.look(c.subject, proofLine(c));
    if (look.found) return { ok: true, subject: c.subject };
    return {
      ok: false,
      message: `The code was not found: ${look.reasons.join('; ')}. Publish the line exactly as shown and check again.`,
    };
  }

  /**
   * The sweep: is the judged line still published? Gone only when DNS and the site both answered
   * without it (no such TXT record or one without the line; the file missing, or without the line);
   * a timeout, a refused connection or a server error is no answer, and changes nothing.
   */
  async recheck(proof: RecheckedProof): Promise<CheckAnswer> {
    if (proof.nonce === undefined)
      return { kind: 'unknown', reason: 'no published line was kept for this proof' };
    const look = await this.look(proof.subject, proofLine({ account: proof.account, nonce: proof.nonce }));
    if (look.found) return { kind: 'holds' };
    const reason = `${look.reasons.join('; ')}`;
    return look.definite ? { kind: 'gone', reason } : { kind: 'unknown', reason };
  }

  /**
   * Looks for `wanted` in the TXT record, then in the file. `definite`: both said it is not there
   * (rather than failing to answer).
   */
  private async look(
    host: string,
    wanted: string,
  ): Promise<{ found: boolean; definite: boolean; reasons: string[] }> {
    const reasons: string[] = [];
    let dnsDefinite = false;
    try {
      const records = await this.resolver.resolveTxt(`${WEB_PROOF_LABEL}.${host}`);
      // A record's strings are one text (long values are split into 255-byte strings).
      if (records.some((strings) => strings.join('').trim() === wanted))
        return { found: true, definite: true, reasons };
      reasons.push(`the TXT record at ${WEB_PROOF_LABEL}.${host} does not hold the line`);
      dnsDefinite = true;
    } catch (error) {
      reasons.push(`there is no TXT record at ${WEB_PROOF_LABEL}.${host}`);
      // NXDOMAIN or no TXT data is an answer; a timeout or a server failure is none.
      const code = (error as NodeJS.ErrnoException).code;
      dnsDefinite = code === 'ENOTFOUND' || code === 'ENODATA';
    }
    let siteDefinite = false;
    try {
      const body = await this.fetchProof(host);
      if (body.split(/\r?\n/).some((line) => line.trim() === wanted))
        return { found: true, definite: true, reasons };
      reasons.push(`https://${host}${WEB_PROOF_PATH} does not hold the line`);
      siteDefinite = true;
    } catch (error) {
      reasons.push(
        error instanceof Refused ? error.message : `https://${host}${WEB_PROOF_PATH} could not be read`,
      );
      siteDefinite = error instanceof Refused && error.definite;
    }
    return { found: false, definite: dnsDefinite && siteDefinite, reasons };
  }

  private async fetchProof(host: string): Promise<string> {
    let url = new URL(`https://${host}${WEB_PROOF_PATH}`);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const answer = await this.get(url);
      if (answer.location === undefined) return answer.body;
      const next = new URL(answer.location, url);
      if (next.protocol !== 'https:') throw new Refused(`${url.href} redirects away from HTTPS`);
      if (!sameSite(next.hostname, host)) throw new Refused(`${url.href} redirects to another site`);
      url = next;
    }
    throw new Refused(`https://${host}${WEB_PROOF_PATH} redirects more than ${MAX_REDIRECTS} times`);
  }

  /** Resolves with the registrar's resolver and refuses addresses that are not public. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    const all = (options as { all?: boolean }).all === true;
    this.publicAddresses(hostname).then(
      (addresses) => {
        if (all) (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 4),
    );
  };

  private async publicAddresses(hostname: string): Promise<{ address: string; family: number }[]> {
    if (isIP(hostname)) throw new Refused('the site is an IP address, not a name');
    // The name's servers answering that it has no address (an expired domain) is an answer; a
    // look-up that timed out or failed is none.
    let answered = true;
    const resolve = (lookUp: Promise<string[]>) =>
      lookUp.catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTFOUND' && error.code !== 'ENODATA') answered = false;
        return [] as string[];
      });
    const [v4, v6] = await Promise.all([
      resolve(this.resolver.resolve4(hostname)),
      resolve(this.resolver.resolve6(hostname)),
    ]);
    const addresses = [
      ...v4.map((address) => ({ address, family: 4 })),
      ...v6.map((address) => ({ address, family: 6 })),
    ];
    if (addresses.length === 0) throw new Refused(`${hostname} has no address in DNS`, answered);
    if (addresses.some((a) => this.isBlocked(a.address, a.family))) {
      throw new Refused(
        `${hostname} resolves to a private or local address, which the registrar does not fetch`,
      );
    }
    return addresses;
  }

  /**
   * IPv4: anything but the blocked ranges. IPv6: global unicast only, so that IPv4-mapped or
   * -compatible forms, NAT64, 6to4, Teredo, site-local and unique-local addresses never reach the
   * registrar's own network by another spelling.
   */
  private isBlocked(address: string, family: number): boolean {
    if (family === 4) return this.blockedV4.check(address, 'ipv4');
    if (this.allowLoopback && address === '::1') return false;
    return !this.v6.global.check(address, 'ipv6') || this.v6.except.check(address, 'ipv6');
  }

  private get(url: URL): Promise<{ body: string; location?: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: 'GET', lookup: this.lookup, headers: { accept: 'text/plain' } },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location) {
            res.resume();
            resolve({ body: '', location: res.headers.location });
            return;
          }
          if (status !== 200) {
            res.resume();
            reject(
              new Refused(`${url.href} answered with status ${status}`, status === 404 || status === 410),
            );
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY) {
              // Settled here: whatever the socket does next cannot make this a success.
              reject(new Refused(`${url.href} is larger than ${MAX_BODY} bytes`));
              req.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      const deadline = setTimeout(
        () => req.destroy(new Refused(`${url.href} did not answer within 10 s`)),
        TIMEOUT_MS,
      );
      req.on('close', () => clearTimeout(deadline));
      req.on('error', reject);
      req.end();
    });
  }
}
