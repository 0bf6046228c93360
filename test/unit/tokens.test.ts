import { describe, expect, it } from '@jest/globals';
import { ChallengeTokens } from '../../src/registrar/tokens.js';

const SECRET = 'unit-test-secret-0123456789abcdef0123';
const claims = {
  challengeId: 'c-1',
  account: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  field: 'email' as const,
  snapshotHash: `0x${'ab'.repeat(32)}`,
  expiresAt: 2_000_000_000_000,
};

describe('challenge tokens', () => {
  const tokens = new ChallengeTokens(SECRET, 4);

  it('carry the challenge id, account, field, registrar index and snapshot', () => {
    const token = tokens.issue(claims);
    expect(tokens.check(token, 1_900_000_000_000)).toEqual({
      ok: true,
      claims: { ...claims, registrarIndex: 4 },
    });
  });

  it('are refused once expired', () => {
    const token = tokens.issue(claims);
    // Still signed by us: the account is named, for the way to its status page.
    expect(tokens.check(token, claims.expiresAt + 1_000)).toEqual({
      ok: false,
      reason: 'expired',
      account: claims.account,
    });
  });

  it('are refused when tampered with, signed with another secret, or for another registrar', () => {
    const token = tokens.issue(claims);
    const [header, payload, signature] = token.split('.');
    const forged = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString());
    forged.fld = 'display';
    const tampered = [header, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
    const now = 1_900_000_000_000;
    expect(tokens.check(tampered, now)).toEqual({ ok: false, reason: 'invalid' });
    expect(new ChallengeTokens('another-secret-0123456789abcdef012345', 4).check(token, now)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(new ChallengeTokens(SECRET, 5).check(token, now)).toEqual({ ok: false, reason: 'invalid' });
    expect(tokens.check('not-a-token', now)).toEqual({ ok: false, reason: 'invalid' });
  });
});
