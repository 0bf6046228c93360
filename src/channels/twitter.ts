/**
 * X/Twitter: "Sign in with X" through twitter-api-v2 (OAuth 2.0 authorization code with PKCE,
 * scopes `users.read tweet.read`, `GET /2/users/me`). Handles compare case-insensitively with or
 * without `@`; the numeric ID is kept. No direct message is ever needed: they are paid per call and
 * fail whenever the person does not accept messages. With the app's bearer token, the sweep reads
 * judged accounts again by ID (`XAccounts`).
 */
import { ApiRequestError, ApiResponseError, type IClientSettings, TwitterApi } from 'twitter-api-v2';
import type { OAuthSettings, Secret } from '../config.js';
import { parseSubject } from '../domain/subjects.js';
import { TimeoutError, withTimeout } from '../support/timeout.js';
import type { AccountById, AccountLookup } from './account.js';
import { type SignedInAccount, SignInError, type SignInService } from './sign-in.js';

const TIMEOUT_MS = 10_000;

export class TwitterSignIn implements SignInService {
  readonly field = 'twitter' as const;
  readonly name = 'X';
  readonly slug = 'x';
  readonly authorizeOrigin: string;
  private readonly api: URL;

  constructor(private readonly settings: OAuthSettings) {
    this.authorizeOrigin = new URL(settings.oauthUrl).origin;
    this.api = new URL(settings.apiUrl);
  }

  private client(): TwitterApi {
    return new TwitterApi(
      { clientId: this.settings.clientId, clientSecret: this.settings.clientSecret.reveal() },
      reachedAt(this.api),
    );
  }

  authorize(o: { state: string; redirectUri: string }): { url: string; codeVerifier: string } {
    const link = this.client().generateOAuth2AuthLink(o.redirectUri, {
      state: o.state,
      scope: ['users.read', 'tweet.read'],
    });
    const url = new URL(link.url);
    const base = new URL(this.settings.oauthUrl);
    url.protocol = base.protocol;
    url.host = base.host;
    return { url: url.toString(), codeVerifier: link.codeVerifier };
  }

  async signedIn(o: { code: string; codeVerifier: string; redirectUri: string }): Promise<SignedInAccount> {
    let me: { id: string; username: string };
    try {
      me = await withTimeout(
        (async () => {
          const { client } = await this.client().loginWithOAuth2(o);
          return (await client.v2.me()).data;
        })(),
        TIMEOUT_MS,
      );
    } catch (error) {
      throw new SignInError(wordsFor(error));
    }
    const parsed = parseSubject('twitter', me.username);
    if (!parsed.ok) throw new SignInError('X named an account this registrar cannot read.');
    return { id: me.id, handle: `@${me.username}`, subject: parsed.subject };
  }
}

/**
 * X's `GET /2/users/:id` with the operator's app-only bearer token: the account with that ID now,
 * for the sweep (one paid "User: Read" per account and period). X answers a suspended or deleted
 * account with 404 (or, as it did before, 200 with a "resource-not-found" error and no data): a
 * definite "none".
 */
export class XAccounts implements AccountLookup {
  readonly service = 'X';
  private readonly client: TwitterApi;

  constructor(settings: { apiUrl: string; bearerToken: Secret }) {
    this.client = new TwitterApi(settings.bearerToken.reveal(), reachedAt(new URL(settings.apiUrl)));
  }

  async accountById(id: string): Promise<AccountById> {
    if (!/^[0-9]{1,20}$/.test(id)) return { kind: 'unknown', reason: 'the kept X ID is not a number' };
    const gone = {
      kind: 'none',
      reason: 'the X account that was proven no longer exists or is suspended',
    } as const;
    let found: Awaited<ReturnType<TwitterApi['v2']['user']>>;
    try {
      found = await withTimeout(this.client.v2.user(id), TIMEOUT_MS);
    } catch (error) {
      // X's own "no such resource", for this ID; a 404 without it (another route, a proxy) is none.
      if (error instanceof ApiResponseError && error.code === 404 && notFound(error.data, id)) return gone;
      const status = error instanceof ApiResponseError ? ` ${error.code}` : '';
      return { kind: 'unknown', reason: `X did not answer${status ? ` (${status.trim()})` : ''}` };
    }
    if (!found.data) {
      const none = found.errors?.some((e) => notFound(e, id));
      return none ? gone : { kind: 'unknown', reason: 'X did not say which account has this ID' };
    }
    if (found.data.id !== id) return { kind: 'unknown', reason: 'X did not say which account has this ID' };
    const parsed = parseSubject('twitter', found.data.username);
    return parsed.ok
      ? { kind: 'found', subject: parsed.subject }
      : { kind: 'unknown', reason: 'X named an account this registrar cannot read' };
  }
}

/** Whether `problem` is X's "resource not found" for the user `id`. */
function notFound(problem: unknown, id: string): boolean {
  const p = problem as { type?: unknown; resource_id?: unknown; value?: unknown } | undefined;
  return (
    typeof p?.type === 'string' &&
    p.type.endsWith('/problems/resource-not-found') &&
    (p.resource_id === id || p.value === id)
  );
}

/**
 * The library's settings that reach X at `api`: its hosts are fixed, so any other base (a local
 * stand-in) is reached by rewriting each request's URL in the library's own plugin hook.
 */
function reachedAt(api: URL): Partial<IClientSettings> {
  if (api.origin === 'https://api.x.com') return {};
  return {
    plugins: [
      {
        onBeforeRequest({ computedParams }) {
          computedParams.url.protocol = api.protocol;
          computedParams.url.host = api.host;
        },
      },
    ],
  };
}

/** What went wrong, for the person: never the library's message, which can carry request details. */
function wordsFor(error: unknown): string {
  if (error instanceof ApiResponseError) {
    if (error.rateLimitError || error.code === 429) {
      const reset = error.rateLimit?.reset;
      const seconds = reset ? Math.ceil(reset - Date.now() / 1000) : 0;
      return `X is limiting requests just now. Try again${seconds > 0 ? ` in ${seconds} seconds` : ' later'}.`;
    }
    if (error.code >= 500) return 'X is failing just now. Try again later.';
    return 'X refused the sign-in. Start it again from the status page.';
  }
  if (error instanceof ApiRequestError || error instanceof TimeoutError) {
    return 'X did not answer. Try again in a few minutes.';
  }
  return 'X did not complete the sign-in. Try again later.';
}
