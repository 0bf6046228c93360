/**
 * Judged accounts and posts read again without the person (the sweep), with each service's real
 * client against its local stand-in: GitHub's public `GET /user/{id}` (with the operator's token,
 * if any), Discord's `GET /users/{id}` with the bot's token, X's `GET /2/users/:id` with the app's
 * bearer token (twitter-api-v2), and the gist or X post the proof was read from. A proof holds while
 * the account with the kept ID has the handle and the post still holds the line; it is gone on the
 * service's definite answer (renamed, deleted, suspended, the post or line gone); a failing,
 * limiting or refusing API is no answer at all.
 */
import { readFileSync } from 'node:fs';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AccountChannel, type Messenger, type PostedProof, proofLine } from '../../src/channels/account.js';
import type { PageChallenge, RecheckedProof } from '../../src/channels/channel.js';
import { DiscordAccounts } from '../../src/channels/discord.js';
import { GithubAccounts } from '../../src/channels/github.js';
import { GistProof } from '../../src/channels/github-gist.js';
import { XAccounts } from '../../src/channels/twitter.js';
import { TwitterPostProof } from '../../src/channels/twitter-post.js';
import { Secret } from '../../src/config.js';
import { TestDiscord } from '../../src/dev/stand-ins/discord-gateway.js';
import { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';

const ACCOUNT = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';
const NONCE = 'K7PQ2XWM';
const LINE = proofLine({ account: ACCOUNT, nonce: NONCE });
const original = getCACertificates('default');

let github: OAuthServer;
let x: OAuthServer;
let discord: TestDiscord;

beforeAll(async () => {
  [github, x, discord] = await Promise.all([
    OAuthServer.start('github'),
    OAuthServer.start('x'),
    TestDiscord.start(),
  ]);
  // twitter-api-v2 reaches X over HTTPS only: trust the stand-in's local authority.
  setDefaultCACertificates([...original, readFileSync(x.caFile ?? '', 'utf8')]);
});

afterAll(async () => {
  setDefaultCACertificates(original);
  await Promise.all([github?.close(), x?.close(), discord?.close()]);
});

/** A bot that messages no one here: only its token is used, to read accounts. */
const SILENT_BOT: Messenger = { start: async () => {}, send: async () => ({}), close: async () => {} };

/** What `read` finds while `service` fails so; the service answers normally again after. */
async function failing<T>(
  service: OAuthServer,
  failure: OAuthServer['failure'],
  read: () => Promise<T>,
): Promise<T> {
  service.failure = failure;
  try {
    return await read();
  } finally {
    service.failure = 'none';
  }
}

const kind = async (channel: AccountChannel, proof: RecheckedProof) => (await channel.recheck?.(proof))?.kind;

describe('a judged GitHub account checked again by its ID', () => {
  const judged = { account: ACCOUNT, field: 'github' as const, subject: 'owner-gh', serviceId: '501' };
  const channel = () =>
    new AccountChannel('github', {
      post: new GistProof({ apiUrl: github.apiUrl, token: undefined }),
      accounts: new GithubAccounts({ apiUrl: github.apiUrl, token: undefined }),
    });

  it('holds while the account with the kept ID has the handle (in any case), with no sign-in configured', async () => {
    github.accounts.set('501', 'Owner-GH');
    await expect(channel().recheck?.(judged)).resolves.toEqual({ kind: 'holds' });
  });

  it('is gone when that account was renamed, or deleted', async () => {
    // Renamed, and another account took the handle: the ID is what was proven, not the handle.
    github.accounts.set('501', 'someone-else');
    github.accounts.set('777', 'owner-gh');
    await expect(channel().recheck?.(judged)).resolves.toEqual({
      kind: 'gone',
      reason: 'the GitHub account that was proven no longer has the handle owner-gh',
    });
    github.accounts.delete('501');
    await expect(channel().recheck?.(judged)).resolves.toEqual({
      kind: 'gone',
      reason: 'the GitHub account that was proven no longer exists',
    });
  });

  it("is unknown, never gone, when the API fails, a 404 is not GitHub's own, or nothing was kept to check", async () => {
    github.accounts.set('501', 'owner-gh');
    for (const failure of ['500', 'bare-404'] as const) {
      expect(await failing(github, failure, () => kind(channel(), judged))).toBe('unknown');
    }
    const { serviceId: _, ...nothing } = judged;
    expect(await kind(channel(), nothing)).toBe('unknown');
  });

  it("reads with the operator's token when there is one (5,000 reads an hour instead of 60)", async () => {
    github.accounts.set('501', 'owner-gh');
    const before = github.tokenReads;
    const withToken = new AccountChannel('github', {
      post: new GistProof({ apiUrl: github.apiUrl, token: undefined }),
      accounts: new GithubAccounts({ apiUrl: github.apiUrl, token: new Secret(github.appToken) }),
    });
    expect(await kind(withToken, judged)).toBe('holds');
    expect(github.tokenReads).toBe(before + 1);
    // A token GitHub refuses is no answer about the account.
    const refused = new AccountChannel('github', {
      post: new GistProof({ apiUrl: github.apiUrl, token: undefined }),
      accounts: new GithubAccounts({ apiUrl: github.apiUrl, token: new Secret('revoked-token') }),
    });
    expect(await kind(refused, judged)).toBe('unknown');
  });
});

describe('a judged Discord account checked again with the bot', () => {
  const judged = {
    account: ACCOUNT,
    field: 'discord' as const,
    subject: 'alice.dc',
    serviceId: '3000000000000000007',
  };
  const channel = (token = 'bot-token') =>
    new AccountChannel('discord', {
      signIn: undefined,
      messenger: SILENT_BOT,
      accounts: new DiscordAccounts({ apiUrl: `${discord.url}/api/v10`, token: new Secret(token) }),
    });

  it('holds while the account has the handle, whether or not it is a member of the server', async () => {
    discord.botToken = 'bot-token';
    discord.users.set(judged.serviceId, { username: 'alice.dc' });
    expect(await kind(channel(), judged)).toBe('holds');
    expect(discord.calls).toContain(`GET /api/v10/users/${judged.serviceId}`);
    // A legacy name#1234 is read as the identity writes it.
    discord.users.set('3000000000000000008', { username: 'Old', discriminator: '1234' });
    const legacy = { ...judged, subject: 'Old#1234', serviceId: '3000000000000000008' };
    expect(await kind(channel(), legacy)).toBe('holds');
  });

  it('is gone when the account was renamed or deleted, or Discord knows no such user', async () => {
    discord.users.set(judged.serviceId, { username: 'deleted_user_3f2a9c' });
    await expect(channel().recheck?.(judged)).resolves.toEqual({
      kind: 'gone',
      reason: 'the Discord account that was proven no longer has the handle alice.dc',
    });
    // An account deleted long ago, as Discord named those: no identity's handle.
    discord.users.set(judged.serviceId, { username: 'Deleted User 1a2b3c4d', discriminator: '0000' });
    expect(await kind(channel(), judged)).toBe('gone');
    discord.users.delete(judged.serviceId);
    await expect(channel().recheck?.(judged)).resolves.toEqual({
      kind: 'gone',
      reason: 'the Discord account that was proven no longer exists',
    });
  });

  it('is not offered without a bot, and a refused or unreachable bot is no answer', async () => {
    const signInOnly = new AccountChannel('discord', {
      messenger: SILENT_BOT,
    });
    expect(signInOnly.recheck).toBeUndefined();
    discord.users.set(judged.serviceId, { username: 'alice.dc' });
    discord.botToken = 'bot-token';
    await expect(channel('a-reset-token').recheck?.(judged)).resolves.toEqual({
      kind: 'unknown',
      reason: 'Discord answered 401',
    });
    const dead = new DiscordAccounts({ apiUrl: 'http://127.7.0.1:9/api/v10', token: new Secret('t') });
    await expect(dead.accountById(judged.serviceId)).resolves.toEqual({
      kind: 'unknown',
      reason: 'Discord did not answer',
    });
  });
});

describe("a judged X account checked again with the app's bearer token", () => {
  const judged = { account: ACCOUNT, field: 'twitter' as const, subject: 'alice_x', serviceId: '42' };
  const channel = (bearer = x.appToken) =>
    new AccountChannel('twitter', {
      post: new TwitterPostProof(x.url),
      accounts: new XAccounts({ apiUrl: x.apiUrl, bearerToken: new Secret(bearer) }),
    });

  it('holds while the account with the kept ID has the handle (in any case)', async () => {
    x.accounts.set('42', 'Alice_X');
    await expect(channel().recheck?.(judged)).resolves.toEqual({ kind: 'holds' });
  });

  it('is gone when renamed, and when X says no such account (suspended or deleted), in either form X used', async () => {
    x.accounts.set('42', 'bob_x');
    expect(await kind(channel(), judged)).toBe('gone');
    x.accounts.delete('42');
    await expect(channel().recheck?.(judged)).resolves.toEqual({
      kind: 'gone',
      reason: 'the X account that was proven no longer exists or is suspended',
    });
    x.notFoundAsErrors = true;
    try {
      expect(await kind(channel(), judged)).toBe('gone');
    } finally {
      x.notFoundAsErrors = false;
    }
  });

  it('is unknown when X limits the app, refuses its token, or answers a 404 that is not its own', async () => {
    x.accounts.set('42', 'alice_x');
    for (const failure of ['429', 'bare-404'] as const) {
      expect(await failing(x, failure, () => kind(channel(), judged))).toBe('unknown');
    }
    expect(await kind(channel('not-the-bearer'), judged)).toBe('unknown');
  });
});

describe('a judged gist or X post read again where it was found', () => {
  const challenge = (subject: string): PageChallenge & { ok: true } => ({
    ok: true,
    challengeId: 'c1',
    account: ACCOUNT,
    field: 'github',
    label: 'GitHub',
    subject,
    value: subject,
    issuedAt: 1,
    nonce: NONCE,
  });
  const gists = () =>
    new AccountChannel('github', { post: new GistProof({ apiUrl: github.apiUrl, token: undefined }) });

  it('keeps the gist’s address and its owner’s ID with the proof, and finds the line there later', async () => {
    github.gists.set('0123456789abcdef0123', {
      owner: { id: '501', name: 'Owner-GH' },
      public: true,
      files: { 'registrar.txt': `${LINE}\n` },
    });
    const proof = await gists().checkPost(
      challenge('owner-gh'),
      ' https://gist.github.com/Owner-GH/0123456789abcdef0123 ',
    );
    expect(proof).toEqual({
      ok: true,
      subject: 'owner-gh',
      serviceId: '501',
      postUrl: 'https://gist.github.com/0123456789abcdef0123',
    });
    const kept = {
      account: ACCOUNT,
      field: 'github' as const,
      subject: 'owner-gh',
      serviceId: '501',
      nonce: NONCE,
      postUrl: 'https://gist.github.com/0123456789abcdef0123',
    };
    // Read from the gist, not by the ID: no account lookup configured here.
    expect(await kind(gists(), kept)).toBe('holds');
    // Another account's line (its own nonce) proves nothing for this one.
    expect(await kind(gists(), { ...kept, nonce: 'ZZZZ2345' })).toBe('gone');
  });

  it('is gone when the line is taken out, the gist deleted, or its owner renamed; unknown when GitHub limits us or refuses our token', async () => {
    const kept = {
      account: ACCOUNT,
      field: 'github' as const,
      subject: 'owner-gh',
      nonce: NONCE,
      postUrl: 'https://gist.github.com/abcdef0123456789abcd',
    };
    const owner = { id: '501', name: 'owner-gh' };
    github.gists.set('abcdef0123456789abcd', { owner, public: true, files: { a: 'nothing here' } });
    await expect(gists().recheck?.(kept)).resolves.toEqual({
      kind: 'gone',
      reason: `That gist does not hold the line ${LINE}.`,
    });
    github.gists.set('abcdef0123456789abcd', {
      owner: { id: '501', name: 'renamed' },
      public: true,
      files: { a: LINE },
    });
    expect(await kind(gists(), kept)).toBe('gone');
    github.gists.set('abcdef0123456789abcd', { owner, public: true, files: { a: LINE } });
    expect(await failing(github, '429', () => kind(gists(), kept))).toBe('unknown');
    expect(await kind(gists(), kept)).toBe('holds');
    // A token GitHub no longer takes says nothing about the gist: never gone for it.
    const revoked = new AccountChannel('github', {
      post: new GistProof({ apiUrl: github.apiUrl, token: new Secret('revoked-token') }),
    });
    expect(await kind(revoked, kept)).toBe('unknown');
    // Nor does an address kept in a form this registrar no longer reads.
    expect(await kind(gists(), { ...kept, postUrl: 'https://gist.github.com/not-a-gist' })).toBe('unknown');
    github.gists.delete('abcdef0123456789abcd');
    await expect(gists().recheck?.(kept)).resolves.toEqual({
      kind: 'gone',
      reason: 'GitHub has no public gist at that address.',
    });
  });

  it('reads an X post again through oEmbed: gone once deleted', async () => {
    const url = 'https://x.com/alice_x/status/1865000000000000001';
    x.posts.set(url, { author: 'Alice_X', text: `Verifying my identity: ${LINE}` });
    const posts = new AccountChannel('twitter', { post: new TwitterPostProof(x.url) });
    const proof = await posts.checkPost({ ...challenge('alice_x'), field: 'twitter' }, `${url}?s=20`);
    expect(proof).toEqual({ ok: true, subject: 'alice_x', postUrl: url });
    const kept = {
      account: ACCOUNT,
      field: 'twitter' as const,
      subject: 'alice_x',
      nonce: NONCE,
      postUrl: url,
    };
    expect(await kind(posts, kept)).toBe('holds');
    x.posts.delete(url);
    expect(await kind(posts, kept)).toBe('gone');
  });

  it('a post that cannot be read is the person’s message on the page, never a proof', async () => {
    const failing: PostedProof = {
      where: 'a public gist',
      what: "the gist's address",
      read: async () => ({ kind: 'unknown', message: 'GitHub is failing just now. Try again later.' }),
    };
    const channel = new AccountChannel('github', { post: failing });
    await expect(channel.checkPost(challenge('owner-gh'), 'https://gist.github.com/x')).resolves.toEqual({
      ok: false,
      message: 'GitHub is failing just now. Try again later.',
    });
  });
});
