/**
 * GitHub: "Sign in with GitHub" (the OAuth web flow with PKCE; no scope, the public profile is
 * enough). `GET /user` names the account; logins compare case-insensitively and the numeric ID is
 * kept, because a login renamed away can be claimed by someone else. `GET /user/{id}` (public)
 * says which login that ID has now, for the sweep.
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

/** The headers of every call to GitHub's REST API, with the bearer token where there is one. */
export function githubHeaders(token: string | undefined): Record<string, string> {
  return {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '2022-11-28',
    'user-agent': 'people-registrar',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
}

export class GithubSignIn implements SignInService {
  readonly field = 'github' as const;
  readonly name = 'GitHub';
  readonly slug = 'github';
  readonly authorizeOrigin: string;

  constructor(private readonly settings: OAuthSettings) {
    this.authorizeOrigin = new URL(settings.oauthUrl).origin;
  }

  authorize(o: { state: string; redirectUri: string }): { url: string; codeVerifier: string } {
    return authorizeUrl(
      this.settings.oauthUrl,
      '/login/oauth/authorize',
      { client_id: this.settings.clientId, allow_signup: 'false' },
      o,
    );
  }

  async signedIn(o: { code: string; codeVerifier: string; redirectUri: string }): Promise<SignedInAccount> {
    // GitHub answers token errors with 200 and an `error` member; serviceJson refuses both kinds.
    const token = await serviceJson(
      this.name,
      new URL('/login/oauth/access_token', this.settings.oauthUrl).href,
      {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: this.settings.clientId,
          client_secret: this.settings.clientSecret.reveal(),
          code: o.code,
          redirect_uri: o.redirectUri,
          code_verifier: o.codeVerifier,
        }).toString(),
      },
    );
    if (typeof token.access_token !== 'string')
      throw new SignInError('GitHub sent no access token. Try again.');
    const user = await serviceJson(this.name, new URL('/user', this.settings.apiUrl).href, {
      headers: githubHeaders(token.access_token),
    });
    if (typeof user.login !== 'string' || typeof user.id !== 'number') {
      throw new SignInError('GitHub did not say which account signed in. Try again.');
    }
    const parsed = parseSubject('github', user.login);
    if (!parsed.ok) throw new SignInError('GitHub named an account this registrar cannot read.');
    return { id: String(user.id), handle: user.login, subject: parsed.subject };
  }
}

/**
 * GitHub's public `GET /user/{id}`: the login the account with that numeric ID has now, for the
 * sweep; 404 is a definite "no such account". Without a token GitHub allows 60 reads an hour per
 * address; with one (REGISTRAR_GITHUB_TOKEN), 5,000.
 */
export class GithubAccounts implements AccountLookup {
  readonly service = 'GitHub';

  constructor(private readonly settings: { apiUrl: string; token: Secret | undefined }) {}

  async accountById(id: string): Promise<AccountById> {
    if (!/^[0-9]{1,20}$/.test(id)) return { kind: 'unknown', reason: 'the kept GitHub ID is not a number' };
    let response: Response;
    try {
      response = await fetch(new URL(`/user/${id}`, this.settings.apiUrl).href, {
        headers: githubHeaders(this.settings.token?.reveal()),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      return { kind: 'unknown', reason: 'GitHub did not answer' };
    }
    const user = (await response.json().catch(() => undefined)) as
      | { login?: unknown; id?: unknown; message?: unknown }
      | undefined;
    // GitHub's own "Not Found"; a 404 without it (another route, a proxy) is no answer.
    if (response.status === 404 && user?.message === 'Not Found')
      return { kind: 'none', reason: 'the GitHub account that was proven no longer exists' };
    // Rate limits (403 or 429), a refused token (401) and failures are no answer about the account.
    if (!response.ok) return { kind: 'unknown', reason: `GitHub answered ${response.status}` };
    if (typeof user?.login !== 'string' || String(user.id) !== id) {
      return { kind: 'unknown', reason: 'GitHub did not say which account has this ID' };
    }
    const parsed = parseSubject('github', user.login);
    return parsed.ok
      ? { kind: 'found', subject: parsed.subject }
      : { kind: 'unknown', reason: 'GitHub named an account this registrar cannot read' };
  }
}
