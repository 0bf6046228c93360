/**
 * X/Twitter: "Sign in with X" through twitter-api-v2 (OAuth 2.0 authorization code with PKCE,
 * scopes `users.read tweet.read`, `GET /2/users/me`). Handles compare case-insensitively with or
 * without `@`; the numeric ID is kept. No direct message is ever needed: they are paid per call and
 * fail whenever the person does not accept messages.
 *
 * The library's hosts are fixed (x.com, api.x.com); the settings' base URLs, when not the real
 * ones, are reached by rewriting each request's URL in the library's own plugin hook.
 */
import { ApiRequestError, ApiResponseError, TwitterApi } from 'twitter-api-v2';
import type { OAuthSettings } from '../config.js';
import { parseSubject } from '../domain/subjects.js';
import { TimeoutError, withTimeout } from '../support/timeout.js';
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
    const api = this.api;
    const rewrite = api.origin !== 'https://api.x.com';
    return new TwitterApi(
      { clientId: this.settings.clientId, clientSecret: this.settings.clientSecret.reveal() },
      rewrite
        ? {
            plugins: [
              {
                onBeforeRequest({ computedParams }) {
                  computedParams.url.protocol = api.protocol;
                  computedParams.url.host = api.host;
                },
              },
            ],
          }
        : {},
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
