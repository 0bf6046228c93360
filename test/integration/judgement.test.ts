/**
 * The registrar's core loop, end to end: the compiled daemon against a real Paseo People runtime,
 * a real SMTP server and the embedded store.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { blake2AsHex } from '@polkadot/util-crypto';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TestChain, UNIT } from '../support/chain.js';
import { type RunningDaemon, runDaemonToExit, startDaemon } from '../support/daemon.js';
import { linkIn, TestMailbox } from '../support/smtp.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const DISPLAY_AND_EMAIL = 1 | 16;
const FEE = UNIT;

let chain: TestChain;
let mailbox: TestMailbox;
let relay: TcpProxy;
let registrar: KeyringPair;
let index: number;
let dataDir: string;
let httpPort: number;
let daemon: RunningDaemon | undefined;
/** What every daemon of this file printed, for the test that reads the logs. */
let earlierOutput = '';
let people = 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function env(): Record<string, string> {
  return {
    REGISTRAR_CHAIN_ENDPOINTS: `ws://127.0.0.1:${relay.port}`,
    REGISTRAR_INDEX: String(index),
    REGISTRAR_ACCOUNT: registrar.address,
    REGISTRAR_PROXY_SEED: '//JudgementProxy',
    REGISTRAR_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
    REGISTRAR_JWT_SECRET: 'integration-test-secret-0123456789abcdef',
    REGISTRAR_STORE: `sqlite:${join(dataDir, 'registrar.sqlite')}`,
    REGISTRAR_HTTP_PORT: String(httpPort),
    REGISTRAR_SMTP_URL: mailbox.url,
    REGISTRAR_SMTP_FROM: 'Test Registrar <registrar@example.org>',
    LOG_LEVEL: 'info',
  };
}

async function newPerson(fields: Parameters<TestChain['setIdentity']>[1]): Promise<KeyringPair> {
  const person = chain.account(`//Person${++people}`);
  await chain.fund(person.address);
  await chain.setIdentity(person, fields);
  return person;
}

async function statusOf(address: string): Promise<{
  status: string;
  fields: Record<string, { status: string; reason?: string; hint?: string }>;
  blockers: { field?: string; reason: string; hint: string }[];
}> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/status/${address}`);
  return (await response.json()) as never;
}

/** The daemon works asynchronously: ask again until `probe` has an answer, within a deadline. */
async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function statusBecomes(address: string, status: string) {
  return eventually(async () => {
    const view = await statusOf(address);
    return view.status === status ? view : undefined;
  }, `status ${status} for ${address}`);
}

const confirm = (link: string) => fetch(link, { method: 'POST' });

beforeAll(async () => {
  chain = await TestChain.start({ mode: 'Instant' });
  mailbox = await TestMailbox.start();
  const [host, port] = chain.endpoint.replace('ws://', '').split(':');
  relay = await TcpProxy.start(host ?? '127.0.0.1', Number(port));
  registrar = chain.account('//JudgementRegistrar');
  const proxy = chain.account('//JudgementProxy');
  await chain.fund(registrar.address);
  await chain.fund(proxy.address);
  index = await chain.makeRegistrar(registrar, { fee: FEE, fields: DISPLAY_AND_EMAIL });
  await chain.addJudgementProxy(registrar, proxy.address);
  dataDir = mkdtempSync(join(tmpdir(), 'registrar-judgement-'));
  httpPort = await freePort();
  daemon = await startDaemon(env());
});

afterAll(() => {
  // The daemon's log, for whoever reads a failure (REGISTRAR_TEST_LOG=path).
  const logPath = process.env.REGISTRAR_TEST_LOG;
  if (logPath && daemon) writeFileSync(logPath, daemon.output());
});

afterAll(async () => {
  await daemon?.stop();
  await relay?.close();
  await mailbox?.close();
  await chain?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the judgement loop', () => {
  it('verifies display name and email and gives the judgement, paid, pinned to the identity', async () => {
    const person = await newPerson({ display: 'Happy Person', email: 'happy@example.org' });
    const registrarBefore = await chain.freeBalance(registrar.address);
    await chain.requestJudgement(person, index, 2n * FEE);

    const mail = await mailbox.nextMail('happy@example.org');
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
    // Looking at the page confirmed nothing.
    const before = await statusOf(person.address);
    expect(before.status).toBe('open');
    expect(before.fields.display?.status).toBe('confirmed');
    expect(before.fields.email?.status).toBe('awaiting');

    const confirmed = await confirm(link);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('confirmed');

    await chain.waitForEvent(
      'identity',
      'JudgementGiven',
      (e) => e.data.target === person.address && e.data.registrarIndex === index,
    );
    expect(await chain.judgementOf(person.address, index)).toBe('Reasonable');
    expect(await chain.freeBalance(registrar.address)).toBe(registrarBefore + FEE);
    await statusBecomes(person.address, 'judged');

    const again = await confirm(link);
    expect(again.status).toBe(410);
    expect(await again.text()).toContain('already used');

    // The audit log names the judgement and the exact identity it was given for.
    const store = new SqliteStore(join(dataDir, 'registrar.sqlite'));
    try {
      const entries = await eventually(async () => {
        const found = await store.listJudgements(person.address);
        return found.length > 0 ? found : undefined;
      }, 'the audit log entry');
      const registration = (await chain.api.query.identity.identityOf(person.address)).unwrap();
      expect(entries).toEqual([
        expect.objectContaining({
          account: person.address,
          registrarIndex: index,
          judgement: 'Reasonable',
          identityHash: blake2AsHex(registration.info.toU8a(), 256),
        }),
      ]);
    } finally {
      await store.close();
    }
  });

  it('reports its chain connection on /healthz', async () => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as {
      status: string;
      chain: { connected: boolean; endpoint: string; head: number };
    };
    expect(health.status).toBe('ok');
    expect(health.chain).toMatchObject({ connected: true, endpoint: `ws://127.0.0.1:${relay.port}` });
    const head = (await chain.api.rpc.chain.getHeader()).number.toNumber();
    expect(health.chain.head).toBeGreaterThan(0);
    expect(health.chain.head).toBeLessThanOrEqual(head);
  });

  it('refuses to start for an account that is not the registrar, naming the setting', async () => {
    const result = await runDaemonToExit({ ...env(), REGISTRAR_ACCOUNT: chain.alice.address });
    expect(result.code).toBe(2);
    expect(result.output).toContain(`REGISTRAR_ACCOUNT: registrar #${index} belongs to ${registrar.address}`);
    const noSuchIndex = await runDaemonToExit({ ...env(), REGISTRAR_INDEX: '99' });
    expect(noSuchIndex.code).toBe(2);
    expect(noSuchIndex.output).toContain('REGISTRAR_INDEX: registrar #99 does not exist on this chain');
  });

  it('refuses a tampered link with a clear page and changes nothing', async () => {
    const person = await newPerson({ display: 'Tamper', email: 'tamper@example.org' });
    await chain.requestJudgement(person, index, 2n * FEE);
    const link = linkIn(await mailbox.nextMail('tamper@example.org'));
    const tampered = `${link.slice(0, -3)}${link.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    for (const response of [await fetch(tampered), await confirm(tampered)]) {
      expect(response.status).toBe(410);
      expect(await response.text()).toContain('This link is not valid');
    }
    expect((await statusOf(person.address)).fields.email?.status).toBe('awaiting');
    expect((await confirm(link)).status).toBe(200);
  });

  it('re-verifies an edit: a new challenge for the new email, none accepted for the old', async () => {
    // The X/Twitter field is outside the mask, so the request cannot be judged until it is removed.
    const person = await newPerson({ display: 'Editor', email: 'old@example.org', twitter: '@editor' });
    await chain.requestJudgement(person, index, 2n * FEE);
    const oldLink = linkIn(await mailbox.nextMail('old@example.org'));
    expect((await confirm(oldLink)).status).toBe(200);

    const blocked = await statusOf(person.address);
    expect(blocked.status).toBe('open');
    expect(blocked.fields.email?.status).toBe('confirmed');
    expect(blocked.blockers).toEqual([
      expect.objectContaining({
        field: 'twitter',
        reason: 'this registrar does not verify the X/Twitter account field',
      }),
    ]);

    await chain.setIdentity(person, { display: 'Editor', email: 'new@example.org' });
    const newLink = linkIn(await mailbox.nextMail('new@example.org'));
    const edited = await statusOf(person.address);
    expect(edited.fields.email?.status).toBe('awaiting');
    expect(edited.fields.twitter).toBeUndefined();

    const refused = await confirm(oldLink);
    expect(refused.status).toBe(410);
    expect(await chain.judgementOf(person.address, index)).toBe('FeePaid');

    expect((await confirm(newLink)).status).toBe(200);
    await chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await chain.judgementOf(person.address, index)).toBe('Reasonable');
  });

  it('ends a request that is cancelled, and one whose identity is cleared, and refuses their links', async () => {
    const canceller = await newPerson({ display: 'Canceller', email: 'cancel@example.org' });
    const clearer = await newPerson({ display: 'Clearer', email: 'clear@example.org' });
    await chain.requestJudgement(canceller, index, 2n * FEE);
    await chain.requestJudgement(clearer, index, 2n * FEE);
    const cancelLink = linkIn(await mailbox.nextMail('cancel@example.org'));
    const clearLink = linkIn(await mailbox.nextMail('clear@example.org'));

    await chain.cancelRequest(canceller, index);
    await chain.clearIdentity(clearer);
    await statusBecomes(canceller.address, 'cancelled');
    await statusBecomes(clearer.address, 'cleared');

    for (const link of [cancelLink, clearLink]) {
      const page = await fetch(link);
      expect(page.status).toBe(410);
      expect(await page.text()).toContain('no longer valid');
      expect((await confirm(link)).status).toBe(410);
    }
  });

  it('tells which field blocks a request: a hashed value cannot be verified', async () => {
    const person = chain.account(`//Person${++people}`);
    await chain.fund(person.address);
    await chain.setIdentityInfo(person, {
      display: { Raw: 'Hashed Mail' },
      email: { BlakeTwo256: `0x${'11'.repeat(32)}` },
    });
    await chain.requestJudgement(person, index, 2n * FEE);
    const view = await statusBecomes(person.address, 'open');
    expect(view.blockers).toEqual([
      {
        field: 'email',
        reason: 'the email address is set as a BlakeTwo256 hash, which cannot be verified',
        hint: 'Set the email address as plain text instead of a hash.',
      },
    ]);
    expect(mailbox.mails.some((m) => m.text.includes(person.address))).toBe(false);
  });

  it('picks up requests made while it was stopped, and finishes pending ones after a restart', async () => {
    const pending = await newPerson({ display: 'Pending', email: 'pending@example.org' });
    await chain.requestJudgement(pending, index, 2n * FEE);
    const pendingLink = linkIn(await mailbox.nextMail('pending@example.org'));

    expect(await daemon?.stop()).toBe(0);
    earlierOutput += daemon?.output() ?? '';
    const offline = await newPerson({ display: 'Offline', email: 'offline@example.org' });
    await chain.requestJudgement(offline, index, 2n * FEE);
    // The first endpoint is down: the daemon fails over to the next one.
    const down = `ws://127.0.0.1:${await freePort()}`;
    daemon = await startDaemon({
      ...env(),
      REGISTRAR_CHAIN_ENDPOINTS: `${down},ws://127.0.0.1:${relay.port}`,
    });
    expect(daemon.output()).toContain(`"endpoint":"ws://127.0.0.1:${relay.port}","msg":"chain connected"`);

    const offlineLink = linkIn(await mailbox.nextMail('offline@example.org'));
    expect((await confirm(pendingLink)).status).toBe(200);
    expect((await confirm(offlineLink)).status).toBe(200);
    for (const person of [pending, offline]) {
      await chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
      expect(await chain.judgementOf(person.address, index)).toBe('Reasonable');
    }
    expect(mailbox.mailsTo('pending@example.org')).toHaveLength(1);
  });

  it('completes a request when the chain connection drops in the middle of it', async () => {
    const person = await newPerson({ display: 'Dropped', email: 'dropped@example.org' });
    await chain.requestJudgement(person, index, 2n * FEE);
    const link = linkIn(await mailbox.nextMail('dropped@example.org'));

    expect(relay.open).toBeGreaterThan(0);
    relay.cut();
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect([200, 503]).toContain(health.status);

    expect((await confirm(link)).status).toBe(200);
    await chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await chain.judgementOf(person.address, index)).toBe('Reasonable');
    expect(daemon?.output()).toContain('chain reconnected');
  });

  it('keeps secrets, email addresses and challenge tokens out of its logs', () => {
    const logs = earlierOutput + (daemon?.output() ?? '');
    expect(logs).toContain('"msg":"challenge sent"');
    for (const secret of [
      env().REGISTRAR_JWT_SECRET,
      '//JudgementProxy',
      '@example.org',
      '/confirm/',
      'eyJ',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
