/**
 * Every field of the People identity, on the real runtime, with the registrar's mask 1023: display
 * (checked), legal name and image (the operator reviews them), website (a line published on a local
 * HTTPS site the daemon trusts through NODE_EXTRA_CA_CERTS, its name from a local DNS server, found
 * by the registrar's own periodic look),
 * Matrix (the bot, on a local homeserver), email (a real SMTP server), PGP fingerprint (a clear-signed
 * text pasted on the page), X, GitHub and Discord (signed in at local stand-ins of each service).
 * Only when the last is proven does the chain show JudgementGiven, for the identity as it was proven.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as openpgp from 'openpgp';
import type { TestHomeserver } from '../../src/dev/stand-ins/matrix-server.js';
import type { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';
import type { WebSite } from '../../src/dev/stand-ins/web-site.js';
import { EveryService, textOfHtml } from '../support/every-service.js';
import { confirm, type DaemonHarness, eventually, FEE } from '../support/harness.js';
import { signInAndConfirm } from '../support/sign-in.js';
import { linkIn } from '../support/smtp.js';

let every: EveryService;
let h: DaemonHarness;
let hs: TestHomeserver;
let site: WebSite;
let services: Record<'github' | 'discord' | 'x', OAuthServer>;

beforeAll(async () => {
  every = await EveryService.start('every.example.test');
  ({ h, hs, site, services } = every);
}, 180_000);

afterAll(async () => {
  await every?.close();
});

async function pageOf(address: string, field: string): Promise<string> {
  const response = await fetch(`${h.url}/prove/${address}/${field}`);
  expect(response.status).toBe(200);
  return response.text();
}

const post = (url: string, form: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });

describe('an identity with every field', () => {
  it('is judged with mask 1023 once every field is proven, each its own way', async () => {
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Every Field', email: 'pgp@example.org' }],
      format: 'object',
    });
    const person = h.chain.account('//EveryField');
    await h.chain.fund(person.address);
    await h.chain.setIdentityInfo(person, {
      display: { Raw: 'Every Field' },
      legal: { Raw: 'Every Field Person' },
      web: { Raw: 'every.example.test' },
      matrix: { Raw: '@every:localhost' },
      email: { Raw: 'every@example.org' },
      pgpFingerprint: `0x${privateKey.getFingerprint()}`,
      image: { Raw: 'every.example.test/me.png' },
      twitter: { Raw: '@Every_Field' },
      github: { Raw: 'every-field' },
      discord: { Raw: 'every_field' },
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await h.statusBecomes(person.address, 'open');
    const open = await h.statusOf(person.address);
    expect(Object.keys(open.fields).sort()).toEqual(
      [
        'discord',
        'display',
        'email',
        'github',
        'image',
        'legal',
        'matrix',
        'pgpFingerprint',
        'twitter',
        'web',
      ].sort(),
    );
    expect(open.fields.display?.status).toBe('confirmed');
    const proved: string[] = [];
    const stillOpen = async () => {
      const view = await h.statusOf(person.address);
      expect(view.status).toBe('open');
      expect(await h.chain.judgementOf(person.address, h.index)).toBe('FeePaid');
      return view;
    };

    // Email and Matrix: the links pushed to them.
    expect((await confirm(linkIn(await h.mailbox.nextMail('every@example.org')))).status).toBe(200);
    const matrix = await hs.nextMessageTo('@every:localhost');
    const matrixLink = /https?:\/\/\S+\/confirm\/\S+/.exec(matrix.body)?.[0] ?? '';
    expect((await confirm(matrixLink)).status).toBe(200);
    proved.push('email', 'matrix');

    // The website: the line from its page, published at the well-known path.
    const webPage = await pageOf(person.address, 'web');
    const line = /<pre id="web-proof">([^<]+)<\/pre>/.exec(webPage)?.[1] ?? '';
    // It names the account as well as the challenge, so it proves the site for this account alone.
    expect(line).toMatch(new RegExp(`^polkadot-registrar=${person.address}:[A-Z2-9]{8}$`));
    const check = () => post(`${h.url}/prove/${person.address}/web`, {});
    const notYet = await check();
    expect(notYet.status).toBe(422);
    expect(await notYet.text()).toContain('The code was not found');
    // The refusal stays on the status (JSON and page) after the proof page is gone.
    const refused = await h.statusOf(person.address);
    expect(refused.fields.web?.refusal).toEqual({
      reason: expect.stringContaining('The code was not found'),
      at: expect.any(Number),
    });
    const statusPage = await (
      await fetch(`${h.url}/status/${person.address}`, { headers: { accept: 'text/html' } })
    ).text();
    expect(statusPage).toContain('Last try refused (');
    // Published, and found without pressing the button again: the registrar looks by itself.
    site.pages.set('/.well-known/polkadot-registrar', { body: `${line}\n` });
    await eventually(
      async () => ((await h.statusOf(person.address)).fields.web?.status === 'confirmed' ? true : undefined),
      'the automatic look for the published line',
      30_000,
    );
    expect(site.visits.filter((v) => v.endsWith('/.well-known/polkadot-registrar')).length).toBeGreaterThan(
      1,
    );
    proved.push('web');

    // PGP: the text on the page, clear-signed by the key, with the public key.
    const text = textOfHtml(
      /<pre id="challenge-text">([^<]+)<\/pre>/.exec(await pageOf(person.address, 'pgpFingerprint'))?.[1] ??
        '',
    );
    expect(text).toContain(person.address);
    const signedMessage = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text }),
      signingKeys: privateKey,
    });
    const pgpProof = (form: Record<string, string>) =>
      post(`${h.url}/prove/${person.address}/pgpFingerprint`, form);
    // A key as long as real ones with many signatures is read, not cut off by the server's size limit.
    const long = await pgpProof({ signedMessage: 'x', armoredKey: 'k'.repeat(40 * 1024) });
    expect(long.status).toBe(422);
    expect(await long.text()).toContain('This is not an armored PGP public key');
    // Another key, and the right key over a changed text: refused, saying why.
    const { privateKey: otherKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Someone Else' }],
      format: 'object',
    });
    const byOther = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text }),
      signingKeys: otherKey,
    });
    const wrongKey = await pgpProof({ signedMessage: byOther, armoredKey: otherKey.toPublic().armor() });
    expect(wrongKey.status).toBe(422);
    expect(await wrongKey.text()).toContain('not the one whose fingerprint is set in the identity');
    expect((await h.statusOf(person.address)).fields.pgpFingerprint?.refusal?.reason).toContain(
      'not the one whose fingerprint is set in the identity',
    );
    const changed = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text: text.replace('verify', 'judge') }),
      signingKeys: privateKey,
    });
    const tampered = await pgpProof({ signedMessage: changed, armoredKey: privateKey.toPublic().armor() });
    expect(tampered.status).toBe(422);
    expect(await tampered.text()).toContain('The signed text is not the challenge text shown on the page');
    expect((await h.statusOf(person.address)).fields.pgpFingerprint?.status).toBe('awaiting');
    const pgp = await pgpProof({ signedMessage, armoredKey: privateKey.toPublic().armor() });
    expect(pgp.status).toBe(200);
    proved.push('pgpFingerprint');

    // X, GitHub, Discord: signed in as the accounts the identity names.
    services.x.user = { id: '1001', name: 'every_field' };
    services.github.user = { id: '1002', name: 'Every-Field' };
    services.discord.user = { id: '1003', name: 'every_field' };
    for (const field of ['twitter', 'github', 'discord']) {
      expect(await signInAndConfirm(h.url, person.address, field)).toBe(200);
      proved.push(field);
    }
    const waiting = await stillOpen();
    for (const field of proved) expect(waiting.fields[field as 'email']?.status).toBe('confirmed');
    expect(waiting.fields.legal?.status).toBe('awaiting');
    expect(waiting.fields.image?.status).toBe('awaiting');

    // The operator reviews the legal name and the image, last.
    const review = (field: string) =>
      every.review({
        account: person.address,
        field,
        decision: 'confirm',
        reviewer: 'ops',
        identityHash: open.identityHash,
      });
    expect((await review('legal')).status).toBe(200);
    await stillOpen();
    expect((await review('image')).status).toBe(200);

    const given = await h.chain.waitForEvent(
      'identity',
      'JudgementGiven',
      (e) => e.data.target === person.address && e.data.registrarIndex === h.index,
    );
    expect(given).toBeDefined();
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    await h.statusBecomes(person.address, 'judged');
  }, 180_000);
});
