/**
 * The web proof against a local HTTPS site (certificate from a local authority, trusted the way
 * NODE_EXTRA_CA_CERTS trusts it) and a local DNS server: the published line is found in the file or
 * in a TXT record (its strings joined); a private or metadata address, a redirect off the site or
 * away from HTTPS, too many redirects, an oversize body, a silent server and an untrusted
 * certificate are refused with a reason, without fetching what must not be fetched.
 */
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { PageChallenge } from '../../src/channels/channel.js';
import { WEB_PROOF_PATH, WebChannel } from '../../src/channels/web.js';
import { WebSite } from '../../src/dev/stand-ins/web-site.js';

let site: WebSite;
let channel: WebChannel;
const original = getCACertificates('default');

beforeAll(async () => {
  site = await WebSite.start(['site.example.test', '*.site.example.test', 'other.example.test'], true);
  setDefaultCACertificates([...original, site.ca]);
  channel = new WebChannel({ dnsServers: [`127.0.0.1:${site.dnsPort}`], allowLoopback: true });
});
afterAll(async () => {
  setDefaultCACertificates(original);
  await site?.close();
});
beforeEach(() => {
  site.pages.clear();
  site.texts.clear();
  site.addresses.clear();
  site.visits.length = 0;
  for (const name of ['site.example.test', 'www.site.example.test', 'other.example.test']) {
    site.addresses.set(name, site.address ?? '');
  }
});

const challenge = (subject = 'site.example.test'): PageChallenge & { ok: true } => ({
  ok: true,
  challengeId: 'c1',
  account: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  field: 'web',
  label: 'website',
  subject,
  value: subject,
  issuedAt: Date.now(),
  nonce: 'ABCD2345',
});
const LINE = 'polkadot-registrar=15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5:ABCD2345';

describe('the web proof', () => {
  it('finds the line in the file at the well-known path, among other lines', async () => {
    site.pages.set(WEB_PROOF_PATH, { body: `# proofs\r\n${LINE}\n` });
    await expect(channel.check(challenge())).resolves.toEqual({ ok: true, subject: 'site.example.test' });
    expect(site.visits).toEqual([`site.example.test${WEB_PROOF_PATH}`]);
  });

  it('finds the line in a TXT record whose strings are joined, and no other', async () => {
    site.texts.set('_polkadot-registrar.site.example.test', [
      ['v=spf1 -all'],
      [LINE.slice(0, 30), LINE.slice(30)],
    ]);
    await expect(channel.check(challenge())).resolves.toEqual({ ok: true, subject: 'site.example.test' });
    // Only the whole record counts: a line split over two records is not the line.
    site.texts.set('_polkadot-registrar.site.example.test', [[LINE.slice(0, 30)], [LINE.slice(30)]]);
    const split = await channel.check(challenge());
    expect(split.ok).toBe(false);
  });

  it('does not take the line of another account, nor the nonce alone', async () => {
    const other = LINE.replace(
      '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
      '14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3',
    );
    site.pages.set(WEB_PROOF_PATH, { body: `${other}\npolkadot-registrar=ABCD2345\n` });
    site.texts.set('_polkadot-registrar.site.example.test', [[other]]);
    expect((await channel.check(challenge())).ok).toBe(false);
  });

  it('says where it looked when the line is wrong or missing', async () => {
    site.pages.set(WEB_PROOF_PATH, { body: 'polkadot-registrar=WRONG234' });
    site.texts.set('_polkadot-registrar.site.example.test', [['polkadot-registrar=WRONG234']]);
    const verdict = await channel.check(challenge());
    expect(verdict).toEqual({
      ok: false,
      message: expect.stringContaining(
        'the TXT record at _polkadot-registrar.site.example.test does not hold the line',
      ),
    });
    expect(verdict.ok === false && verdict.message).toContain(
      `https://site.example.test${WEB_PROOF_PATH} does not hold the line`,
    );
    site.pages.clear();
    const missing = await channel.check(challenge());
    expect(missing.ok === false && missing.message).toContain('answered with status 404');
  });

  it('follows a redirect within the site, and refuses one to another site, away from HTTPS, or a fourth', async () => {
    site.pages.set(WEB_PROOF_PATH, { redirect: `https://www.site.example.test/proof` });
    site.pages.set('/proof', { body: LINE });
    await expect(channel.check(challenge())).resolves.toEqual({ ok: true, subject: 'site.example.test' });

    site.pages.set(WEB_PROOF_PATH, { redirect: 'https://other.example.test/proof', status: 301 });
    const offSite = await channel.check(challenge());
    expect(offSite.ok === false && offSite.message).toContain('redirects to another site');
    expect(site.visits).not.toContain('other.example.test/proof');

    site.pages.set(WEB_PROOF_PATH, { redirect: 'http://site.example.test/proof' });
    const plain = await channel.check(challenge());
    expect(plain.ok === false && plain.message).toContain('redirects away from HTTPS');

    site.pages.set(WEB_PROOF_PATH, { redirect: '/r1' });
    site.pages.set('/r1', { redirect: '/r2' });
    site.pages.set('/r2', { redirect: '/r3' });
    site.pages.set('/r3', { redirect: '/proof' });
    const many = await channel.check(challenge());
    expect(many.ok === false && many.message).toContain('redirects more than 3 times');
    expect(site.visits.filter((v) => v.endsWith('/proof'))).toHaveLength(1);
  });

  it('refuses a body over 4 KiB', async () => {
    site.pages.set(WEB_PROOF_PATH, { bytes: 5000 });
    const verdict = await channel.check(challenge());
    expect(verdict.ok === false && verdict.message).toContain('is larger than 4096 bytes');
  });

  it('refuses names that resolve to private, link-local or metadata addresses, without connecting', async () => {
    const strict = new WebChannel({ dnsServers: [`127.0.0.1:${site.dnsPort}`], allowLoopback: false });
    site.pages.set(WEB_PROOF_PATH, { body: LINE });
    const loopback = await strict.check(challenge());
    expect(loopback.ok === false && loopback.message).toContain('resolves to a private or local address');
    for (const address of [
      '10.1.2.3',
      '192.168.1.1',
      '169.254.169.254',
      '172.16.0.9',
      '100.64.0.1',
      '198.51.100.7',
      // IPv6 that is not global unicast, or that tunnels to an IPv4 address: every spelling of "here".
      '::127.0.0.1',
      '::ffff:127.0.0.1',
      '::ffff:0:7f00:1',
      '64:ff9b::7f00:1',
      '64:ff9b:1::7f00:1',
      '2002:7f00:1::1',
      '2001:0:7f00:1::1',
      'fec0::1',
      'fd00::1',
      'fe80::1',
      '2001:db8::1',
    ]) {
      site.addresses.set('site.example.test', address);
      const verdict = await channel.check(challenge());
      expect(verdict.ok === false && verdict.message).toContain('resolves to a private or local address');
    }
    expect(site.visits).toEqual([]);
  });

  it('refuses a certificate no trusted authority issued', async () => {
    site.pages.set(WEB_PROOF_PATH, { body: LINE });
    setDefaultCACertificates(original);
    try {
      const verdict = await channel.check(challenge());
      expect(verdict.ok === false && verdict.message).toContain(
        `https://site.example.test${WEB_PROOF_PATH} could not be read`,
      );
    } finally {
      setDefaultCACertificates([...original, site.ca]);
    }
    expect(site.visits).toEqual([]);
  });

  it('gives up on a site that never answers after 10 s', async () => {
    site.pages.set(WEB_PROOF_PATH, { hang: true });
    const started = Date.now();
    const verdict = await channel.check(challenge());
    expect(verdict.ok === false && verdict.message).toContain('did not answer within 10 s');
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);
});

describe('the web proof checked again by the sweep', () => {
  const judged = (subject = 'site.example.test') => ({
    account: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
    field: 'web' as const,
    subject,
    nonce: 'ABCD2345',
  });

  it('holds while the line is in the file or in a TXT record', async () => {
    site.pages.set(WEB_PROOF_PATH, { body: LINE });
    await expect(channel.recheck(judged())).resolves.toEqual({ kind: 'holds' });
    site.pages.clear();
    site.texts.set('_polkadot-registrar.site.example.test', [[LINE]]);
    await expect(channel.recheck(judged())).resolves.toEqual({ kind: 'holds' });
  });

  it('is gone when DNS and the site both answer without the line, or the domain has no address', async () => {
    // The file taken down, no TXT record.
    const missing = await channel.recheck(judged());
    expect(missing.kind).toBe('gone');
    // The file now says something else, the TXT record too.
    site.pages.set(WEB_PROOF_PATH, { body: 'polkadot-registrar=someone-else:XYZ\n' });
    site.texts.set('_polkadot-registrar.site.example.test', [['v=spf1 -all']]);
    expect((await channel.recheck(judged())).kind).toBe('gone');
    // The domain expired: no address, no record.
    site.addresses.clear();
    site.texts.clear();
    expect((await channel.recheck(judged())).kind).toBe('gone');
  });

  it('is unknown, never gone, when the site answers nothing clear or DNS cannot be asked', async () => {
    // A redirect off the site says nothing about the line.
    site.pages.set(WEB_PROOF_PATH, { redirect: 'https://other.example.test/x' });
    expect((await channel.recheck(judged())).kind).toBe('unknown');
    // No DNS server answering at all.
    const deaf = new WebChannel({ dnsServers: ['127.0.0.1:9'], allowLoopback: true });
    site.pages.clear();
    const answer = await deaf.recheck(judged());
    expect(answer.kind).toBe('unknown');
  }, 60_000);

  it('is unknown without the published line kept (nothing to look for)', async () => {
    const { nonce: _, ...withoutNonce } = judged();
    expect((await channel.recheck(withoutNonce)).kind).toBe('unknown');
  });
});
