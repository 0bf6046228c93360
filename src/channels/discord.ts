/**
 * Discord: "Sign in with Discord" (OAuth2 authorization code with PKCE, scope `identify`,
 * `GET /users/@me`). Discord compares today's usernames unique and in lower case; a legacy
 * `name#1234` only exists while the discriminator is not "0". The numeric ID is kept.
 */
import type { OAuthSettings } from '../config.js';
import { parseSubject } from '../domain/subjects.js';
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
