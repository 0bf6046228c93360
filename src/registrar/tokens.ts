/**
 * Challenge tokens: the JWT in a challenge link. It names the challenge (its single-use id), the
 * account, the field, the registrar index and the snapshot it was made for. The token only says
 * who and what; whether it is still usable is the store's word (used, voided) and the request's
 * (the snapshot it names is still the current one).
 */
import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Field } from '../domain/fields.js';
import { FIELDS } from '../domain/fields.js';
import { deliveryDomain, limitSubject } from '../domain/subjects.js';

const ISSUER = 'people-registrar';

/**
 * Codes people type: no 0/O or 1/I/L to confuse; 8 characters is about 40 bits. 31 symbols from a
 * byte each carry a bias of under 1 %, which costs less than a bit.
 */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;

export interface ChallengeClaims {
  challengeId: string;
  account: string;
  field: Field;
  registrarIndex: number;
  snapshotHash: string;
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; claims: ChallengeClaims }
  /** An expired token's account (its signature holds), for the way to its status page. */
  | { ok: false; reason: 'expired'; account?: string }
  | { ok: false; reason: 'invalid' };

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

  /**
   * The short code of a challenge, derived from its id with the secret: the outbox can deliver it
   * after a restart without the store ever holding it (the store keeps its hash).
   */
  codeFor(challengeId: string): string {
    return this.derive(`code:${challengeId}`);
  }

  private derive(label: string): string {
    const digest = createHmac('sha256', this.secret).update(label).digest();
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[(digest[i] ?? 0) % CODE_ALPHABET.length];
    return code;
  }

  /**
   * The public nonce of a challenge proven on the registrar's site (a published line, a signed
   * text): derived apart from `codeFor`, so what a page shows to anyone is never a challenge's code.
   */
  nonceFor(challengeId: string): string {
    return this.derive(`nonce:${challengeId}`);
  }

  /**
   * The key message limits are counted under for one field's subject: stable, but not the address
   * itself, so counts outlive the retention of personal data without keeping it.
   */
  targetKey(field: Field, subject: string): string {
    return this.key(`target:${field}:${limitSubject(field, subject)}`);
  }

  /** The key of the domain a subject's messages go to (an email address's), if it has one. */
  domainKey(field: Field, subject: string): string | undefined {
    const domain = deliveryDomain(field, subject);
    return domain === undefined ? undefined : this.key(`domain:${field}:${domain}`);
  }

  /**
   * The key a proven handle is held under (one account per handle, handles.ts): the handle itself
   * is stored once, in its request, and goes with the request's personal data.
   */
  handleKey(handle: string): string {
    return this.key(`handle:${handle}`);
  }

  private key(label: string): string {
    return createHmac('sha256', this.secret).update(label).digest('hex');
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
      if (!(error instanceof jwt.TokenExpiredError)) return { ok: false, reason: 'invalid' };
      const signed = jwt.verify(token, this.secret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        ignoreExpiration: true,
      });
      const account = typeof signed === 'string' ? undefined : signed.sub;
      return { ok: false, reason: 'expired', ...(account === undefined ? {} : { account }) };
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
