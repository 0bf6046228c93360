/**
 * The registrar's core loop, end to end: the compiled daemon against a real Paseo People runtime,
 * a real SMTP server and the embedded store.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { blake2AsHex, encodeAddress } from '@polkadot/util-crypto';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runDaemonToExit } from '../support/daemon.js';
import { confirm, DaemonHarness, eventually, FEE, freePort } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const DISPLAY_AND_EMAIL = 1 | 16;

let h: DaemonHarness;

beforeAll(async () => {
  h = await DaemonHarness.start(DISPLAY_AND_EMAIL);
});

afterAll(async () => {
  await h?.close();
});

describe('the judgement loop', () => {
  it('verifies display name and email and gives the judgement, paid, pinned to the identity', async () => {
    const person = await h.newPerson({ display: 'Happy Person', email: 'happy@example.org' });
    const registrarBefore = await h.chain.freeBalance(h.registrar.address);
    await h.chain.requestJudgement(person, h.index, 2n * FEE);

    const mail = await h.mailbox.nextMail('happy@example.org');
    expect(mail.from).toContain('registrar@example.org');
    expect(mail.text).toContain(person.address);
    expect(mail.text).toContain('If you did not ask for this');
    expect(mail.html).toContain('/confirm/');
    const link = linkIn(mail);

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain(person.address);
    expect(html).toContain('happy@example.org');
    expect(html).toContain('<form method="post">');
    // Looking at the page confirmed nothing. (The status also answers to the generic SS58 format.)
    const before = await h.statusOf(encodeAddress(person.publicKey, 42));
    expect(before.status).toBe('open');
    expect(before.fields.display?.status).toBe('confirmed');
    expect(before.fields.email?.status).toBe('awaiting');

    const confirmed = await confirm(link);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('confirmed');

    await h.chain.waitForEvent(
      'identity',
      'JudgementGiven',
      (e) => e.data.target === person.address && e.data.registrarIndex === h.index,
    );
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    expect(await h.chain.freeBalance(h.registrar.address)).toBe(registrarBefore + FEE);
    await h.statusBecomes(person.address, 'judged');

    const again = await confirm(link);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already used');

    // The audit log names the judgement and the exact identity it was given for.
    const store = new SqliteStore(join(h.dataDir, 'registrar.sqlite'));
    try {
      const entries = await eventually(async () => {
        const found = await store.listJudgements(person.address);
        return found.length > 0 ? found : undefined;
      }, 'the audit log entry');
      const registration = (await h.chain.api.query.identity.identityOf(person.address)).unwrap();
      expect(entries).toEqual([
        expect.objectContaining({
          account: person.address,
          registrarIndex: h.index,
          judgement: 'Reasonable',
          identityHash: blake2AsHex(registration.info.toU8a(), 256),
        }),
      ]);
      // The moments the public figures measure: the request, the mail delivered, the link confirmed.
      const { at, timing } = entries[0] as { at: number; timing?: Record<string, number> };
      expect(timing).toEqual({
        requestedAt: expect.any(Number),
        challengedAt: expect.any(Number),
        provenAt: expect.any(Number),
      });
      const { requestedAt = 0, challengedAt = 0, provenAt = 0 } = timing ?? {};
      expect(requestedAt).toBeLessThanOrEqual(challengedAt);
      expect(challengedAt).toBeLessThanOrEqual(provenAt);
      expect(provenAt).toBeLessThanOrEqual(at);
    } finally {
      await store.close();
    }
  });

  it('publishes what it verifies and how, its fee, and its figures of the last 30 days', async () => {
    // The judgement of the first test is in them.
    const response = await fetch(`${h.url}/about.json`);
    expect(response.status).toBe(200);
    const about = (await response.json()) as {
      registrar: { index: number; fee: string };
      policy: { verifies: { field: string; how: string[] }[] };
      figures: {
        requests: number;
        judgements: Record<string, number>;
        requestToChallenge: { count: number; p50Seconds: number | null };
        proofToJudgement: { count: number; p90Seconds: number | null };
        requestToJudgement: { count: number; p50Seconds: number | null };
      };
    };
    expect(about.registrar.index).toBe(h.index);
    expect(about.policy.verifies.map((v) => v.field)).toEqual(['display', 'email']);
    expect(about.policy.verifies[1]?.how.join(' ')).toContain('a link and a code sent privately');
    expect(about.figures.requests).toBeGreaterThanOrEqual(1);
    expect(about.figures.judgements.Reasonable).toBeGreaterThanOrEqual(1);
    for (const spread of [about.figures.requestToChallenge, about.figures.requestToJudgement]) {
      expect(spread.count).toBeGreaterThanOrEqual(1);
      expect(spread.p50Seconds).toBeGreaterThanOrEqual(0);
    }
    expect(about.figures.proofToJudgement.p90Seconds).toBeGreaterThanOrEqual(0);

    const page = await fetch(`${h.url}/about`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Figures of the last 30 days');
    expect(html).toContain('Reasonable: ');
    expect(html).toContain(about.registrar.fee);
    expect(await (await fetch(`${h.url}/`)).text()).toContain('href="/about"');
  });

  it('answers a status query for an unknown account with 404 and for a non-address with 400', async () => {
    const unknown = await fetch(`${h.url}/status/${h.chain.account('//NeverAsked').address}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ status: 'none' });
    expect((await fetch(`${h.url}/status/1111111111111111111111111111111111111111111111`)).status).toBe(400);
    expect((await fetch(`${h.url}/status/not-an-address`)).status).toBe(400);
  });

  it('reports its chain connection on /healthz', async () => {
    const response = await fetch(`${h.url}/healthz`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as {
      status: string;
      chain: { connected: boolean; endpoint: string; head: number };
    };
    expect(health.status).toBe('ok');
    expect(health.chain).toMatchObject({ connected: true, endpoint: `#1 127.0.0.1:${h.relay.port}` });
    const head = (await h.chain.api.rpc.chain.getHeader()).number.toNumber();
    expect(health.chain.head).toBeGreaterThan(0);
    expect(health.chain.head).toBeLessThanOrEqual(head);
  });

  it('refuses to start for a wrong registrar account, index or proxy key, naming the setting', async () => {
    // Beside the harness's daemon, so on a port of its own (a taken port ends the start first).
    const misconfigured = async (wrong: Record<string, string>) =>
      runDaemonToExit({ ...h.env(), REGISTRAR_HTTP_PORT: String(await freePort()), ...wrong });
    const result = await misconfigured({ REGISTRAR_ACCOUNT: h.chain.alice.address });
    expect(result.code).toBe(2);
    expect(result.output).toContain(
      `REGISTRAR_ACCOUNT: registrar #${h.index} belongs to ${h.registrar.address}`,
    );
    const notProxy = await misconfigured({ REGISTRAR_PROXY_SEED: '//NotTheProxy' });
    expect(notProxy.code).toBe(2);
    expect(notProxy.output).toContain(
      `REGISTRAR_PROXY_SEED: its account ${h.chain.account('//NotTheProxy').address} is not a proxy of ${h.registrar.address}`,
    );
    expect(notProxy.output).not.toContain('//NotTheProxy');
    const noSuchIndex = await misconfigured({ REGISTRAR_INDEX: '99' });
    expect(noSuchIndex.code).toBe(2);
    expect(noSuchIndex.output).toContain('REGISTRAR_INDEX: registrar #99 does not exist on this chain');
  }, 300_000);

  it('sends new links on request only when none is live: otherwise it says so, sends nothing and starts no wait', async () => {
    const person = await h.newPerson({ display: 'Resender', email: 'resend@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await h.mailbox.nextMail('resend@example.org');
    for (let i = 0; i < 2; i++) {
      // Post, redirect, get: the POST answers 303 to the status page, which says what happened.
      const asked = await fetch(`${h.url}/status/${person.address}/resend`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(asked.status).toBe(303);
      expect(asked.headers.get('location')).toBe(`/status/${person.address}?resent=valid`);
      const shown = await fetch(`${h.url}${asked.headers.get('location')}`, {
        headers: { accept: 'text/html' },
      });
      expect(await shown.text()).toContain('Nothing was sent: the links sent earlier still work.');
    }
    expect(h.mailbox.mailsTo('resend@example.org')).toHaveLength(1);
  });

  it('refuses a tampered link with a clear page and changes nothing', async () => {
    const person = await h.newPerson({ display: 'Tamper', email: 'tamper@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const link = linkIn(await h.mailbox.nextMail('tamper@example.org'));
    const tampered = `${link.slice(0, -3)}${link.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    for (const response of [await fetch(tampered), await confirm(tampered)]) {
      expect(response.status).toBe(410);
      expect(await response.text()).toContain('This link is not valid');
    }
    expect((await h.statusOf(person.address)).fields.email?.status).toBe('awaiting');
    expect((await confirm(link)).status).toBe(200);
  });

  it('re-verifies an edit: a new challenge for the new email, none accepted for the old', async () => {
    // The display name ends with a space, so the request cannot be judged until it is edited.
    const person = await h.newPerson({ display: 'Editor ', email: 'old@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const oldLink = linkIn(await h.mailbox.nextMail('old@example.org'));
    expect((await confirm(oldLink)).status).toBe(200);

    const blocked = await h.statusOf(person.address);
    expect(blocked.status).toBe('open');
    expect(blocked.fields.email?.status).toBe('confirmed');
    expect(blocked.blockers).toEqual([
      expect.objectContaining({
        field: 'display',
        reason: 'the display name starts or ends with spaces',
        kind: 'change',
      }),
    ]);

    await h.chain.setIdentity(person, { display: 'Editor', email: 'new@example.org' });
    const newLink = linkIn(await h.mailbox.nextMail('new@example.org'));
    const edited = await h.statusOf(person.address);
    expect(edited.fields.email?.status).toBe('awaiting');
    expect(edited.fields.display?.status).toBe('confirmed');

    const refused = await confirm(oldLink);
    expect(refused.status).toBe(410);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('FeePaid');

    expect((await confirm(newLink)).status).toBe(200);
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
  });

  it('ends a request that is cancelled, cleared or killed, and refuses its links', async () => {
    const canceller = await h.newPerson({ display: 'Canceller', email: 'cancel@example.org' });
    const clearer = await h.newPerson({ display: 'Clearer', email: 'clear@example.org' });
    const killed = await h.newPerson({ display: 'Killed', email: 'killed@example.org' });
    for (const person of [canceller, clearer, killed])
      await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const links = [
      linkIn(await h.mailbox.nextMail('cancel@example.org')),
      linkIn(await h.mailbox.nextMail('clear@example.org')),
      linkIn(await h.mailbox.nextMail('killed@example.org')),
    ];

    await h.chain.cancelRequest(canceller, h.index);
    await h.chain.clearIdentity(clearer);
    await h.chain.killIdentity(killed.address);
    await h.statusBecomes(canceller.address, 'cancelled');
    await h.statusBecomes(clearer.address, 'cleared');
    await h.statusBecomes(killed.address, 'cleared');

    for (const link of links) {
      const page = await fetch(link);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain('no longer valid');
      expect((await confirm(link)).status).toBe(410);
    }
  });

  it('tells which field blocks a request: a hashed value cannot be verified', async () => {
    const person = h.chain.account(`//HashedPerson`);
    await h.chain.fund(person.address);
    await h.chain.setIdentityInfo(person, {
      display: { Raw: 'Hashed Mail' },
      email: { BlakeTwo256: `0x${'11'.repeat(32)}` },
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const view = await h.statusBecomes(person.address, 'open');
    expect(view.blockers).toEqual([
      {
        field: 'email',
        reason: 'the email address is set as a BlakeTwo256 hash, which cannot be verified',
        hint: 'Set the email address as plain text instead of a hash.',
        kind: 'change',
      },
    ]);
    expect(h.mailbox.mails.some((m) => m.text.includes(person.address))).toBe(false);
  });

  it('picks up requests made while it was stopped, and finishes pending ones after a restart', async () => {
    const pending = await h.newPerson({ display: 'Pending', email: 'pending@example.org' });
    await h.chain.requestJudgement(pending, h.index, 2n * FEE);
    const pendingLink = linkIn(await h.mailbox.nextMail('pending@example.org'));

    const offline = await h.newPerson({ display: 'Offline', email: 'offline@example.org' });
    // The first endpoint is down: the daemon fails over to the next one.
    const down = `ws://127.0.0.1:${await freePort()}`;
    const exitCode = await h.restart(
      { REGISTRAR_CHAIN_ENDPOINTS: `${down},ws://127.0.0.1:${h.relay.port}` },
      () => h.chain.requestJudgement(offline, h.index, 2n * FEE).then(() => undefined),
    );
    expect(exitCode).toBe(0);
    expect(h.daemon?.output()).toContain(`"endpoint":"#2 127.0.0.1:${h.relay.port}","msg":"chain connected"`);

    const offlineLink = linkIn(await h.mailbox.nextMail('offline@example.org'));
    expect((await confirm(pendingLink)).status).toBe(200);
    expect((await confirm(offlineLink)).status).toBe(200);
    for (const person of [pending, offline]) {
      await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
      expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    }
    expect(h.mailbox.mailsTo('pending@example.org')).toHaveLength(1);
  });

  it('completes a request when the chain connection drops in the middle of it', async () => {
    const person = await h.newPerson({ display: 'Dropped', email: 'dropped@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const link = linkIn(await h.mailbox.nextMail('dropped@example.org'));

    expect(h.relay.open).toBeGreaterThan(0);
    h.relay.cut();
    // Alive whatever the chain does: the daemon reconnects by itself, a restart would not help.
    const health = await fetch(`${h.url}/healthz`);
    expect(health.status).toBe(200);

    expect((await confirm(link)).status).toBe(200);
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    expect(h.daemon?.output()).toContain('chain reconnected');
  });

  it('keeps secrets, email addresses and challenge tokens out of its logs', () => {
    const logs = h.logs();
    expect(logs).toContain('"msg":"challenge sent"');
    for (const secret of [
      h.env().REGISTRAR_JWT_SECRET,
      h.env().REGISTRAR_PROXY_SEED,
      '@example.org',
      '/confirm/',
      'eyJ',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
