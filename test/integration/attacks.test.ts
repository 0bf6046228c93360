/**
 * The attacker's suite: a stranger against the real daemon on the real runtime, one test per attack.
 * The stranger writes other people's website, GitHub, X and Discord handles, PGP fingerprint,
 * mailbox and Matrix ID into an identity of their own, asks for a judgement, reads everything the
 * public pages and the status JSON show, and tries every public route that can confirm anything with
 * it. Nothing may be confirmed and nothing judged. Also: locking a person out and spending their
 * message budget by wrong codes and address variants, an edit slipped in under the operator's
 * review, and a display-only registrar without the operator's say-so.
 *
 * A living list: every new way to confirm a field adds its attacker's test here (docs/THREAT-MODEL.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import * as openpgp from 'openpgp';
import type { TestHomeserver } from '../../src/dev/stand-ins/matrix-server.js';
import type { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';
import { FIELDS } from '../../src/domain/fields.js';
import { UNIT } from '../support/chain.js';
import { runDaemonToExit } from '../support/daemon.js';
import { EveryService, textOfHtml } from '../support/every-service.js';
import { confirm, type DaemonHarness, eventually, FEE, freePort } from '../support/harness.js';
import { callBack, confirmSignIn, startSignIn } from '../support/sign-in.js';
import { linkIn } from '../support/smtp.js';

/** Messages to one mail domain a day, in this suite. */
const DOMAIN_CAP = 6;

let every: EveryService;
let h: DaemonHarness;
let hs: TestHomeserver;
let services: Record<'github' | 'discord' | 'x', OAuthServer>;
let victimKey: openpgp.PrivateKey;

beforeAll(async () => {
  ({ privateKey: victimKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'Victim', email: 'pgp@victim.example.test' }],
    format: 'object',
  }));
  // The victim's website is served, but the stranger cannot publish anything on it.
  every = await EveryService.start('victim.example.test', {
    // Strangers come from many addresses: the tests name theirs in X-Forwarded-For.
    REGISTRAR_TRUST_PROXY: 'true',
    // A live status stream with nothing to say ends after this.
    REGISTRAR_STATUS_STREAM_IDLE_SECONDS: '3',
    // Mail to one domain a day: the other tests here mail example.org 5 times in all, under it.
    REGISTRAR_MESSAGES_PER_DOMAIN_PER_DAY: String(DOMAIN_CAP),
  });
  ({ h, hs, services } = every);
}, 300_000);

afterAll(async () => {
  await every?.close();
});

const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });

let strangers = 0;
/** A stranger's own account, funded, with an identity naming other people's accounts. */
async function stranger(fields: Record<string, unknown>): Promise<KeyringPair> {
  const who = h.chain.account(`//Stranger${++strangers}`);
  await h.chain.fund(who.address);
  await h.chain.setIdentityInfo(who, fields);
  await h.chain.requestJudgement(who, h.index, 2n * FEE);
  await h.statusBecomes(who.address, 'open');
  return who;
}

/** Everything a stranger can read about a request: the status JSON and page, every proof page, the code form. */
async function publicTexts(address: string): Promise<string[]> {
  const texts = [
    await (await fetch(`${h.url}/status/${address}`)).text(),
    await (await fetch(`${h.url}/status/${address}`, { headers: { accept: 'text/html' } })).text(),
    await (await fetch(`${h.url}/code`)).text(),
  ];
  for (const field of FIELDS) {
    texts.push(textOfHtml(await (await fetch(`${h.url}/prove/${address}/${field}`)).text()));
  }
  return texts;
}

/** Every string in those texts that could pass for a code, a line, a nonce or a token. */
function candidates(texts: readonly string[]): string[] {
  const found = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/polkadot-registrar=[^\s<"]+/g)) found.add(m[0]);
    for (const m of text.matchAll(/\b[A-Z2-9]{8}\b/g)) found.add(m[0]);
    for (const m of text.matchAll(/:([A-Z2-9]{8})\b/g)) found.add(m[1] ?? '');
    for (const m of text.matchAll(/Challenge ([A-Z2-9]{8})/g)) found.add(m[1] ?? '');
    for (const m of text.matchAll(/\b(?:eyJ|0x)[A-Za-z0-9._-]{20,}/g)) found.add(m[0]);
  }
  found.delete('');
  return [...found];
}

async function fieldsOf(address: string): Promise<Record<string, string | undefined>> {
  const view = await h.statusOf(address);
  return Object.fromEntries(Object.entries(view.fields).map(([field, state]) => [field, state.status]));
}

/** Nothing was confirmed but what the guard checked, and the chain shows no judgement. */
async function nothingConfirmed(address: string): Promise<void> {
  const fields = await fieldsOf(address);
  for (const [field, status] of Object.entries(fields)) {
    if (field !== 'display') expect({ field, status }).toEqual({ field, status: 'awaiting' });
  }
  expect((await h.statusOf(address)).status).toBe('open');
  expect(await h.chain.judgementOf(address, h.index)).toBe('FeePaid');
}

describe('a stranger who names other people in their own identity', () => {
  let who: KeyringPair;
  let harvested: string[];

  beforeAll(async () => {
    who = await stranger({
      display: { Raw: 'Someone Else' },
      legal: { Raw: 'Someone Else' },
      web: { Raw: 'victim.example.test' },
      matrix: { Raw: '@victim:localhost' },
      email: { Raw: 'victim@example.org' },
      pgpFingerprint: `0x${victimKey.getFingerprint()}`,
      image: { Raw: 'victim.example.test/me.png' },
      twitter: { Raw: '@victim_x' },
      github: { Raw: 'victim-gh' },
      discord: { Raw: 'victim_dc' },
    });
    harvested = candidates(await publicTexts(who.address));
  }, 120_000);

  it('reads lines and nonces from the public pages, but none of them is a code', async () => {
    // The pages do show what is to be published and signed: that is the point of them.
    expect(harvested.some((c) => c.startsWith(`polkadot-registrar=${who.address}:`))).toBe(true);
    const refusals: string[] = [];
    for (const field of FIELDS) {
      for (const code of harvested) {
        const response = await form(
          `${h.url}/code`,
          { account: who.address, field, code },
          // Each try from its own address: the throttle is not what stops this.
          { 'x-forwarded-for': `198.51.100.${refusals.length % 250}` },
        );
        expect([400, 422, 429]).toContain(response.status);
        refusals.push(`${field}:${response.status}`);
      }
    }
    expect(refusals.length).toBeGreaterThan(FIELDS.length);
    await nothingConfirmed(who.address);
  }, 120_000);

  it('cannot confirm the website with its published line copied to the code form', async () => {
    const page = textOfHtml(await (await fetch(`${h.url}/prove/${who.address}/web`)).text());
    const line = /<pre id="web-proof">([^<]+)<\/pre>/.exec(page)?.[1] ?? '';
    expect(line).toContain(who.address);
    for (const code of [line, line.split(':').at(-1) ?? '', line.replace('polkadot-registrar=', '')]) {
      const response = await form(`${h.url}/code`, { account: who.address, field: 'web', code });
      expect([400, 422]).toContain(response.status);
    }
    // Nor by "Check now": the victim's site does not hold the line.
    expect((await form(`${h.url}/prove/${who.address}/web`, {})).status).toBe(422);
    await nothingConfirmed(who.address);
  });

  it('cannot confirm the PGP fingerprint with the text signed by its own key, nor by pasting the code', async () => {
    const page = textOfHtml(await (await fetch(`${h.url}/prove/${who.address}/pgpFingerprint`)).text());
    const text = /<pre id="challenge-text">([^<]+)<\/pre>/.exec(page)?.[1] ?? '';
    expect(text).toContain(who.address);
    const { privateKey: own } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ name: 'Stranger' }],
      format: 'object',
    });
    const signedMessage = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text }),
      signingKeys: own,
    });
    // With its own key, and with the victim's public key beside its own signature.
    for (const armoredKey of [own.toPublic().armor(), victimKey.toPublic().armor()]) {
      const response = await form(`${h.url}/prove/${who.address}/pgpFingerprint`, {
        signedMessage,
        armoredKey,
      });
      expect(response.status).toBe(422);
    }
    const nonce = /Challenge ([A-Z2-9]{8})/.exec(text)?.[1] ?? '';
    const typed = await form(`${h.url}/code`, { account: who.address, field: 'pgpFingerprint', code: nonce });
    expect(typed.status).toBe(422);
    await nothingConfirmed(who.address);
  });

  it('cannot confirm GitHub or X with a post of the line from its own account', async () => {
    const line = /<pre id="post-proof">([^<]+)<\/pre>/.exec(
      textOfHtml(await (await fetch(`${h.url}/prove/${who.address}/github`)).text()),
    )?.[1];
    expect(line).toBeDefined();
    services.github.gists.set('ab12cd34ef56ab12cd34ef56', {
      owner: { id: '666', name: 'stranger-gh' },
      public: true,
      files: { 'proof.txt': `${line}\n` },
    });
    const gist = await form(`${h.url}/prove/${who.address}/github`, {
      method: 'post',
      url: 'https://gist.github.com/stranger-gh/ab12cd34ef56ab12cd34ef56',
    });
    expect(gist.status).toBe(422);
    expect(await gist.text()).toContain('belongs to stranger-gh');
    const xLine = /<pre id="post-proof">([^<]+)<\/pre>/.exec(
      textOfHtml(await (await fetch(`${h.url}/prove/${who.address}/twitter`)).text()),
    )?.[1];
    const post = 'https://x.com/stranger_x/status/1234567890';
    services.x.posts.set(post, { author: 'stranger_x', text: `${xLine}` });
    const xPost = await form(`${h.url}/prove/${who.address}/twitter`, { method: 'post', url: post });
    expect(xPost.status).toBe(422);
    await nothingConfirmed(who.address);
  });

  it('cannot confirm X, GitHub or Discord by signing in as itself, nor with a forged Confirm', async () => {
    services.x.user = { id: '9001', name: 'stranger_x' };
    services.github.user = { id: '9002', name: 'stranger-gh' };
    services.discord.user = { id: '9003', name: 'stranger_dc' };
    for (const field of ['twitter', 'github', 'discord']) {
      const steps = await startSignIn(h.url, who.address, field);
      const back = await callBack(steps);
      expect(back.status).toBe(403);
      expect(back.sealed).toBeUndefined();
    }
    // A sealed sign-in is the registrar's own seal: a made-up one, or a challenge token, is refused.
    for (const sealed of ['forged', ...harvested.filter((c) => c.startsWith('eyJ'))]) {
      expect((await confirmSignIn(h.url, sealed)).status).toBe(400);
    }
    await nothingConfirmed(who.address);
  });

  it('cannot confirm anything through /confirm with a made-up or re-signed token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(
      JSON.stringify({ sub: who.address, fld: 'web', reg: h.index, jti: 'x', exp: 9_999_999_999 }),
    ).toString('base64url');
    for (const token of [`${header}.${claims}.`, `${header}.${claims}.c2lnbmF0dXJl`, 'not-a-token']) {
      expect((await confirm(`${h.url}/confirm/${token}`)).status).toBe(410);
    }
    await nothingConfirmed(who.address);
  });

  it('cannot use the admin API without its token, nor reach it on the public address', async () => {
    const hash = (await h.statusOf(who.address)).identityHash;
    const review = JSON.stringify({
      account: who.address,
      field: 'legal',
      decision: 'confirm',
      reviewer: 'me',
      identityHash: hash,
    });
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${every.adminToken.slice(0, -1)}`]) {
      const response = await fetch(`http://127.0.0.1:${every.adminPort}/admin/review`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: review,
      });
      expect(response.status).toBe(401);
    }
    const onPublic = await fetch(`${h.url}/admin/review`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${every.adminToken}` },
      body: review,
    });
    expect(onPublic.status).toBe(404);
    await nothingConfirmed(who.address);
  });

  it('got no judgement from any of it', async () => {
    await nothingConfirmed(who.address);
    expect(h.logs()).not.toContain('"field confirmed"');
  });
});

describe('a stranger who wants to keep a person from verifying', () => {
  it('cannot lock the person out by typing wrong codes: it waits, the person does not', async () => {
    const person = await h.newPerson({ display: 'Locked Out', email: 'locked@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const mail = await h.mailbox.nextMail('locked@example.org');
    const code = /code ([A-Z2-9]{8})/.exec(mail.text)?.[1] ?? '';
    expect(code).toMatch(/^[A-Z2-9]{8}$/);
    const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await form(
        `${h.url}/code`,
        { account: person.address, field: 'email', code: wrong },
        { 'x-forwarded-for': '203.0.113.66' },
      );
      statuses.push(response.status);
    }
    // A few honest-looking mistakes, then the stranger's address waits.
    expect(statuses.slice(0, 2)).toEqual([422, 422]);
    expect(statuses.slice(2).every((s) => s === 429)).toBe(true);
    // The person's own code and link still work: nothing of theirs was voided.
    const right = await form(`${h.url}/code`, { account: person.address, field: 'email', code });
    expect(right.status).toBe(200);
    expect((await h.statusOf(person.address)).fields.email?.status).toBe('confirmed');
    expect((await confirm(linkIn(mail))).status).toBe(410);
  });

  it('gets no fresh tries by moving through the addresses of its IPv6 network', async () => {
    const who = await stranger({ display: { Raw: 'Six Network' }, email: { Raw: 'six@example.com' } });
    const from = (client: string) =>
      form(
        `${h.url}/code`,
        { account: who.address, field: 'email', code: 'AAAAAAAA' },
        { 'x-forwarded-for': client },
      );
    const statuses: number[] = [];
    // One subscriber holds a whole /64: each try from another address of it.
    for (let i = 1; i <= 6; i++) statuses.push((await from(`2001:db8:66:1::${i.toString(16)}`)).status);
    expect(statuses).toEqual([422, 422, 429, 429, 429, 429]);
    // Another network is not held back by this one.
    expect((await from('2001:db8:66:2::1')).status).toBe(422);
    expect((await h.statusOf(who.address)).fields.email?.status).toBe('awaiting');
  });

  it("cannot void a person's Matrix code by sending wrong codes to the bot from its own account", async () => {
    const mxid = '@lock-target:localhost';
    const person = await h.newPerson({ display: 'Bot Target', matrix: mxid });
    const before = hs.sent.length;
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const code = /reply here with the code ([A-Z0-9]{8})/.exec(
      (await hs.nextMessageTo(mxid, before)).body,
    )?.[1];
    expect(code).toMatch(/^[A-Z2-9]{8}$/);
    const room = hs.roomWith(mxid) ?? '';
    hs.join(room, mxid);
    // The stranger has a request of its own, so the bot opened a direct room with it too: there
    // its wrong codes count, but only against its own codes.
    const mallory = '@lock-mallory:localhost';
    const strangerBefore = hs.sent.length;
    await stranger({ display: { Raw: 'Bot Mallory' }, matrix: { Raw: mallory } });
    await hs.nextMessageTo(mallory, strangerBefore);
    const own = hs.roomWith(mallory) ?? '';
    hs.join(own, mallory);
    const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
    const answered = () => h.logs().split('"Matrix code answered"').length - 1;
    const answeredBefore = answered();
    // The person's room is a 1:1 room the bot opened: invite only, so the stranger cannot get in
    // to speak there at all.
    expect(() => hs.join(room, mallory)).toThrow('not invited');
    // Five in its own room void its own codes (REGISTRAR_CODE_ATTEMPTS) and nobody else's.
    const places = [own, own, own, own, own];
    // One at a time, each handled before the next (the bot answers a refusal once, so the log says).
    for (const [i, where] of places.entries()) {
      hs.say(where, mallory, wrong);
      await eventually(
        async () => (answered() >= answeredBefore + i + 1 ? true : undefined),
        `wrong code ${i + 1} handled`,
      );
    }
    // Its own codes were voided by its own wrong ones; the person's were not touched.
    expect(h.logs()).toContain('too many wrong codes; challenges voided');
    const sentBefore = hs.sent.length;
    hs.say(room, mxid, code ?? '');
    expect((await hs.nextMessageTo(mxid, sentBefore)).body).toContain('Confirmed');
    expect((await h.statusOf(person.address)).fields.matrix?.status).toBe('confirmed');
  }, 90_000);

  it('cannot mail one domain without bound through spellings of a mailbox the registrar does not fold', async () => {
    // Dots in the local part are one mailbox at some providers, not at others: they are not folded,
    // so each spelling is its own target, and only the cap on the domain stops them.
    const spellings = ['crowd', 'c.rowd', 'cr.owd', 'cro.wd', 'crow.d', 'c.r.owd', 'c.ro.wd'].map(
      (local) => `${local}@dots.example.net`,
    );
    expect(spellings.length).toBeGreaterThan(DOMAIN_CAP);
    const [first = '', ...rest] = spellings;
    const who = await stranger({ display: { Raw: 'Dot Sender' }, email: { Raw: first } });
    await h.mailbox.nextMail(first);
    for (const [i, address] of rest.entries()) {
      await h.chain.setIdentityInfo(who, { display: { Raw: 'Dot Sender' }, email: { Raw: address } });
      if (i + 2 <= DOMAIN_CAP) {
        await h.mailbox.nextMail(address);
        continue;
      }
      // Over the domain's cap: the message waits in the outbox for the day's window.
      const held = await eventually(async () => {
        const view = await h.statusOf(who.address);
        return view.fields.email?.value === address && view.fields.email?.nextMessageAt !== undefined
          ? view
          : undefined;
      }, `the message to ${address} held back`);
      expect((held.fields.email?.nextMessageAt ?? 0) - Date.now()).toBeGreaterThan(60 * 60_000);
    }
    expect(h.mailbox.recipients.filter((r) => r.endsWith('@dots.example.net'))).toHaveLength(DOMAIN_CAP);
  }, 120_000);

  it("cannot spend a person's message budget through variants of their address", async () => {
    const who = await stranger({ display: { Raw: 'Variant Sender' }, email: { Raw: 'Budget@example.org' } });
    await h.mailbox.nextMail('Budget@example.org');
    const variants = ['bUdget@example.org', 'budget+1@example.org', 'budget+news@EXAMPLE.org'];
    for (const variant of variants) {
      await h.chain.setIdentityInfo(who, { display: { Raw: 'Variant Sender' }, email: { Raw: variant } });
      // Each edit makes a new challenge for the new value; its message waits behind the first.
      await eventually(async () => {
        const view = await h.statusOf(who.address);
        return view.fields.email?.value === variant && view.fields.email?.nextMessageAt !== undefined
          ? true
          : undefined;
      }, `the message to ${variant} held back`);
    }
    const toMailbox = h.mailbox.recipients.filter(
      (r) => r.toLowerCase().replace(/\+[^@]*/, '') === 'budget@example.org',
    );
    expect(toMailbox).toHaveLength(1);
  });

  it("puts no unconfirmed display name into a message to someone else's account", async () => {
    const who = await stranger({
      // Hidden characters: the guard refuses it, so it is not confirmed.
      display: { Raw: 'Free\u200bDOT evil.example' },
      matrix: { Raw: '@bystander:localhost' },
    });
    expect((await h.statusOf(who.address)).fields.display?.status).not.toBe('confirmed');
    const message = await hs.nextMessageTo('@bystander:localhost');
    expect(message.body).toContain(who.address);
    expect(message.body).not.toContain('evil.example');
    // Nor on the page the link opens, where the bystander is asked to confirm.
    const link = /https?:\/\/\S+\/confirm\/\S+/.exec(message.body)?.[0] ?? '';
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain(who.address);
    expect(text).not.toContain('evil.example');
  });
});

describe('a stranger who sends what no form sends', () => {
  it('gets a 400 that names the problem on every route, public and admin, and changes nothing', async () => {
    const who = await stranger({ display: { Raw: 'Shape Tester' }, email: { Raw: 'shape@example.com' } });
    const admin = `http://127.0.0.1:${every.adminPort}`;
    const bearer = { authorization: `Bearer ${every.adminToken}` };
    // Every POST route, with a key it reads (or none: it reads no body).
    const posts: [string, string | undefined, Record<string, string>][] = [
      [`${h.url}/code`, 'code', {}],
      [`${h.url}/confirm/not-a-token`, undefined, {}],
      [`${h.url}/status/${who.address}/resend`, undefined, {}],
      [`${h.url}/prepare`, 'account', {}],
      [`${h.url}/prove/${who.address}/web`, 'method', {}],
      [`${h.url}/sign-in/confirm`, 'signedIn', {}],
      [`${admin}/admin/review`, 'account', bearer],
      [`${admin}/admin/judge`, 'account', bearer],
      [`${admin}/admin/rescan`, undefined, bearer],
      [`${admin}/admin/sweep`, undefined, bearer],
    ];
    const bodies = (key: string | undefined): [string, unknown][] => [
      ['an unknown key', { unknown: 'x' }],
      ['a list', ['x']],
      ['a number', 12345678],
      ['null', null],
      ...(key === undefined
        ? []
        : ([
            [`${key} as a list`, { [key]: ['x'] }],
            [`${key} as a number`, { [key]: 12345678 }],
            [`${key} as an object`, { [key]: { $ne: '' } }],
            [`${key} of 10,000 characters`, { [key]: 'x'.repeat(10_000) }],
          ] as [string, unknown][])),
    ];
    const unexpected: string[] = [];
    const expect400 = async (name: string, response: Response) => {
      const text = await response.text();
      if (response.status !== 400 || !/not understood/i.test(text)) {
        unexpected.push(`${name}: ${response.status} ${text.slice(0, 80)}`);
      }
    };
    for (const [url, key, headers] of posts) {
      for (const [name, body] of bodies(key)) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          redirect: 'manual',
        });
        await expect400(`POST ${url.replace(/^http:\/\/[^/]+/, '')} with ${name}`, response);
      }
    }
    // Query and path parameters: a list where one text belongs, a key no route reads, text too long.
    const gets: [string, string, Record<string, string>][] = [
      ['an account twice', `${h.url}/status?account=${who.address}&account=${who.address}`, {}],
      ['an unknown key', `${h.url}/status?account=${who.address}&unknown=x`, {}],
      ['an account of 1,000 characters', `${h.url}/status?account=${'x'.repeat(1_000)}`, {}],
      ['a status of 1,000 characters', `${h.url}/status/${'x'.repeat(1_000)}`, {}],
      ['a field of 100 characters', `${h.url}/prove/${who.address}/${'x'.repeat(100)}`, {}],
      ['a sign-in state twice', `${h.url}/sign-in/github/callback?state=a&state=b&code=c`, {}],
      [
        'a sign-in code of 5,000 characters',
        `${h.url}/sign-in/github/callback?state=a&code=${'x'.repeat(5_000)}`,
        {},
      ],
      ['an admin status of 200 characters', `${admin}/admin/requests/${'x'.repeat(200)}`, bearer],
      ['an admin review list of 200 characters', `${admin}/admin/reviews/${'x'.repeat(200)}`, bearer],
    ];
    for (const [name, url, headers] of gets) {
      await expect400(`GET with ${name}`, await fetch(url, { headers, redirect: 'manual' }));
    }
    expect(unexpected).toEqual([]);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect((await h.statusOf(who.address)).fields.email?.status).toBe('awaiting');
  }, 60_000);
});

describe('a stranger who wants to hold the server busy', () => {
  it("cannot spend the registrar's fetches by pressing Check now again and again", async () => {
    const who = await stranger({ display: { Raw: 'Check Presser' }, web: { Raw: 'victim.example.test' } });
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const response = await form(
        `${h.url}/prove/${who.address}/web`,
        {},
        { 'x-forwarded-for': `198.18.0.${i}` },
      );
      statuses.push(response.status);
    }
    // Ten checks go at once, from whatever addresses; then the account's checks wait.
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(422));
    expect(statuses.slice(10)).toEqual(Array(4).fill(429));
  });

  it('gets a few live status streams per address, and each ends when it has nothing to say', async () => {
    const person = await h.newPerson({ display: 'Stream Target', email: 'stream@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await h.statusBecomes(person.address, 'open');
    const url = `${h.url}/status/${person.address}/events`;
    const open = (client: string, signal?: AbortSignal) =>
      fetch(url, { headers: { 'x-forwarded-for': client }, ...(signal ? { signal } : {}) });
    const held = new AbortController();
    const streams: Response[] = [];
    for (let i = 0; i < 8; i++) streams.push(await open('203.0.113.90', held.signal));
    expect(streams.map((s) => s.status)).toEqual(Array(8).fill(200));
    const ninth = await open('203.0.113.90');
    expect(ninth.status).toBe(429);
    expect(ninth.headers.get('retry-after')).toBe('60');
    // Another address is not held back by this one's streams.
    const other = new AbortController();
    expect((await open('203.0.113.91', other.signal)).status).toBe(200);
    other.abort();
    // A stream with nothing to say ends by itself, telling the page so; its place is free again.
    const quiet = await Promise.all(streams.map((s) => s.text()));
    for (const text of quiet) expect(text).toContain('event: idle');
    await eventually(
      async () => ((await open('203.0.113.90', held.signal)).status === 200 ? true : undefined),
      'a stream again once the others ended',
    );
    held.abort();
  }, 60_000);
});

describe('an edit slipped in under the operator', () => {
  it('is not confirmed by a review of what the operator saw before it', async () => {
    const person = await h.newPerson({
      display: 'Review Me',
      legal: 'Alice Honest',
      email: 'rev@example.org',
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const seen = await h.statusBecomes(person.address, 'open');
    expect(seen.fields.legal?.value).toBe('Alice Honest');
    // The person edits the legal name after the operator looked.
    await h.chain.setIdentity(person, {
      display: 'Review Me',
      legal: 'Mallory Forged',
      email: 'rev@example.org',
    });
    const edited = await eventually(async () => {
      const view = await h.statusOf(person.address);
      return view.fields.legal?.value === 'Mallory Forged' ? view : undefined;
    }, 'the edit seen');
    expect(edited.identityHash).not.toBe(seen.identityHash);
    const review = (body: Record<string, string | undefined>) =>
      every.review({ account: person.address, field: 'legal', reviewer: 'ops', ...body });
    for (const stale of [{ identityHash: seen.identityHash }, { value: 'Alice Honest' }]) {
      const response = await review({ decision: 'confirm', ...stale });
      expect(response.status).toBe(409);
      const outcome = (await response.json()) as { message: string };
      expect(outcome.message).toContain('changed since you looked');
      expect(outcome.message).toContain('Mallory Forged');
    }
    // Nor with nothing said of what was seen.
    expect((await review({ decision: 'confirm' })).status).toBe(400);
    expect((await h.statusOf(person.address)).fields.legal?.status).toBe('awaiting');
    // What the operator sees now can be decided on.
    expect((await review({ decision: 'reject', identityHash: edited.identityHash })).status).toBe(200);
    expect((await h.statusOf(person.address)).fields.legal?.status).toBe('failed');
  });
});

describe('a registrar that would judge display names alone', () => {
  it('does not start unless the operator says so', async () => {
    const registrar = h.chain.account('//DisplayOnlyAttackRegistrar');
    await h.chain.fund(registrar.address);
    const index = await h.chain.makeRegistrar(registrar, { fee: UNIT, fields: 1 | 2 | 64 });
    const dataDir = mkdtempSync(join(tmpdir(), 'registrar-display-only-'));
    try {
      const refused = await runDaemonToExit({
        ...h.env(),
        REGISTRAR_INDEX: String(index),
        REGISTRAR_ACCOUNT: registrar.address,
        REGISTRAR_STORE: `sqlite:${join(dataDir, 'registrar.sqlite')}`,
        REGISTRAR_HTTP_PORT: String(await freePort()),
        REGISTRAR_ADMIN_PORT: String(await freePort()),
      });
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('REGISTRAR_ALLOW_DISPLAY_ONLY');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
