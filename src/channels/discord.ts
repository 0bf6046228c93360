/**
 * Discord: "Sign in with Discord" (OAuth2 authorization code with PKCE, scope `identify`,
 * `GET /users/@me`). Discord compares today's usernames unique and in lower case; a legacy
 * `name#1234` only exists while the discriminator is not "0". The numeric ID is kept, and read
 * again by the sweep where the operator has a bot (`DiscordAccounts`).
 */
import type { OAuthSettings, Secret } from '../config.js';
import { parseSubject } from '../domain/subjects.js';
import type { AccountById, AccountLookup } from './account.js';
import {
  authorizeUrl,
  type SignedInAccount,
  SignInError,
  type SignInService,
  serviceJson,
} from './sign-in.js';

/** The account as the identity names it: `name#1234` for a legacy account, else the username. */
export function discordSubjectOf(user: { username: string; discriminator?: string }): string | undefined {
  const legacy =
    user.discriminator !== undefined && user.discriminator !== '0' && user.discriminator !== '0000';
  const parsed = parseSubject('discord', legacy ? `${user.username}#${user.discriminator}` : user.username);
  return parsed.ok ? parsed.subject : undefined;
}

export class DiscordSignIn implements SignInService {
  readonly field = 'discord' as const;
  readonly name = 'Discord';
  readonly slug = 'discord';
  readonly authorizeOrigin: string;

  constructor(private readonly settings: OAuthSettings) {
    this.authorizeOrigin = new URL(settings.oauthUrl).origin;
  }

  authorize(o: { state: string; redirectUri: string }): { url: string; codeVerifier: string } {
    return authorizeUrl(
      this.settings.oauthUrl,
      '/oauth2/authorize',
      {
        response_type: 'code',
        client_id: this.settings.clientId,
        scope: 'identify',
        prompt: 'consent',
      },
      o,
    );
  }

  async signedIn(o: { code: string; codeVerifier: string; redirectUri: string }): Promise<SignedInAccount> {
    const basic = Buffer.from(`${this.settings.clientId}:${this.settings.clientSecret.reveal()}`).toString(
      'base64',
    );
    const token = await serviceJson(this.name, `${this.settings.apiUrl}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: o.code,
        redirect_uri: o.redirectUri,
        code_verifier: o.codeVerifier,
      }).toString(),
    });
    if (typeof token.access_token !== 'string')
      throw new SignInError('Discord sent no access token. Try again.');
    const user = await serviceJson(this.name, `${this.settings.apiUrl}/users/@me`, {
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    if (typeof user.id !== 'string' || typeof user.username !== 'string') {
      throw new SignInError('Discord did not say which account signed in. Try again.');
    }
    const discriminator = typeof user.discriminator === 'string' ? user.discriminator : undefined;
    const subject = discordSubjectOf({
      username: user.username,
      ...(discriminator ? { discriminator } : {}),
    });
    if (!subject) throw new SignInError('Discord named an account this registrar cannot read.');
    const handle = subject.includes('#') ? subject : `@${user.username}`;
    return { id: user.id, handle, subject };
  }
}

/** Discord's JSON error code for a user that does not exist. */
const UNKNOWN_USER = 10013;

/**
 * Discord's `GET /users/{id}` with the operator's bot token (a bot may read any user): the account
 * with that ID now, for the sweep. An unknown user (404, code 10013) is a definite "none"; a deleted
 * account keeps its ID under a name like `deleted_user_…`, so it no longer holds the judged handle.
 */
export class DiscordAccounts implements AccountLookup {
  readonly service = 'Discord';

  constructor(private readonly settings: { apiUrl: string; token: Secret }) {}

  async accountById(id: string): Promise<AccountById> {
    if (!/^[0-9]{1,20}$/.test(id)) return { kind: 'unknown', reason: 'the kept Discord ID is not a number' };
    let response: Response;
    try {
      response = await fetch(`${this.settings.apiUrl}/users/${id}`, {
        headers: {
          authorization: `Bot ${this.settings.token.reveal()}`,
          'user-agent': 'DiscordBot (https://github.com/people-registrar, 1)',
        },
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      return { kind: 'unknown', reason: 'Discord did not answer' };
    }
    const body = (await response.json().catch(() => undefined)) as
      | { id?: unknown; username?: unknown; discriminator?: unknown; code?: unknown }
      | undefined;
    if (response.status === 404 && body?.code === UNKNOWN_USER)
      return { kind: 'none', reason: 'the Discord account that was proven no longer exists' };
    // A bad token (401), limits (429) and failures are no answer about the account.
    if (!response.ok) return { kind: 'unknown', reason: `Discord answered ${response.status}` };
    if (body?.id !== id || typeof body.username !== 'string') {
      return { kind: 'unknown', reason: 'Discord did not say which account has this ID' };
    }
    const subject = discordSubjectOf({
      username: body.username,
      ...(typeof body.discriminator === 'string' ? { discriminator: body.discriminator } : {}),
    });
    // A name no identity could hold (an old deleted account's "Deleted User 1a2b3c4d") is not the
    // judged handle, which was one.
    return { kind: 'found', subject: subject ?? body.username };
  }
}
