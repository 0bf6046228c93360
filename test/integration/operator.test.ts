/**
 * The operator's CLI against the compiled daemon on the real runtime: `pending`, `status` and
 * `rescan` through the admin API, and `config check` reporting a wrong SMTP password, an
 * unreachable endpoint and a mask without an account field by the setting's name, with exit code 1.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { SqliteStore } from '../../src/store/sqlite.js';
import { cli } from '../support/cli.js';
import { confirm, DaemonHarness, FEE, freePort } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const ADMIN_TOKEN = 'operator-test-admin-token-0123456789abcdef';
let h: DaemonHarness;
let adminPort: number;

beforeAll(async () => {
  adminPort = await freePort();
  // Display, legal name and email; the legal name is reviewed by the operator.
  h = await DaemonHarness.start(1 | 2 | 16, {
    REGISTRAR_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRAR_ADMIN_PORT: String(adminPort),
    REGISTRAR_REVIEW_FIELDS: 'legal',
  });
});

afterAll(async () => {
  await h?.close();
});

describe('the registrar command', () => {
  it('lists pending requests, shows one, and rescans, through the admin API', async () => {
    const person = await h.newPerson({
      display: 'Operator View',
      email: 'operator@example.org',
      legal: 'Op View',
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await h.mailbox.nextMail('operator@example.org');

    const pending = await cli(['pending'], h.env());
    expect(pending.code).toBe(0);
    expect(pending.stdout).toMatch(/^account\s+status\s+since\s+fields/);
    expect(pending.stdout).toContain(person.address);
    expect(pending.stdout).toContain('email:awaiting');

    const status = await cli(['status', person.address, '--json'], h.env());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'open',
      fields: { email: { status: 'awaiting' } },
    });
    const none = await cli(['status', h.chain.account('//NobodyAsked').address], h.env());
    expect(none.code).toBe(3);
    // The metrics count it among the open requests, by state.
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('registrar_requests{state="open"} 1\n');
    expect(metrics).toContain('registrar_requests{state="judging"} 0\n');

    const rescan = await cli(['rescan'], h.env());
    expect(rescan.code).toBe(0);
    expect(rescan.stdout).toMatch(/Rescanned chain storage: 1 request\(s\) pending/);

    // The read-only commands need the admin API's address and token, nothing else.
    const adminOnly = { REGISTRAR_ADMIN_TOKEN: ADMIN_TOKEN, REGISTRAR_ADMIN_PORT: String(adminPort) };
    const pendingAlone = await cli(['pending', '--json'], adminOnly);
    expect(pendingAlone.code).toBe(0);
    expect(JSON.parse(pendingAlone.stdout)).toEqual([expect.objectContaining({ account: person.address })]);
    const statusAlone = await cli(['status', person.address], adminOnly);
    expect(statusAlone.code).toBe(0);
    expect(statusAlone.stdout).toContain('request: open');
    const reviewsAlone = await cli(['reviews', person.address], adminOnly);
    expect(reviewsAlone).toEqual({ code: 0, stdout: '(none)\n', stderr: '' });

    const wrongToken = await cli(['pending'], {
      ...h.env(),
      REGISTRAR_ADMIN_TOKEN: 'a-wrong-token-of-enough-length-0123456789',
    });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('REGISTRAR_ADMIN_TOKEN: the daemon refused this token');
    // The admin API is not on the public server.
    expect((await fetch(`${h.url}/admin/requests`)).status).toBe(404);
  });

  it('takes the operator review of a legal name: a rejection says why, a confirmation judges, both in the audit log', async () => {
    const rejected = await h.newPerson({ display: 'Jane Roe', email: 'jane@example.org', legal: 'Jane Roe' });
    await h.chain.requestJudgement(rejected, h.index, 2n * FEE);
    await confirm(linkIn(await h.mailbox.nextMail('jane@example.org')));
    const waiting = await h.statusBecomes(rejected.address, 'open');
    expect(waiting.blockers).toEqual([
      expect.objectContaining({
        field: 'legal',
        kind: 'wait',
        hint: expect.stringContaining('reviews this field by hand'),
      }),
    ]);
    // The field says whose move it is: the operator's, not the person's.
    expect(waiting.fields.legal).toMatchObject({
      status: 'awaiting',
      review: true,
      hint: 'The registrar checks this field by hand: there is nothing to do but wait.',
    });
    const page = await (
      await fetch(`${h.url}/status/${rejected.address}`, { headers: { accept: 'text/html' } })
    ).text();
    expect(page).toContain('Awaiting operator review');
    const no = await cli(
      [
        'review',
        rejected.address,
        'legal',
        '--reject',
        '--note',
        'it does not match the documents',
        '--by',
        'Alice Ops',
        '--identity',
        waiting.identityHash ?? '',
      ],
      h.env(),
    );
    expect(no.code).toBe(0);
    const after = await h.statusOf(rejected.address);
    expect(after.fields.legal).toMatchObject({
      status: 'failed',
      reason: 'the registrar could not verify the legal name: it does not match the documents',
    });
    expect(after.judgeable).toBe(false);

    const accepted = await h.newPerson({ display: 'John Doe', email: 'john@example.org', legal: 'John Doe' });
    await h.chain.requestJudgement(accepted, h.index, 2n * FEE);
    await confirm(linkIn(await h.mailbox.nextMail('john@example.org')));
    const looked = await h.statusBecomes(accepted.address, 'open');
    // Without saying what was reviewed, and no terminal to show it on, nothing is decided.
    const blind = await cli(['review', accepted.address, 'legal', '--confirm'], h.env());
    expect(blind.code).toBe(2);
    expect(blind.stderr).toContain('give --identity HASH or --value TEXT');
    const yes = await cli(['review', accepted.address, 'legal', '--confirm', '--value', 'John Doe'], h.env());
    expect(yes.stdout).toContain('is confirmed');
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === accepted.address);
    expect(await h.chain.judgementOf(accepted.address, h.index)).toBe('Reasonable');
    const again = await cli(
      ['review', accepted.address, 'legal', '--confirm', '--identity', looked.identityHash ?? ''],
      h.env(),
    );
    expect(again.code).toBe(1);

    // The audit log: who, what and when, for which identity; a refused review is not in it.
    const reviewsOf = async (address: string) => {
      const response = await fetch(`http://127.0.0.1:${adminPort}/admin/reviews/${address}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return ((await response.json()) as { reviews: Record<string, unknown>[] }).reviews;
    };
    const hashOf = async (address: string) =>
      (await h.chain.api.query.identity.identityOf(address)).unwrap().info.hash.toHex();
    expect(await reviewsOf(rejected.address)).toEqual([
      {
        account: rejected.address,
        registrarIndex: h.index,
        field: 'legal',
        decision: 'reject',
        reviewer: 'Alice Ops',
        identityHash: await hashOf(rejected.address),
        at: expect.any(Number),
      },
    ]);
    expect(await reviewsOf(accepted.address)).toEqual([
      expect.objectContaining({
        decision: 'confirm',
        reviewer: userInfo().username,
        identityHash: await hashOf(accepted.address),
      }),
    ]);
    // The audit log keeps no note: it went to the person, and goes with the request's data.
    expect(JSON.stringify(await reviewsOf(rejected.address))).not.toContain('documents');
    const nameless = await fetch(`http://127.0.0.1:${adminPort}/admin/review`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        account: accepted.address,
        field: 'legal',
        decision: 'confirm',
        identityHash: looked.identityHash,
      }),
    });
    expect(nameless.status).toBe(400);
  });

  it('gives Erroneous by hand only when asked twice, and the request closes', async () => {
    const person = await h.newPerson({ display: 'Bad Actor', email: 'bad@example.org', legal: 'Bad Actor' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await h.statusBecomes(person.address, 'open');
    // Without a terminal to answer the question, nothing is given.
    const unasked = await cli(['judge', person.address, 'Erroneous'], h.env());
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toContain('not confirmed; nothing was given');
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('FeePaid');
    // A judgement no operator gives is wrong usage, refused before anything is sent.
    const refused = await cli(['judge', person.address, 'Reasonable', '--yes'], h.env());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('expected one of Erroneous, OutOfDate, LowQuality');

    const given = await cli(['judge', person.address, 'Erroneous', '--yes', '--by', 'Bob Ops'], h.env());
    expect(given.code).toBe(0);
    expect(given.stdout).toContain(`Erroneous given to ${person.address}`);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Erroneous');
    await h.statusBecomes(person.address, 'judged');
    // The audit log names who gave it, as it names who reviewed.
    const log = new SqliteStore(join(h.dataDir, 'registrar.sqlite'));
    try {
      expect(await log.listJudgements(person.address)).toEqual([
        expect.objectContaining({ judgement: 'Erroneous', by: 'Bob Ops' }),
      ]);
    } finally {
      await log.close();
    }
  });

  it("runs the container image's HEALTHCHECK command as written: healthy while the daemon is", async () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const command = JSON.parse(
      /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)?.[1] ?? '[]',
    ) as string[];
    expect(command[0]).toBe('node');
    const run = (port: string) =>
      new Promise<number>((resolve) => {
        execFile(process.execPath, command.slice(1), { env: { REGISTRAR_HTTP_PORT: port } }, (error) =>
          resolve(error ? Number(error.code ?? 1) : 0),
        );
      });
    expect(await run(String(h.httpPort))).toBe(0);
    expect(await run(String(await freePort()))).toBe(1);
  });

  it('config check passes a good configuration and names each failing setting', async () => {
    const good = await cli(['config', 'check'], h.env());
    expect(good.stdout).toContain('ok    REGISTRAR_CHAIN_ENDPOINTS');
    expect(good.stdout).toContain('ok    REGISTRAR_PROXY_SEED');
    expect(good.stdout).toContain('ok    REGISTRAR_SMTP_URL');
    expect(good.code).toBe(0);

    // An SMTP server that refuses the password, and a chain endpoint nobody listens on.
    const smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    const deadPort = await freePort();
    try {
      const bad = await cli(['config', 'check'], {
        ...h.env(),
        REGISTRAR_SMTP_URL: `smtp://registrar:wrong-password@127.0.0.1:${smtpPort}`,
        REGISTRAR_CHAIN_ENDPOINTS: `ws://127.0.0.1:${deadPort},ws://127.0.0.1:${h.relay.port}`,
      });
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(
        `FAIL  REGISTRAR_CHAIN_ENDPOINTS: ws://127.0.0.1:${deadPort}: unreachable`,
      );
      expect(bad.stdout).toContain(
        `ok    REGISTRAR_CHAIN_ENDPOINTS: ws://127.0.0.1:${h.relay.port}: reachable`,
      );
      expect(bad.stdout).toContain(
        'FAIL  REGISTRAR_SMTP_URL: the SMTP server refused the user name or password',
      );
      expect(bad.stdout + bad.stderr).not.toContain('wrong-password');
    } finally {
      await new Promise((resolve) => smtp.close(() => resolve(undefined)));
    }

    // The mask holds the email address, and nothing would prove it.
    const noMail = await cli(['config', 'check'], { ...h.env(), REGISTRAR_SMTP_URL: '' });
    expect(noMail.code).toBe(1);
    expect(noMail.stdout).toContain(
      `FAIL  REGISTRAR_SMTP_URL: not set, but the on-chain mask of registrar #${h.index} holds the email address: every request that sets it would stay open`,
    );
    expect(noMail.stdout).not.toContain('ok    REGISTRAR_SMTP_URL');

    // Usage: asked for, it goes to stdout and is no error; an unknown option is wrong usage.
    const help = await cli(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: registrar <command>');
    const unknown = await cli(['pending', '--colour'], h.env());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--colour'");

    const invalid = await cli(['config', 'check'], { ...h.env(), REGISTRAR_INDEX: 'x' });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('REGISTRAR_INDEX');
  });

  it('config check fails a mask without an account field unless judging display names alone is allowed', async () => {
    // Display and legal name: no account field, so the display-name check would be all there is.
    const { registrar, index } = await h.chain.setUpRegistrar('NamesOnly', { fee: FEE, fields: 1 | 2 });
    const env = {
      ...h.env(),
      REGISTRAR_INDEX: String(index),
      REGISTRAR_ACCOUNT: registrar.address,
      REGISTRAR_PROXY_SEED: '//NamesOnlyProxy',
    };
    const refused = await cli(['config', 'check'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      `FAIL  REGISTRAR_ALLOW_DISPLAY_ONLY: the on-chain mask of registrar #${index} (display, legal) holds no account field (email, matrix, twitter, discord, github, web, pgpFingerprint), so every judgement would rest on the display-name check alone; add account fields with identity.setFields(${index}, MASK) (\`registrar mask FIELD...\` gives the MASK), or set REGISTRAR_ALLOW_DISPLAY_ONLY=true to judge on display names alone`,
    );
    // The registrar and its proxy are right all the same.
    expect(refused.stdout).toContain('ok    REGISTRAR_PROXY_SEED');

    const allowed = await cli(['config', 'check'], { ...env, REGISTRAR_ALLOW_DISPLAY_ONLY: 'true' });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(
      `ok    REGISTRAR_ALLOW_DISPLAY_ONLY: the on-chain mask of registrar #${index} (display, legal) holds no account field`,
    );
    expect(allowed.stdout).toContain('this registrar judges display names alone');

    // Under the set policy a name alone is never judged; the harness's mask has email.
    const setPolicy = await cli(['config', 'check'], { ...env, REGISTRAR_POLICY: 'set' });
    expect(setPolicy.code).toBe(0);
    expect(setPolicy.stdout).not.toContain('REGISTRAR_ALLOW_DISPLAY_ONLY');
    expect(await (await fetch(`${h.url}/`)).text()).not.toContain('judges display names alone');
  });
  it('prints the call that rotates the proxy key, which the chain accepts from the registrar', async () => {
    const next = h.chain.account('//RotatedProxy');
    const out = await cli(['proxy-rotate', next.address], h.env());
    expect(out.code).toBe(0);
    const callData = out.stdout.split('\n').find((line) => line.startsWith('0x')) ?? '';
    const call = h.chain.api.createType('Call', callData);
    expect(`${call.section}.${call.method}`).toBe('utility.batchAll');
    // Signed by the cold account, it swaps the proxies.
    await h.chain.submit(h.chain.api.tx(call), h.registrar);
    const [proxies] = (await h.chain.api.query.proxy.proxies(h.registrar.address)).toJSON() as [
      { delegate: string }[],
    ];
    expect(proxies.map((p) => h.chain.api.createType('AccountId', p.delegate).toString())).toEqual([
      h.chain.api.createType('AccountId', next.address).toString(),
    ]);
  });
});
