/**
 * A judged GitHub account read again without the person, by the numeric ID kept from its sign-in,
 * against the local GitHub stand-in (`GET /user/{id}`, public): it holds while that account has the
 * handle; it is gone when the account was renamed or deleted; a failing or silent API is no answer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AccountChannel } from '../../src/channels/account.js';
import { GithubSignIn } from '../../src/channels/github.js';
import { Secret } from '../../src/config.js';
import { OAuthServer } from '../../src/dev/stand-ins/oauth-server.js';

let github: OAuthServer;
let channel: AccountChannel;

beforeAll(async () => {
  github = await OAuthServer.start('github');
  const env = github.env();
  channel = new AccountChannel(
    'github',
    new GithubSignIn({
      clientId: 'id',
      clientSecret: new Secret('secret'),
      oauthUrl: env.REGISTRAR_GITHUB_OAUTH_URL ?? '',
      apiUrl: env.REGISTRAR_GITHUB_API_URL ?? '',
    }),
    undefined,
  );
});

afterAll(async () => {
  await github?.close();
});

const judged = {
  account: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  field: 'github' as const,
  subject: 'owner-gh',
  serviceId: '501',
};

describe('a judged GitHub account checked again', () => {
  it('holds while the account with the kept ID has the handle (in any case)', async () => {
    github.accounts.set('501', 'Owner-GH');
    await expect(channel.recheck?.(judged)).resolves.toEqual({ kind: 'holds' });
  });

  it('is gone when that account was renamed, or deleted', async () => {
    github.accounts.set('501', 'someone-else');
    const renamed = await channel.recheck?.(judged);
    expect(renamed).toEqual({
      kind: 'gone',
      reason: 'the GitHub account that was proven no longer has the handle owner-gh',
    });
    github.accounts.delete('501');
    expect((await channel.recheck?.(judged))?.kind).toBe('gone');
    // Another account taking the handle changes nothing: the ID is what was proven.
    github.accounts.set('777', 'owner-gh');
    expect((await channel.recheck?.(judged))?.kind).toBe('gone');
  });

  it('is unknown, never gone, when the API fails or the ID was not kept', async () => {
    github.accounts.set('501', 'owner-gh');
    github.failure = '500';
    try {
      expect((await channel.recheck?.(judged))?.kind).toBe('unknown');
    } finally {
      github.failure = 'none';
    }
    const { serviceId: _, ...byGist } = judged;
    expect((await channel.recheck?.(byGist))?.kind).toBe('unknown');
  });

  it('is not offered where the sign-in service cannot read an account by ID', () => {
    const posts = new AccountChannel('github', undefined, {
      where: 'a public gist',
      what: "the gist's address",
      check: async () => ({ ok: false, message: 'unused' }),
    });
    expect(posts.recheck).toBeUndefined();
  });
});
