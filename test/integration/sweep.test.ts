/**
 * The sweep on the real runtime: three websites proven and judged Reasonable, then their lines
 * taken down. The one still gone when its grace ends is given OutOfDate on chain, pinned to the
 * identity judged and in the audit log with the reason, never before the grace ends; the one
 * restored within its grace keeps its judgement; the one whose site stops answering during its
 * grace keeps it too (no OutOfDate without a definite answer). A stranger can neither start nor
 * cancel anyone's grace. The status page in its grace is looked at in Chromium, at a desktop width
 * and at 390 px. Times in seconds through the test-only settings.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { WEB_PROOF_LABEL, WEB_PROOF_PATH } from '../../src/channels/web.js';
import { linkIn } from '../../src/dev/mailbox.js';
import { WebSite } from '../../src/dev/stand-ins/web-site.js';
import type { JudgedProof } from '../../src/domain/sweep.js';
import { textOfHtml } from '../support/every-service.js';
import { confirm, DaemonHarness, eventually, FEE, freePort } from '../support/harness.js';
import { expectFits, openViewer, visit } from '../support/pages.js';

/** Display, website and email. */
const MASK = 1 + 4 + 16;
/** The email of the person whose site stays gone (judgedSite's): told of the grace there. */
const GONE_EMAIL = 'gone-site@example.org';
/** A loopback address nothing listens on (test sites take 127.8 and up): connections are refused. */
const DEAD = '127.7.0.5';
const GRACE_SECONDS = 8;
const HOSTS = { gone: 'gone.sweep.test', back: 'back.sweep.test', away: 'away.sweep.test' };
const ADMIN_TOKEN = `sweep-test-admin-token-${process.pid}-0123456789abcdef`;

let h: DaemonHarness;
let site: WebSite;
let trustDir: string;
let adminPort: number;
/** The published file's lines, by host (the site serves one file for every name). */
const lines = new Map<string, string>();

function publishFile(): void {
  site.pages.set(WEB_PROOF_PATH, { body: `${[...lines.values()].join('\n')}\n` });
}

beforeAll(async () => {
  site = await WebSite.start(Object.values(HOSTS), true);
  for (const host of Object.values(HOSTS)) site.addresses.set(host, site.address ?? '');
  trustDir = mkdtempSync(join(tmpdir(), 'registrar-sweep-'));
  writeFileSync(join(trustDir, 'ca.pem'), site.ca);
  adminPort = await freePort();
  h = await DaemonHarness.start(MASK, {
    NODE_EXTRA_CA_CERTS: join(trustDir, 'ca.pem'),
    REGISTRAR_WEB_DNS_SERVERS: `127.0.0.1:${site.dnsPort}`,
    REGISTRAR_WEB_ALLOW_LOOPBACK: 'true',
    REGISTRAR_RECHECK_JUDGED_SECONDS: '2',
    REGISTRAR_GRACE_SECONDS: String(GRACE_SECONDS),
    REGISTRAR_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRAR_ADMIN_PORT: String(adminPort),
  });
}, 180_000);

afterAll(async () => {
  await h?.close();
  await site?.close();
  if (trustDir) rmSync(trustDir, { recursive: true, force: true });
});

const judgedProof = (person: KeyringPair) =>
  h.withStore(async (store) => (await store.listJudgedProofs(person.address, h.index))[0]);

/** The proof once a check found it gone: in its grace. */
const inGrace = (person: KeyringPair) =>
  eventually(async () => {
    const proof = await judgedProof(person);
    return proof?.grace ? proof : undefined;
  }, `a grace for ${person.address}`);

/** A person whose website `host` is proven by its line (in the file, or in a TXT record) and judged. */
async function judgedSite(name: string, host: string, where: 'file' | 'txt'): Promise<KeyringPair> {
  // Every field of the mask is proven: the email too ("Gone Site": gone-site@example.org).
  const email = `${name.toLowerCase().replace(' ', '-')}@example.org`;
  const person = await h.newPerson({ display: name, web: host, email });
  await h.chain.requestJudgement(person, h.index, 2n * FEE);
  await h.statusBecomes(person.address, 'open');
  const page = await (await fetch(`${h.url}/prove/${person.address}/web`)).text();
  const line = textOfHtml(/<pre id="web-proof">([^<]+)<\/pre>/.exec(page)?.[1] ?? '');
  expect(line).toContain(person.address);
  if (where === 'file') {
    lines.set(host, line);
    publishFile();
  } else {
    site.texts.set(`${WEB_PROOF_LABEL}.${host}`, [[line]]);
  }
  expect((await fetch(`${h.url}/prove/${person.address}/web`, { method: 'POST' })).status).toBeLessThan(400);
  expect((await confirm(linkIn(await h.mailbox.nextMail(email)))).status).toBeLessThan(400);
  await h.statusBecomes(person.address, 'judged');
  expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
  return person;
}

let gone: KeyringPair;
let back: KeyringPair;
let away: KeyringPair;

describe('the sweep of judged proofs', () => {
  it('keeps, of each judgement, the website and the line it was proven by', async () => {
    gone = await judgedSite('Gone Site', HOSTS.gone, 'file');
    back = await judgedSite('Back Site', HOSTS.back, 'file');
    away = await judgedSite('Away Site', HOSTS.away, 'txt');
    for (const [person, host] of [
      [gone, HOSTS.gone],
      [back, HOSTS.back],
      [away, HOSTS.away],
    ] as const) {
      const proof = await eventually(() => judgedProof(person), `judged proof of ${host}`);
      expect(proof).toMatchObject({ field: 'web', subject: host, nonce: expect.any(String) });
      expect(proof?.grace).toBeUndefined();
    }
  });

  it('gives a grace to each proof taken down, and OutOfDate only to the one still gone at its end', async () => {
    // Every line taken down at once.
    lines.clear();
    publishFile();
    site.texts.clear();
    const graces = new Map<string, JudgedProof>();
    for (const person of [gone, back, away]) graces.set(person.address, await inGrace(person));
    // The status page says which field is no longer proven, why, and until when (JSON and HTML).
    const goneGrace0 = graces.get(gone.address)?.grace;
    const status = await h.statusOf(gone.address);
    expect(status.fields.web?.grace).toEqual(goneGrace0);
    expect(status.fields.display?.grace).toBeUndefined();
    const page = textOfHtml(
      await (await fetch(`${h.url}/status/${gone.address}`, { headers: { accept: 'text/html' } })).text(),
    );
    expect(page).toContain(
      `No longer proven (${goneGrace0?.reason}). Restore it before ${new Date(goneGrace0?.until ?? 0).toUTCString()}`,
    );
    // The person is told at the email proven with the judgement: what is gone, until when, where
    // to look; no link to confirm anything, no code.
    const notice = await h.mailbox.nextMail(GONE_EMAIL, 2);
    expect(notice.subject).toContain('website is no longer proven');
    expect(notice.text).toContain(`The proof of its website is gone: ${goneGrace0?.reason}.`);
    expect(notice.text).toContain(`Restore it before ${new Date(goneGrace0?.until ?? 0).toUTCString()}`);
    expect(notice.text).toContain(`${h.url}/status/${gone.address}`);
    expect(notice.text).not.toMatch(/\/confirm\/|code/i);
    expect(h.mailbox.mailsTo(GONE_EMAIL)).toHaveLength(2);
    // Within its grace, the second site publishes its line again; the third stops answering.
    const backGrace = graces.get(back.address)?.grace;
    expect(Date.now()).toBeLessThan(backGrace?.until ?? 0);
    lines.set(HOSTS.back, `polkadot-registrar=${back.address}:${graces.get(back.address)?.nonce}`);
    publishFile();
    site.addresses.set(HOSTS.away, DEAD);

    // A stranger can neither run the sweep nor end a grace: the admin API wants its token, and
    // the public "check" of a judged account finds no challenge to answer (410).
    expect((await fetch(`http://127.0.0.1:${adminPort}/admin/sweep`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${h.url}/prove/${gone.address}/web`, { method: 'POST' })).status).toBe(410);
    expect((await judgedProof(gone))?.grace).toEqual(graces.get(gone.address)?.grace);

    // The one still gone: OutOfDate on chain once its grace is over, not before.
    const goneGrace = graces.get(gone.address)?.grace;
    await eventually(
      async () => ((await h.chain.judgementOf(gone.address, h.index)) === 'OutOfDate' ? true : undefined),
      'OutOfDate for the site still gone',
      60_000,
    );
    // Written once the daemon sees its extrinsic included, which can be a moment after the block.
    const outOfDate = await eventually(
      () =>
        h.withStore(async (store) =>
          (await store.listJudgements(gone.address)).find((j) => j.judgement === 'OutOfDate'),
        ),
      'the OutOfDate in the audit log',
    );
    expect(outOfDate).toMatchObject({
      by: 'sweep',
      identityHash: graces.get(gone.address)?.identityHash,
      reason: expect.stringContaining('the web proof is gone'),
    });
    expect(outOfDate?.at).toBeGreaterThanOrEqual(goneGrace?.until ?? Number.POSITIVE_INFINITY);
    // Its proofs went with the judgement.
    await eventually(async () => ((await judgedProof(gone)) ? undefined : true), 'its proofs deleted');

    // The restored one: a check found it back, and its grace is gone.
    const backNow = await eventually(async () => {
      const proof = await judgedProof(back);
      return proof && !proof.grace ? proof : undefined;
    }, 'the restored proof found back');
    expect(backNow.checkedAt).toBeGreaterThan(backGrace?.since ?? Number.POSITIVE_INFINITY);
    // The unreachable one: checked after its grace ended, without an answer, and still in its grace.
    const awayGrace = graces.get(away.address)?.grace;
    const awayNow = await eventually(
      async () => {
        const proof = await judgedProof(away);
        return (proof?.checkedAt ?? 0) > (awayGrace?.until ?? Number.POSITIVE_INFINITY) ? proof : undefined;
      },
      'a check of the unreachable site after its grace ended',
      60_000,
    );
    expect(awayNow?.grace).toEqual(awayGrace);
    // And checked once more (an hour later in production; a period here) with the same answer.
    await eventually(
      async () =>
        ((await judgedProof(away))?.checkedAt ?? 0) > (awayNow?.checkedAt ?? 0) ? true : undefined,
      'another check of the unreachable site',
    );
    expect(await h.chain.judgementOf(back.address, h.index)).toBe('Reasonable');
    expect(await h.chain.judgementOf(away.address, h.index)).toBe('Reasonable');
    const judgements = await h.withStore((store) => store.listJudgements());
    expect(judgements.filter((j) => j.judgement === 'OutOfDate').map((j) => j.account)).toEqual([
      gone.address,
    ]);
    // In a browser, at a desktop width and at 390 px: the status page of the account in its grace
    // fits the screen, axe finds nothing serious, and the website's row says until when to restore it.
    const viewer = await openViewer();
    try {
      const status = `${h.url}/status/${away.address}`;
      expectFits('status-grace', await viewer.checkAtEachWidth('status-grace', visit(status)));
      const page = await viewer.browser.newPage();
      await page.goto(status);
      const row = await page.locator('tr[data-field="web"]').innerText();
      expect(row).toMatch(/^Website\s+Proof gone\s+No longer proven/);
      expect(row).toContain(`Restore it before ${new Date(awayGrace?.until ?? 0).toUTCString()}`);
      expect(await page.locator('main').innerText()).toContain(
        'Restore what is marked above to keep the judgement.',
      );
      expect(await page.locator('tr[data-field="email"]').innerText()).not.toContain('No longer proven');
    } finally {
      await viewer.close();
    }
    // The metrics count what happened.
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/registrar_sweep_outcomes_total\{outcome="out-of-date"\} 1/);
    expect(metrics).toMatch(/registrar_sweep_outcomes_total\{outcome="restored"\} 1/);
    expect(metrics).toMatch(/registrar_judged_proof_checks_total\{channel="web",answer="unknown"\} [1-9]/);
  }, 240_000);
});
