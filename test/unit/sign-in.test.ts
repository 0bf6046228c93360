/**
 * The sign-in's sealed values: a state works only with its browser's cookie and before it expires,
 * nothing sealed for one purpose passes for another, a changed byte breaks the seal; Discord's
 * account naming follows its own rules.
 */
import { describe, expect, it } from '@jest/globals';
import { discordSubjectOf } from '../../src/channels/discord.js';
import { pkcePair, SIGN_IN_REFUSALS, SignInSeals } from '../../src/channels/sign-in.js';

const seals = new SignInSeals('unit-test-secret-0123456789abcdef0123');
const NOW = 1_800_000_000_000;

describe('sealed sign-in values', () => {
  it('take a state back only from the browser that started it, within ten minutes', () => {
    const started = seals.start('challenge-1', NOW);
    const cookie = `${started.nonce}.verifier.with.dots`;
    expect(seals.checkState(started.state, cookie, NOW + 60_000)).toEqual({
      ok: true,
      challengeId: 'challenge-1',
      nonce: started.nonce,
      verifier: 'verifier.with.dots',
    });
    expect(seals.checkState(started.state, cookie, NOW + 10 * 60_000)).toEqual({
      ok: false,
      message: SIGN_IN_REFUSALS.expired,
    });
    expect(seals.checkState(started.state, undefined, NOW)).toEqual({
      ok: false,
      message: SIGN_IN_REFUSALS.browser,
    });
    const other = seals.start('challenge-1', NOW);
    expect(seals.checkState(started.state, `${other.nonce}.v`, NOW)).toEqual({
      ok: false,
      message: SIGN_IN_REFUSALS.browser,
    });
  });

  it('refuse a changed byte, another secret, and a value sealed for another purpose', () => {
    const started = seals.start('challenge-2', NOW);
    const cookie = `${started.nonce}.v`;
    const [payload = '', mac = ''] = started.state.split('.');
    const forged = Buffer.from(
      JSON.stringify({ c: 'challenge-9', n: started.nonce, e: NOW + 60_000 }),
    ).toString('base64url');
    expect(seals.checkState(`${forged}.${mac}`, cookie, NOW).ok).toBe(false);
    expect(seals.checkState(`${payload}.${mac.slice(1)}x`, cookie, NOW).ok).toBe(false);
    expect(
      new SignInSeals('another-secret-0123456789abcdef01234').checkState(started.state, cookie, NOW).ok,
    ).toBe(false);
    const signedIn = seals.signedIn(
      { challengeId: 'challenge-2', subject: 'octocat', id: '1', handle: 'octocat', field: 'github' },
      NOW,
    );
    expect(seals.checkState(signedIn, cookie, NOW).ok).toBe(false);
    expect(seals.checkSignedIn(started.state, NOW)).toBeUndefined();
    expect(seals.checkSignedIn(signedIn, NOW + 60_000)).toEqual({
      challengeId: 'challenge-2',
      subject: 'octocat',
      id: '1',
      handle: 'octocat',
      field: 'github',
    });
    expect(seals.checkSignedIn(signedIn, NOW + 10 * 60_000)).toBeUndefined();
    expect(seals.checkSignedIn('not.sealed.at.all', NOW)).toBeUndefined();
  });

  it('make PKCE pairs by RFC 7636: a fresh 43-character verifier and its S256 challenge', async () => {
    const { createHash } = await import('node:crypto');
    const a = pkcePair();
    const b = pkcePair();
    expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.verifier).not.toBe(b.verifier);
    expect(a.challenge).toBe(createHash('sha256').update(a.verifier).digest('base64url'));
  });
});

describe('Discord accounts', () => {
  it("name today's accounts by their lower-case username and legacy ones with the discriminator", () => {
    expect(discordSubjectOf({ username: 'Alice_01', discriminator: '0' })).toBe('alice_01');
    expect(discordSubjectOf({ username: 'alice_01' })).toBe('alice_01');
    expect(discordSubjectOf({ username: 'Bob', discriminator: '1234' })).toBe('Bob#1234');
    expect(discordSubjectOf({ username: 'no spaces allowed', discriminator: '0' })).toBeUndefined();
  });
});
