/**
 * A small local stand-in for the OAuth sign-in of GitHub and Discord, as each documents it:
 *
 * - GitHub: GET /login/oauth/authorize (client_id, redirect_uri, state, code_challenge S256),
 *   POST /login/oauth/access_token (form; with `Accept: application/json` the answer is JSON, and a
 *   bad code is `200 {"error":"bad_verification_code"}`), GET /user (Bearer) → { login, id }.
 * - Discord: GET /oauth2/authorize (response_type=code, scope identify), POST /api/v10/oauth2/token
 *   (form, client credentials by HTTP Basic; a bad code is `400 {"error":"invalid_grant"}`),
 *   GET /api/v10/users/@me (Bearer) → { id, username, discriminator, global_name }.
 *
 * The authorize page consents at once as `user` (or, with `deny`, sends error=access_denied back),
 * codes are single use and bound to the redirect URI and the PKCE challenge, and `failure` makes
 * the token endpoint answer 500, 429 (with the service's rate-limit headers) or hang.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Flavour = 'github' | 'discord';

export interface OAuthUser {
  id: string;
  name: string;
  discriminator?: string;
}

interface Grant {
  redirectUri: string;
  codeChallenge: string | undefined;
  user: OAuthUser;
}

export class OAuthServer {
  user: OAuthUser = { id: '1', name: 'nobody' };
  deny = false;
  failure: 'none' | '500' | '429' | 'hang' = 'none';
  /** Every code exchange that reached the token endpoint. */
  exchanges = 0;
  private readonly grants = new Map<string, Grant>();
  private readonly tokens = new Map<string, OAuthUser>();
  private readonly hung: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    readonly flavour: Flavour,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {}

  static async start(flavour: Flavour): Promise<OAuthServer> {
    const server = createServer();
    const oauth = new OAuthServer(server, flavour, `${flavour}-client`, `${flavour}-secret-0123456789`);
    server.on('request', (req, res) => {
      oauth.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return oauth;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The settings the daemon takes for this service. */
  env(): Record<string, string> {
    const name = this.flavour.toUpperCase();
    return {
      [`REGISTRAR_${name}_CLIENT_ID`]: this.clientId,
      [`REGISTRAR_${name}_CLIENT_SECRET`]: this.clientSecret,
      [`REGISTRAR_${name}_OAUTH_URL`]: this.url,
      [`REGISTRAR_${name}_API_URL`]: this.flavour === 'github' ? this.url : `${this.url}/api/v10`,
    };
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const github = this.flavour === 'github';
    const route = `${req.method} ${url.pathname}`;
    if (route === (github ? 'GET /login/oauth/authorize' : 'GET /oauth2/authorize'))
      return this.authorize(url, res);
    if (route === (github ? 'POST /login/oauth/access_token' : 'POST /api/v10/oauth2/token')) {
      this.token(req, res, await bodyOf(req));
      return;
    }
    if (route === (github ? 'GET /user' : 'GET /api/v10/users/@me')) return this.me(req, res);
    json(res, 404, github ? { message: 'Not Found' } : { message: '404: Not Found', code: 0 });
  }

  private authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || !redirect) {
      json(res, 400, { error: 'invalid_request' });
      return;
    }
    if (this.flavour === 'discord' && (q.get('response_type') !== 'code' || q.get('scope') !== 'identify')) {
      json(res, 400, { error: 'invalid_scope' });
      return;
    }
    const back = new URL(redirect);
    if (this.deny) {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = randomBytes(10).toString('hex');
      this.grants.set(code, {
        redirectUri: redirect,
        codeChallenge:
          q.get('code_challenge_method') === 'S256' ? (q.get('code_challenge') ?? undefined) : undefined,
        user: this.user,
      });
      back.searchParams.set('code', code);
    }
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    res.writeHead(302, { location: back.toString() }).end();
  }

  private token(req: IncomingMessage, res: ServerResponse, body: URLSearchParams): boolean {
    this.exchanges += 1;
    if (this.failure === 'hang') {
      this.hung.push(res);
      return false;
    }
    if (this.failure === '500') return json(res, 500, { message: 'Server Error' });
    if (this.failure === '429') {
      const headers: Record<string, string> =
        this.flavour === 'github'
          ? { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 42) }
          : { 'retry-after': '42', 'x-ratelimit-reset-after': '42', 'x-ratelimit-scope': 'user' };
      return json(
        res,
        429,
        { message: 'You are being rate limited.', retry_after: 42, global: false },
        headers,
      );
    }
    const github = this.flavour === 'github';
    let clientId = body.get('client_id');
    let clientSecret = body.get('client_secret');
    if (!github) {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      [clientId = null, clientSecret = null] = Buffer.from(basic, 'base64').toString().split(':');
      if (body.get('grant_type') !== 'authorization_code')
        return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const refuse = () =>
      github
        ? json(res, 200, {
            error: 'bad_verification_code',
            error_description: 'The code passed is incorrect or expired.',
          })
        : json(res, 400, { error: 'invalid_grant', error_description: 'Invalid "code" in request.' });
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      return json(res, github ? 200 : 401, { error: 'invalid_client' });
    }
    const code = body.get('code') ?? '';
    const grant = this.grants.get(code);
    this.grants.delete(code);
    if (!grant || grant.redirectUri !== body.get('redirect_uri')) return refuse();
    if (grant.codeChallenge !== undefined) {
      const verifier = body.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.codeChallenge) return refuse();
    }
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, grant.user);
    return json(
      res,
      200,
      github
        ? { access_token: token, token_type: 'bearer', scope: '' }
        : {
            access_token: token,
            token_type: 'Bearer',
            expires_in: 604800,
            refresh_token: 'r',
            scope: 'identify',
          },
    );
  }

  private me(req: IncomingMessage, res: ServerResponse): void {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const user = this.tokens.get(token);
    if (!user) {
      json(
        res,
        401,
        this.flavour === 'github'
          ? { message: 'Bad credentials' }
          : { message: '401: Unauthorized', code: 0 },
      );
      return;
    }
    json(
      res,
      200,
      this.flavour === 'github'
        ? { login: user.name, id: Number(user.id), type: 'User' }
        : {
            id: user.id,
            username: user.name,
            discriminator: user.discriminator ?? '0',
            global_name: 'Someone',
            avatar: null,
          },
    );
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
    .end(JSON.stringify(body));
  return true;
}

async function bodyOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}
