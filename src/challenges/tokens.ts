/**
 * Challenge tokens: the JWT in a challenge link. It names the challenge (its single-use id), the
 * account, the field, the registrar index and the snapshot it was made for. The token only says
 * who and what; whether it is still usable is the store's word (used, voided) and the request's
 * (the snapshot it names is still the current one).
 */
import jwt from 'jsonwebtoken';
import type { Field } from '../domain/fields.js';
import { FIELDS } from '../domain/fields.js';

const ISSUER = 'people-registrar';

export interface ChallengeClaims {
  challengeId: string;
  account: string;
  field: Field;
  registrarIndex: number;
  snapshotHash: string;
  expiresAt: number;
}

export type TokenCheck = { ok: true; claims: ChallengeClaims } | { ok: false; reason: 'expired' | 'invalid' };

export class ChallengeTokens {
  constructor(
    private readonly secret: string,
    private readonly registrarIndex: number,
  ) {}

  issue(claims: Omit<ChallengeClaims, 'registrarIndex'>): string {
    return jwt.sign(
      {
        sub: claims.account,
        fld: claims.field,
        reg: this.registrarIndex,
        snap: claims.snapshotHash,
        exp: Math.floor(claims.expiresAt / 1000),
      },
      this.secret,
      { algorithm: 'HS256', jwtid: claims.challengeId, issuer: ISSUER, noTimestamp: false },
    );
  }

  /** Checks signature, expiry and shape. Never throws. */
  check(token: string, now: number): TokenCheck {
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.secret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        clockTimestamp: Math.floor(now / 1000),
      });
    } catch (error) {
      return { ok: false, reason: error instanceof jwt.TokenExpiredError ? 'expired' : 'invalid' };
    }
    if (typeof payload === 'string') return { ok: false, reason: 'invalid' };
    const { jti, sub, fld, reg, snap, exp } = payload as jwt.JwtPayload & {
      fld?: unknown;
      reg?: unknown;
      snap?: unknown;
    };
    if (
      typeof jti !== 'string' ||
      typeof sub !== 'string' ||
      typeof snap !== 'string' ||
      typeof exp !== 'number' ||
      reg !== this.registrarIndex ||
      !FIELDS.includes(fld as Field)
    ) {
      return { ok: false, reason: 'invalid' };
    }
    return {
      ok: true,
      claims: {
        challengeId: jti,
        account: sub,
        field: fld as Field,
        registrarIndex: reg,
        snapshotHash: snap,
        expiresAt: exp * 1000,
      },
    };
  }
}
