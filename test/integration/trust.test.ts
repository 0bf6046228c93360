/**
 * Trust that lasts, on the real runtime: one account per handle (an email address or GitHub account
 * proven for judged account A is refused for account B, allowed for a sub-identity of A, let
 * through with a log line under `warn`), sub-identities shown as such on the status page, and the anonymous whitelist (served at /whitelist.bloom,
 * written and read by `registrar whitelist`) holding the judged accounts and not the others.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { decodeAddress } from '@polkadot/util-crypto';
import { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';
import { BloomFilter } from '../../src/domain/bloom.js';
import { confirm, DaemonHarness, eventually, FEE } from '../support/harness.js';
import { signInAndConfirm } from '../support/sign-in.js';
import { linkIn } from '../support/smtp.js';

/** Display, email and GitHub. */
const MASK = 1 + 16 + 256;

let h: DaemonHarness;
let github: OAuthServer;
let dir: string;

beforeAll(async () => {
  github = await OAuthServer.start('github');
  // One mailbox gets three accounts' messages here: the message limits must not hold them.
  h = await DaemonHarness.start(MASK, {
    ...github.env(),
    REGISTRAR_MESSAGE_COOLDOWN_SECONDS: '0',
    REGISTRAR_MESSAGES_PER_TARGET_PER_DAY: '100',
  });
  dir = mkdtempSync(join(tmpdir(), 'registrar-trust-'));
}, 180_000);

afterAll(async () => {
  await h?.close();
  await github?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli.js', ...args],
      { env: { PATH: process.env.PATH ?? '', ...h.env() } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Requests a judgement for `person` and waits for its challenges. */
async function request(person: KeyringPair): Promise<void> {
  await h.chain.requestJudgement(person, h.index, 2n * FEE);
  await h.statusBecomes(person.address, 'open');
}

async function refusalOf(address: string, field: string): Promise<string> {
  return eventually(
    async () => (await h.statusOf(address)).fields[field]?.refusal?.reason,
    `${field} refusal`,
  );
}

const TAKEN = /already proven for another account/;
let a: KeyringPair;
let b: KeyringPair;
let bEmailLink: string;

describe('one account per handle', () => {
  it('refuses account B the email address and GitHub account judged account A proved, naming no account', async () => {
    a = await h.newPerson({ display: 'Handle Owner', email: 'owner@example.org', github: 'owner-gh' });
    await request(a);
    expect((await confirm(linkIn(await h.mailbox.nextMail('owner@example.org')))).status).toBe(200);
    github.user = { id: '501', name: 'owner-gh' };
    expect(await signInAndConfirm(h.url, a.address, 'github')).toBe(200);
    await h.statusBecomes(a.address, 'judged');

    // The same mailbox however it is spelled, and the same GitHub account.
    b = await h.newPerson({ display: 'Second Account', email: 'owner+two@Example.org', github: 'Owner-GH' });
    await request(b);
    bEmailLink = linkIn(await h.mailbox.nextMail('owner+two@example.org'));
    const refused = await confirm(bEmailLink);
    expect(refused.status).toBe(410);
    expect(await refused.text()).toMatch(TAKEN);
    const emailRefusal = await refusalOf(b.address, 'email');
    expect(emailRefusal).toMatch(TAKEN);
    expect(emailRefusal).not.toContain(a.address);

    // Signed in as A's GitHub account (its numeric ID) under the handle B names.
    github.user = { id: '501', name: 'Owner-GH' };
    expect(await signInAndConfirm(h.url, b.address, 'github')).toBe(410);
    expect(await refusalOf(b.address, 'github')).toMatch(TAKEN);
    const view = await h.statusOf(b.address);
    expect(view.fields.email?.status).toBe('awaiting');
    expect(view.fields.github?.status).toBe('awaiting');
    expect(await h.chain.judgementOf(b.address, h.index)).toBe('FeePaid');
    expect(h.logs()).not.toMatch(/owner@example\.org.*already proven|already proven.*owner@example/);
  });

  it('lets a sub-identity of A prove the same handles', async () => {
    const sub = h.chain.account('//HandleOwnerSub');
    await h.chain.fund(sub.address);
    await h.chain.submit(h.chain.api.tx.identity.setSubs([[sub.address, { Raw: 'ops' }]]), a);
    await h.chain.setIdentity(sub, {
      display: 'Owner Operations',
      email: 'owner@example.org',
      github: 'owner-gh',
    });
    await request(sub);
    // The second mail to that mailbox (A's was the first).
    expect((await confirm(linkIn(await h.mailbox.nextMail('owner@example.org', 2)))).status).toBe(200);
    github.user = { id: '501', name: 'owner-gh' };
    expect(await signInAndConfirm(h.url, sub.address, 'github')).toBe(200);
    await h.statusBecomes(sub.address, 'judged');
  });

  it("shows a sub-identity as such on its status page, under its judged parent, and the parent's subs", async () => {
    const sub = h.chain.account('//HandleOwnerSub');
    const treasury = h.chain.account('//HandleOwnerTreasury');
    await h.chain.submit(
      h.chain.api.tx.identity.setSubs([
        [sub.address, { Raw: 'ops' }],
        [treasury.address, { Raw: 'treasury' }],
      ]),
      a,
    );
    // A sub with no identity of its own: no request, but shown under its parent.
    const view = await h.statusOf(treasury.address);
    expect(view.status).toBe('none');
    expect(view.subOf).toEqual({ parent: a.address, name: 'treasury', parentJudgement: 'Reasonable' });
    const page = await (
      await fetch(`${h.url}/status/${treasury.address}`, { headers: { accept: 'text/html' } })
    ).text();
    expect(page).toContain('This account is a sub-identity named <strong>treasury</strong>');
    expect(page).toContain(`href="/status/${a.address}"`);
    expect(page).toContain('judged Reasonable by this registrar');
    expect(page).not.toContain('Request a judgement');

    // The judged sub with an identity of its own says whose sub it is too.
    expect((await h.statusOf(sub.address)).subOf).toMatchObject({ parent: a.address, name: 'ops' });
    // The judged parent lists its subs, with the names it gave them.
    expect((await h.statusOf(a.address)).subs).toEqual([
      { account: sub.address, name: 'ops' },
      { account: treasury.address, name: 'treasury' },
    ]);
    // An account that is nobody's sub and asked nothing: the usual "request a judgement".
    const stranger = await h.statusOf(h.chain.account('//NobodysSub').address);
    expect(stranger.subOf).toBeUndefined();
    expect(stranger.blockers[0]?.reason).toMatch(/no judgement request/);
  });

  it('lets B through under `warn`, with a log line', async () => {
    await h.restart({ REGISTRAR_ONE_ACCOUNT_PER_HANDLE: 'warn' });
    // The link refused before is still unused: refused proofs use nothing up.
    expect((await confirm(bEmailLink)).status).toBe(200);
    await eventually(
      async () => /handle already proven for another account; let through/.test(h.logs()) || undefined,
      'the warning',
    );
    expect((await h.statusOf(b.address)).fields.email?.status).toBe('confirmed');
  });
});

describe('the anonymous whitelist', () => {
  it('is served as a Bloom filter of the judged accounts, and the CLI writes and reads one', async () => {
    const stranger = h.chain.account('//NeverJudged');
    const filter = await eventually(async () => {
      const response = await fetch(`${h.url}/whitelist.bloom`);
      if (response.status !== 200) return undefined;
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      const read = BloomFilter.decode(new Uint8Array(await response.arrayBuffer()));
      return read.n === 2 ? read : undefined;
    }, 'a whitelist of the two judged accounts');
    expect(filter.has(decodeAddress(a.address))).toBe(true);
    expect(filter.has(decodeAddress(b.address))).toBe(false);
    expect(filter.has(decodeAddress(stranger.address))).toBe(false);
    expect(filter.targetRate).toBe(1e-6);
    // Caches and mirrors ask again cheaply.
    const etag = (await fetch(`${h.url}/whitelist.bloom`)).headers.get('etag') ?? '';
    expect((await fetch(`${h.url}/whitelist.bloom`, { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );

    const file = join(dir, 'whitelist.bloom');
    const exported = await cli(['whitelist', 'export', file]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(
      /2 accounts, \d+ bits \(\d+ bytes\) and \d+ hash functions: false-positive rate/,
    );
    expect(BloomFilter.decode(readFileSync(file)).has(decodeAddress(a.address))).toBe(true);
    const yes = await cli(['whitelist', 'check', a.address, '--file', file]);
    expect([yes.code, yes.stdout]).toEqual([0, expect.stringContaining('is on the whitelist')]);
    const no = await cli(['whitelist', 'check', stranger.address, '--file', file]);
    expect([no.code, no.stdout]).toEqual([1, expect.stringContaining('is not on the whitelist')]);
    // The published file names no account.
    expect(readFileSync(file).toString('latin1')).not.toContain(a.address);
  });
});
