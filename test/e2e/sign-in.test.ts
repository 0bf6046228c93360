/**
 * "Sign in with GitHub" and "Sign in with Discord", in a real browser (Debian's Chromium through
 * playwright-core) against the compiled daemon, the real runtime, and local stand-ins of the two
 * services' OAuth endpoints: the page names the account, the service sends the person back, the
 * page asks "@handle on Service is yours and belongs to account …?", and only Confirm (a POST)
 * proves the field. A wrong account, a refused consent, a failing or limiting service, a replayed,
 * foreign or tampered state, and another browser's callback change nothing and say why.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { type Browser, chromium, type Page } from 'playwright-core';
import { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';
import { DaemonHarness, FEE } from '../support/harness.js';
import { callBack, confirmSignIn, startSignIn } from '../support/sign-in.js';

const CHROMIUM = process.env.REGISTRAR_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** display | twitter | github | discord */
const MASK = 1 | 128 | 256 | 512;

let h: DaemonHarness;
let github: OAuthServer;
let discord: OAuthServer;
let x: OAuthServer;
let browser: Browser;

beforeAll(async () => {
  github = await OAuthServer.start('github');
  discord = await OAuthServer.start('discord');
  x = await OAuthServer.start('x');
  h = await DaemonHarness.start(MASK, {
    ...github.env(),
    ...discord.env(),
    ...x.env(),
    // twitter-api-v2 reaches the API over HTTPS only: the daemon trusts the local authority.
    NODE_EXTRA_CA_CERTS: x.caFile ?? '',
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await github?.close();
  await discord?.close();
  await x?.close();
});

beforeEach(() => {
  for (const service of [github, discord, x]) {
    service.deny = false;
    service.failure = 'none';
  }
});

let n = 0;
async function personWith(fields: {
  github: string;
  discord: string;
  twitter?: string;
}): Promise<KeyringPair> {
  n += 1;
  const person = await h.newPerson({
    display: `Signer ${'abcdefgh'[n]}${n * 7919}`,
    twitter: `@signer_${n}`,
    ...fields,
  });
  await h.chain.requestJudgement(person, h.index, 2n * FEE);
  await h.statusBecomes(person.address, 'open');
  return person;
}

const fieldState = async (address: string, field: string) =>
  (await h.statusOf(address)).fields[field as 'github']?.status;

/** Opens the proof page of `field` and presses the sign-in button; resolves on the page the registrar shows after the service. */
async function signIn(page: Page, address: string, field: string): Promise<number | undefined> {
  await page.goto(`${h.url}/prove/${address}/${field}`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/callback')),
    page.getByRole('button', { name: /^Sign in with/ }).click(),
  ]);
  await page.waitForLoadState();
  return response.status();
}

describe('sign in with the service', () => {
  it('proves a GitHub account: the page names the account, asks, and only Confirm proves it', async () => {
    const person = await personWith({ github: 'Octo-Cat', discord: 'ignored_here' });
    github.user = { id: '583231', name: 'octo-cat' };
    const page = await browser.newPage();
    await page.goto(`${h.url}/status/${person.address}`);
    await page.getByRole('link', { name: 'Prove your GitHub account' }).click();
    expect(await page.locator('body').innerText()).toContain(person.address);

    expect(await signIn(page, person.address, 'github')).toBe(200);
    const question = await page.locator('main').innerText();
    expect(question).toContain('octo-cat on GitHub is yours and belongs to account');
    expect(question).toContain(person.address);
    // Being sent back proves nothing yet.
    expect(await fieldState(person.address, 'github')).toBe('awaiting');

    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.title()).resolves.toBe('Confirmed');
    expect(await fieldState(person.address, 'github')).toBe('confirmed');
    await page.close();
  });

  it('proves a Discord username compared as Discord compares it; a legacy name#1234 only with its discriminator', async () => {
    const person = await personWith({ github: 'nobody-here', discord: 'Alice_01' });
    discord.user = { id: '80351110224678912', name: 'alice_01', discriminator: '0' };
    const page = await browser.newPage();
    expect(await signIn(page, person.address, 'discord')).toBe(200);
    expect(await page.locator('main').innerText()).toContain('@alice_01 on Discord is yours');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.title()).resolves.toBe('Confirmed');
    expect(await fieldState(person.address, 'discord')).toBe('confirmed');

    const legacy = await personWith({ github: 'nobody-here', discord: 'Bob#1234' });
    discord.user = { id: '41771983423143937', name: 'Bob', discriminator: '4321' };
    expect(await signIn(page, legacy.address, 'discord')).toBe(403);
    expect(await page.locator('main').innerText()).toContain('You signed in to Discord as Bob#4321');
    discord.user = { id: '41771983423143937', name: 'Bob', discriminator: '1234' };
    expect(await signIn(page, legacy.address, 'discord')).toBe(200);
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await fieldState(legacy.address, 'discord')).toBe('confirmed');
    await page.close();
  });

  it('refuses another account, a refused consent, and a failing or limiting service, and lets the person try again', async () => {
    const person = await personWith({ github: 'real-owner', discord: 'real_owner' });
    const page = await browser.newPage();

    github.user = { id: '1', name: 'someone-else' };
    expect(await signIn(page, person.address, 'github')).toBe(403);
    expect(await page.locator('main').innerText()).toContain(
      'You signed in to GitHub as someone-else, but the identity names real-owner',
    );
    expect(await page.getByRole('button', { name: 'Confirm' }).count()).toBe(0);
    // Kept on the status, for the person who comes back to it later.
    const kept = (await (await fetch(`${h.url}/status/${person.address}`)).json()) as {
      fields: Record<string, { refusal?: { reason: string } }>;
    };
    expect(kept.fields.github?.refusal?.reason).toContain('You signed in to GitHub as someone-else');

    github.deny = true;
    expect(await signIn(page, person.address, 'github')).toBe(400);
    expect(await page.locator('main').innerText()).toContain('You did not allow the sign-in on GitHub');
    github.deny = false;

    github.user = { id: '2', name: 'real-owner' };
    github.failure = '500';
    expect(await signIn(page, person.address, 'github')).toBe(502);
    expect(await page.locator('main').innerText()).toContain('GitHub is failing just now');

    github.failure = '429';
    expect(await signIn(page, person.address, 'github')).toBe(502);
    expect(await page.locator('main').innerText()).toMatch(
      /GitHub is limiting requests just now. Try again in 4\d seconds/,
    );

    discord.failure = '429';
    expect(await signIn(page, person.address, 'discord')).toBe(502);
    expect(await page.locator('main').innerText()).toContain(
      'Discord is limiting requests just now. Try again in 42 seconds',
    );

    expect(await fieldState(person.address, 'github')).toBe('awaiting');
    github.failure = 'none';
    expect(await signIn(page, person.address, 'github')).toBe(200);
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await fieldState(person.address, 'github')).toBe('confirmed');
    await page.close();
  });

  it('a service that never answers turns into a clear page within the time limit, not a hung request', async () => {
    const person = await personWith({ github: 'slow-one', discord: 'slow_one' });
    discord.failure = 'hang';
    const page = await browser.newPage();
    expect(await signIn(page, person.address, 'discord')).toBe(502);
    expect(await page.locator('main').innerText()).toContain('Discord did not answer');
    expect(await fieldState(person.address, 'discord')).toBe('awaiting');
    await page.close();
  }, 60_000);

  it('refuses a callback with a foreign, tampered or replayed state, or from another browser', async () => {
    const person = await personWith({ github: 'state-test', discord: 'state_test' });
    github.user = { id: '7', name: 'state-test' };
    // Without a browser: the form's answer is a redirect to the service plus this browser's cookie.
    const steps = await startSignIn(h.url, person.address, 'github');
    const { callback, cookie, authorize } = steps;
    expect(cookie).toMatch(/^registrar_sign_in=/);
    expect(steps.setCookie).toMatch(/; Path=\/sign-in\/; Max-Age=600; HttpOnly; SameSite=Lax/);
    expect(authorize.origin).toBe(github.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const state = new URL(callback).searchParams.get('state') ?? '';

    const get = (url: string, withCookie = cookie) => callBack({ ...steps, callback: url }, withCookie);
    // Another browser (no cookie, another cookie): refused before the code is used.
    const before = github.exchanges;
    expect((await get(callback, '')).status).toBe(400);
    expect((await get(callback, 'registrar_sign_in=x.y')).page).toContain('started in another browser');
    // A tampered state and a state of nothing.
    const tampered = callback.replace(
      `state=${encodeURIComponent(state)}`,
      `state=${encodeURIComponent(`${state.slice(0, -2)}AA`)}`,
    );
    expect((await get(tampered)).page).toContain('did not start here');
    expect((await get(`${h.url}/sign-in/github/callback?code=abc&state=forged.x`)).status).toBe(400);
    // A state given twice is no state: refused, not a crash.
    expect((await get(`${callback}&state=${encodeURIComponent(state)}`)).status).toBe(400);
    // A GitHub state sent to the Discord callback.
    expect((await get(callback.replace('/sign-in/github/', '/sign-in/discord/'))).status).toBe(400);
    expect(github.exchanges).toBe(before);

    const asked = await get(callback);
    expect(asked.status).toBe(200);
    const sealed = asked.sealed ?? '';
    // A GET of the callback changed nothing.
    expect(await fieldState(person.address, 'github')).toBe('awaiting');
    // The code was used: the same callback again fails at the service, and says so.
    const replayed = await get(callback);
    expect(replayed.status).toBe(502);
    expect(replayed.page).toContain('GitHub refused the sign-in');

    expect((await confirmSignIn(h.url, `${sealed}x`)).status).toBe(400);
    expect((await confirmSignIn(h.url, sealed)).status).toBe(200);
    expect(await fieldState(person.address, 'github')).toBe('confirmed');
    // Confirmed once: the same sign-in, and the state behind it, are used up.
    expect((await confirmSignIn(h.url, sealed)).status).toBe(410);
    expect((await get(callback)).page).toContain('already used');
  });

  it('judges an identity whose every field was proven by signing in', async () => {
    const person = await personWith({ github: 'whole-way', discord: 'whole_way', twitter: 'Whole_Way' });
    github.user = { id: '11', name: 'whole-way' };
    discord.user = { id: '12', name: 'whole_way' };
    x.user = { id: '13', name: 'whole_way' };
    const page = await browser.newPage();
    for (const field of ['github', 'discord', 'twitter']) {
      expect(await signIn(page, person.address, field)).toBe(200);
      await page.getByRole('button', { name: 'Confirm' }).click();
    }
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    // No client secret or code in the daemon's log.
    expect(h.logs()).not.toContain(github.clientSecret);
    expect(h.logs()).not.toContain(discord.clientSecret);
    expect(h.logs()).not.toContain(x.clientSecret);
    await page.close();
  });
});

describe('sign in with X (twitter-api-v2 against a local HTTPS API)', () => {
  it('proves the handle compared case-insensitively, with or without @, and refuses another', async () => {
    const person = await personWith({ github: 'x-one', discord: 'x_one', twitter: '@Gav_Wood' });
    const page = await browser.newPage();
    x.user = { id: '33962758', name: 'someone' };
    expect(await signIn(page, person.address, 'twitter')).toBe(403);
    expect(await page.locator('main').innerText()).toContain('You signed in to X as @someone');

    x.user = { id: '33962758', name: 'gav_wood' };
    expect(await signIn(page, person.address, 'twitter')).toBe(200);
    expect(await page.locator('main').innerText()).toContain(
      '@gav_wood on X is yours and belongs to account',
    );
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.title()).resolves.toBe('Confirmed');
    expect(await fieldState(person.address, 'twitter')).toBe('confirmed');
    await page.close();
  });

  it('turns X failing, limiting or refusing the code into a page that says so', async () => {
    const person = await personWith({ github: 'x-two', discord: 'x_two', twitter: 'x_two' });
    x.user = { id: '44', name: 'x_two' };
    const page = await browser.newPage();
    x.failure = '500';
    expect(await signIn(page, person.address, 'twitter')).toBe(502);
    expect(await page.locator('main').innerText()).toContain('X is failing just now');
    x.failure = '429';
    expect(await signIn(page, person.address, 'twitter')).toBe(502);
    expect(await page.locator('main').innerText()).toMatch(
      /X is limiting requests just now. Try again in 4\d seconds/,
    );
    x.failure = 'none';
    x.deny = true;
    expect(await signIn(page, person.address, 'twitter')).toBe(400);
    expect(await page.locator('main').innerText()).toContain('You did not allow the sign-in on X');
    expect(await fieldState(person.address, 'twitter')).toBe('awaiting');
    await page.close();
  });
});

describe('a public post instead of signing in', () => {
  const postProof = (address: string, field: string, url: string) =>
    fetch(`${h.url}/prove/${address}/${field}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ method: 'post', url }).toString(),
    });
  const lineOn = async (address: string, field: string) =>
    /<pre id="post-proof">([^<]+)<\/pre>/.exec(
      await (await fetch(`${h.url}/prove/${address}/${field}`)).text(),
    )?.[1] ?? '';

  it('proves GitHub by a public gist of the account, and says what is wrong with any other', async () => {
    const person = await personWith({ github: 'Gist-Owner', discord: 'gist_owner' });
    const line = await lineOn(person.address, 'github');
    expect(line).toMatch(new RegExp(`^polkadot-registrar=${person.address}:[A-Z2-9]{8}$`));
    const id = 'aa11bb22cc33dd44ee55ff66';
    const url = `https://gist.github.com/gist-owner/${id}`;
    const refusal = async (gistUrl: string) => {
      const response = await postProof(person.address, 'github', gistUrl);
      expect(response.status).toBe(422);
      return response.text();
    };
    expect(await refusal('https://example.org/not-a-gist')).toContain('That is not the address of a gist');
    expect(await refusal(url)).toContain('GitHub has no public gist at that address');
    github.gists.set(id, {
      owner: { id: '90', name: 'someone-else' },
      public: true,
      files: { 'p.txt': line },
    });
    expect(await refusal(url)).toContain(
      'That gist belongs to someone-else, but the identity names Gist-Owner',
    );
    github.gists.set(id, {
      owner: { id: '91', name: 'gist-owner' },
      public: false,
      files: { 'p.txt': line },
    });
    expect(await refusal(url)).toContain('That gist is secret');
    github.gists.set(id, {
      owner: { id: '91', name: 'gist-owner' },
      public: true,
      files: { 'p.txt': 'hello' },
    });
    expect(await refusal(url)).toContain(`That gist does not hold the line ${line}`);
    github.failure = '429';
    expect(await refusal(url)).toMatch(/GitHub is limiting requests just now. Try again in 4\d seconds/);
    github.failure = 'none';
    expect(await fieldState(person.address, 'github')).toBe('awaiting');

    github.gists.set(id, {
      owner: { id: '91', name: 'Gist-Owner' },
      public: true,
      files: { 'README.md': '# me', 'polkadot.txt': `proof:\n${line}\n` },
    });
    const proven = await postProof(person.address, 'github', url);
    expect(proven.status).toBe(200);
    expect(await fieldState(person.address, 'github')).toBe('confirmed');
    // Kept with the field, for the sweep to read it again: the gist's address and its owner's ID.
    const stored = await h.withStore((store) => store.latestRequest(person.address, h.index));
    expect(stored?.fields.github).toMatchObject({
      status: 'confirmed',
      subject: 'gist-owner',
      serviceId: '91',
      postUrl: `https://gist.github.com/${id}`,
    });
    // Once: the same gist again finds nothing left to prove.
    expect((await postProof(person.address, 'github', url)).status).toBe(410);
  });

  it('proves X by a public post read back through oEmbed', async () => {
    const person = await personWith({ github: 'poster-one', discord: 'poster_one', twitter: '@Poster_1' });
    const line = await lineOn(person.address, 'twitter');
    const url = 'https://x.com/Poster_1/status/1859999999999999999';
    const refusal = async (postUrl: string) => {
      const response = await postProof(person.address, 'twitter', postUrl);
      expect(response.status).toBe(422);
      return response.text();
    };
    expect(await refusal('https://x.com/Poster_1')).toContain('That is not the address of a post on X');
    expect(await refusal(url)).toContain('protected posts cannot be checked');
    x.posts.set(url, { author: 'impostor', text: `Verifying ${line}` });
    expect(await refusal(url)).toContain('That post is by @impostor, but the identity names @Poster_1');
    x.posts.set(url, { author: 'poster_1', text: 'Verifying polkadot-registrar=WRONG234' });
    expect(await refusal(url)).toContain(`That post does not hold the line ${line}`);
    x.posts.set(url, { author: 'poster_1', text: `Verifying my identity <3 ${line}` });
    expect((await postProof(person.address, 'twitter', url)).status).toBe(200);
    expect(await fieldState(person.address, 'twitter')).toBe('confirmed');
  });
});
