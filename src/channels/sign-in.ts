/**
 * "Sign in with the service" (OAuth 2.0 authorization code with PKCE): the person proves control of
 * the account an identity names by signing in to it, so nothing is ever sent to anyone. The flow is
 * stateless on the registrar's side and binds every step to one challenge:
 *
 * 1. POST start: a state (signed: challenge, nonce, expiry) goes to the service; the PKCE verifier
 *    and the nonce stay in an HttpOnly cookie of this browser (`nonce.verifier`).
 * 2. GET callback (the service sends the person back): the state's signature, expiry and cookie are
 *    checked, the code is exchanged, the signed-in account read, and its handle compared with the
 *    challenge's subject. Nothing is written: the page asks "is this yours?" and carries a signed
 *    sign-in (challenge, handle, the service's numeric ID, nonce).
 * 3. POST confirm: the sign-in goes through `Proofs.answer`, which uses the challenge up. Every state
 *    and sign-in of that challenge is dead from then on: a state is used once.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Field } from '../domain/fields.js';

/** What a service says about the account that signed in. */
export interface SignedInAccount {
  /** The service's permanent numeric ID (handles can be renamed and claimed by someone else). */
  id: string;
  /** The handle as the service shows it, for the page. */
  handle: string;
  /** The handle in the subject's canonical form, compared with the challenge's subject. */
  subject: string;
}

/** A service one can sign in with: its authorize URL and how a code becomes the signed-in account. */
export interface SignInService {
  readonly field: Field;
  /** As people know it: "GitHub". */
  readonly name: string;
  /** The path segment of its callback: /sign-in/<slug>/callback. */
  readonly slug: string;
  /** Origin of the authorize page (the start form's redirect goes there). */
  readonly authorizeOrigin: string;
  /** Where to send the person, and the PKCE verifier that goes with it (kept in the browser's cookie). */
  authorize(o: { state: string; redirectUri: string }): { url: string; codeVerifier: string };
  /** Exchanges the code and reads the account; throws a `SignInError` with a message for the person. */
  signedIn(o: { code: string; codeVerifier: string; redirectUri: string }): Promise<SignedInAccount>;
}

/**
 * A failure the person can read: the service refused, was down, or limited us. `notFound`: the
 * service answered that what was asked for is not there (404 or 410): the one definite "no" a
 * check again may act on. A refused token, a block or a limit says nothing about the thing asked.
 */
export class SignInError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

const STATE_TTL_MS = 10 * 60_000;
/** A signed sign-in waits this long for the person's Confirm. */
const SIGNED_IN_TTL_MS = 10 * 60_000;

const b64url = (data: Buffer) => data.toString('base64url');

export interface StartedSignIn {
  state: string;
  /** Goes into this browser's cookie with the PKCE verifier. */
  nonce: string;
}

/**
 * An authorize URL at `base` + `path` with `params`, the state and redirect, and a fresh PKCE
 * challenge (S256); the verifier goes back to the caller for the browser's cookie.
 */
export function authorizeUrl(
  base: string,
  path: string,
  params: Record<string, string>,
  o: { state: string; redirectUri: string },
): { url: string; codeVerifier: string } {
  const pkce = pkcePair();
  const url = new URL(path, base);
  url.search = new URLSearchParams({
    ...params,
    redirect_uri: o.redirectUri,
    state: o.state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString(), codeVerifier: pkce.verifier };
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

export type CheckedState = { ok: true; challengeId: string; nonce: string } | { ok: false; message: string };

export interface SignedInClaims {
  challengeId: string;
  subject: string;
  id: string;
  handle: string;
  field: Field;
}

export const SIGN_IN_REFUSALS = {
  state: 'This sign-in did not start here, or was already used. Start it again from the status page.',
  expired: 'This sign-in took too long. Start it again from the status page.',
  browser: 'This sign-in was started in another browser. Start it again here, from the status page.',
  signedIn: 'This confirmation is not valid or has expired. Sign in again from the status page.',
} as const;

/**
 * Signs and checks the small values the flow passes around (HMAC-SHA256 under the registrar's
 * secret, with a purpose label so one kind can never pass for another).
 */
export class SignInSeals {
  constructor(private readonly secret: string) {}

  private seal(purpose: string, body: object): string {
    const payload = b64url(Buffer.from(JSON.stringify(body)));
    return `${payload}.${this.mac(purpose, payload)}`;
  }

  private open(purpose: string, sealed: string): Record<string, unknown> | undefined {
    const [payload, mac, extra] = sealed.split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.mac(purpose, payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const body: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(purpose: string, payload: string): string {
    return b64url(createHmac('sha256', this.secret).update(`sign-in:${purpose}:${payload}`).digest());
  }

  start(challengeId: string, now: number): StartedSignIn {
    const nonce = b64url(randomBytes(16));
    return { state: this.seal('state', { c: challengeId, n: nonce, e: now + STATE_TTL_MS }), nonce };
  }

  /** The state the service sent back, against this browser's cookie. */
  checkState(state: string, cookie: string | undefined, now: number): CheckedState & { verifier?: string } {
    const body = this.open('state', state);
    if (!body || typeof body.c !== 'string' || typeof body.n !== 'string' || typeof body.e !== 'number') {
      return { ok: false, message: SIGN_IN_REFUSALS.state };
    }
    if (body.e <= now) return { ok: false, message: SIGN_IN_REFUSALS.expired };
    const value = cookie ?? '';
    const dot = value.indexOf('.');
    const nonce = dot < 0 ? value : value.slice(0, dot);
    const verifier = dot < 0 ? '' : value.slice(dot + 1);
    if (nonce !== body.n || !verifier) return { ok: false, message: SIGN_IN_REFUSALS.browser };
    return { ok: true, challengeId: body.c, nonce: body.n, verifier };
  }

  signedIn(claims: SignedInClaims, now: number): string {
    return this.seal('signed-in', { ...claims, e: now + SIGNED_IN_TTL_MS });
  }

  checkSignedIn(sealed: string, now: number): SignedInClaims | undefined {
    const body = this.open('signed-in', sealed);
    if (!body || typeof body.e !== 'number' || body.e <= now) return undefined;
    const { challengeId, subject, id, handle, field } = body;
    if (
      typeof challengeId !== 'string' ||
      typeof subject !== 'string' ||
      typeof id !== 'string' ||
      typeof handle !== 'string' ||
      typeof field !== 'string'
    ) {
      return undefined;
    }
    return { challengeId, subject, id, handle, field: field as Field };
  }
}

/** A JSON call to a service, with a bounded time and failures turned into words for the person. */
export async function serviceJson(
  service: string,
  url: string,
  init: RequestInit & { timeoutMs?: number; refused?: string },
): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(init.timeoutMs ?? 10_000) });
  } catch {
    throw new SignInError(`${service} did not answer. Try again in a few minutes.`);
  }
  // GitHub limits with 403: its primary limit with x-ratelimit-remaining 0, its secondary with retry-after.
  const limited =
    response.status === 429 ||
    (response.status === 403 &&
      (response.headers.get('x-ratelimit-remaining') === '0' || response.headers.has('retry-after')));
  if (limited) {
    const reset = Number(
      response.headers.get('retry-after') ??
        response.headers.get('x-ratelimit-reset-after') ??
        Number(response.headers.get('x-ratelimit-reset') ?? 0) - Date.now() / 1000,
    );
    const wait = Number.isFinite(reset) && reset > 0 ? ` in ${Math.ceil(reset)} seconds` : ' later';
    throw new SignInError(`${service} is limiting requests just now. Try again${wait}.`);
  }
  if (response.status >= 500) throw new SignInError(`${service} is failing just now. Try again later.`);
  const refused = init.refused ?? `${service} refused the sign-in. Start it again from the status page.`;
  if (!response.ok) throw new SignInError(refused, response.status === 404 || response.status === 410);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new SignInError(`${service} sent an answer that is not JSON. Try again later.`);
  }
  if (typeof body !== 'object' || body === null) {
    throw new SignInError(`${service} sent an unexpected answer. Try again later.`);
  }
  const record = body as Record<string, unknown>;
  // GitHub answers a refused code with 200 and an `error` member.
  if (typeof record.error === 'string') throw new SignInError(refused);
  return record;
}
