/**
 * A small local stand-in for the OAuth sign-in of GitHub, Discord and X, as each documents it:
 *
 * - GitHub: GET /login/oauth/authorize, POST /login/oauth/access_token (form; with
 *   `Accept: application/json` the answer is JSON, and a bad code is `200 {"error":"bad_verification_code"}`),
 *   GET /user (Bearer) → { login, id }. Limits: 403/429 with x-ratelimit-remaining 0 and x-ratelimit-reset.
 * - Discord: GET /oauth2/authorize (response_type=code, scope identify), POST /api/v10/oauth2/token
 *   (form, client credentials by HTTP Basic; a bad code is `400 {"error":"invalid_grant"}`),
 *   GET /api/v10/users/@me → { id, username, discriminator, global_name }. Limits: 429 with
 *   retry-after and x-ratelimit-reset-after.
 * - X: GET /i/oauth2/authorize (x.com; scopes, code_challenge_method s256), POST /2/oauth2/token (form or
 *   JSON, as twitter-api-v2 sends it) and
 *   GET /2/users/me → { data: { id, name, username } } on api.x.com, which twitter-api-v2 reaches over
 *   HTTPS only: that part listens with a certificate from a local authority. Limits: 429 with
 *   x-rate-limit-remaining 0 and x-rate-limit-reset; errors as problem details.
 *
 * Accounts by ID, from `accounts`: GitHub's public GET /user/{id} (→ { login, id }, 404 for none;
 * with a token, `tokenReads` counts them); X's GET /2/users/{id} with the app's bearer token
 * (→ { data: { id, name, username } }; a suspended or deleted account is 404 with problem details,
 * or, with `notFoundAsErrors`, the older 200 with an `errors` array and no data). With `failure`
 * `bare-404` both answer 404 without the service's own body, as a wrong route or a proxy does.
 * A token other than `appToken` is refused (401), on GitHub's gists too.
 *
 * Published posts: GitHub's GET /gists/{id} (→ { public, owner: { login, id }, files: { name: { content } } },
 * 404 for none) and X's GET /oembed?url= on publish.twitter.com (→ { author_url, html }, 404 for a
 * missing or protected post), from `gists` and `posts`.
 *
 * The authorize page consents at once as `user` (or, with `deny`, sends error=access_denied back);
 * with `askName` (dev mode) it is a small form where the person types the user name to sign in as,
 * as the real service's sign-in would establish it. Codes are single use and bound to the redirect URI and the PKCE challenge, and `failure` makes
 * the token endpoint answer 500, 429 or hang.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { escapeHtml } from '../../support/html.js';
import { type Certificates, makeCertificates } from './certificates.js';

export type Flavour = 'github' | 'discord' | 'x';

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

interface Service {
  authorize: string;
  token: string;
  me: string;
  /** Where the client's credentials are: the form (GitHub) or HTTP Basic (Discord, X). */
  basicAuth: boolean;
  tokenAnswer(token: string): unknown;
  meAnswer(user: OAuthUser): unknown;
  /** A bad or used code: status and body. */
  badCode: [number, unknown];
  unauthorized: [number, unknown];
  limited(): { status: number; headers: Record<string, string>; body: unknown };
}

const inSeconds = (s: number) => String(Math.floor(Date.now() / 1000) + s);

const SERVICES: Record<Flavour, Service> = {
  github: {
    authorize: '/login/oauth/authorize',
    token: '/login/oauth/access_token',
    me: '/user',
    basicAuth: false,
    tokenAnswer: (token) => ({ access_token: token, token_type: 'bearer', scope: '' }),
    meAnswer: (user) => ({ login: user.name, id: Number(user.id), type: 'User' }),
    badCode: [
      200,
      { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' },
    ],
    unauthorized: [401, { message: 'Bad credentials' }],
    limited: () => ({
      status: 429,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': inSeconds(42) },
      body: { message: 'API rate limit exceeded' },
    }),
  },
  discord: {
    authorize: '/oauth2/authorize',
    token: '/api/v10/oauth2/token',
    me: '/api/v10/users/@me',
    basicAuth: true,
    tokenAnswer: (token) => ({
      access_token: token,
      token_type: 'Bearer',
      expires_in: 604800,
      refresh_token: 'r',
      scope: 'identify',
    }),
    meAnswer: (user) => ({
      id: user.id,
      username: user.name,
      discriminator: user.discriminator ?? '0',
      global_name: 'Someone',
      avatar: null,
    }),
    badCode: [400, { error: 'invalid_grant', error_description: 'Invalid "code" in request.' }],
    unauthorized: [401, { message: '401: Unauthorized', code: 0 }],
    limited: () => ({
      status: 429,
      headers: { 'retry-after': '42', 'x-ratelimit-reset-after': '42', 'x-ratelimit-scope': 'user' },
      body: { message: 'You are being rate limited.', retry_after: 42, global: false },
    }),
  },
  x: {
    authorize: '/i/oauth2/authorize',
    token: '/2/oauth2/token',
    me: '/2/users/me',
    basicAuth: true,
    tokenAnswer: (token) => ({
      token_type: 'bearer',
      expires_in: 7200,
      access_token: token,
      scope: 'users.read tweet.read',
    }),
    meAnswer: (user) => ({ data: { id: user.id, name: 'Someone', username: user.name } }),
    badCode: [
      400,
      { error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' },
    ],
    unauthorized: [401, { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' }],
    limited: () => ({
      status: 429,
      headers: {
        'x-rate-limit-limit': '75',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': inSeconds(42),
      },
      body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 },
    }),
  },
};

export class OAuthServer {
  user: OAuthUser = { id: '1', name: 'nobody' };
  deny = false;
  /** Dev mode: the authorize page asks for the user name instead of consenting as `user`. */
  askName = false;
  /** The token endpoint fails so; `bare-404`: reads by ID answer 404 without the service's own body (a wrong route, a proxy). */
  failure: 'none' | '500' | '429' | 'hang' | 'bare-404' = 'none';
  /** GitHub: gist ID → its owner and files. */
  readonly gists = new Map<string, { owner: OAuthUser; public: boolean; files: Record<string, string> }>();
  /** GitHub, X: numeric ID → the handle that account has now (GET /user/{id}, GET /2/users/{id}). */
  readonly accounts = new Map<string, string>();
  /** X: answer an unknown account as X once did, 200 with an `errors` array. */
  notFoundAsErrors = false;
  /** X: the app's bearer token (app-only authentication). */
  readonly appToken: string;
  /** GitHub: reads by ID that carried a token. */
  tokenReads = 0;
  /** X: post URL → who posted what. */
  readonly posts = new Map<string, { author: string; text: string }>();
  /** Every code exchange that reached the token endpoint. */
  exchanges = 0;
  readonly clientId: string;
  readonly clientSecret: string;
  private readonly grants = new Map<string, Grant>();
  private readonly tokens = new Map<string, OAuthUser>();
  private readonly hung: ServerResponse[] = [];
  private readonly servers: Server[] = [];
  private readonly service: Service;
  private certificates: Certificates | undefined;

  private constructor(readonly flavour: Flavour) {
    this.service = SERVICES[flavour];
    this.clientId = `${flavour}-client`;
    this.clientSecret = `${flavour}-secret-0123456789`;
    this.appToken = `${flavour}-app-bearer-0123456789`;
  }

  static async start(flavour: Flavour): Promise<OAuthServer> {
    const oauth = new OAuthServer(flavour);
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      oauth.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    };
    oauth.servers.push(createServer(handler));
    if (flavour === 'x') {
      oauth.certificates = makeCertificates(['127.0.0.1']);
      oauth.servers.push(
        createHttpsServer({ key: oauth.certificates.key, cert: oauth.certificates.cert }, handler),
      );
    }
    for (const server of oauth.servers) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    return oauth;
  }

  /** Where the browser signs in (plain HTTP: the browser has no reason to trust the local authority). */
  get url(): string {
    const [http] = this.servers;
    if (!http) throw new Error('not started');
    return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  /** Where the registrar calls the API: HTTPS for X. */
  get apiUrl(): string {
    const https = this.servers[1];
    if (https) return `https://127.0.0.1:${(https.address() as AddressInfo).port}`;
    return this.flavour === 'github' ? this.url : `${this.url}/api/v10`;
  }

  /** The local authority's certificate file, for NODE_EXTRA_CA_CERTS (X only). */
  get caFile(): string | undefined {
    return this.certificates?.caFile;
  }

  /** The settings the daemon takes for this service. */
  env(): Record<string, string> {
    const name = this.flavour === 'x' ? 'TWITTER' : this.flavour.toUpperCase();
    return {
      [`REGISTRAR_${name}_CLIENT_ID`]: this.clientId,
      [`REGISTRAR_${name}_CLIENT_SECRET`]: this.clientSecret,
      [`REGISTRAR_${name}_OAUTH_URL`]: this.url,
      [`REGISTRAR_${name}_API_URL`]: this.apiUrl,
      ...(this.flavour === 'x'
        ? { REGISTRAR_TWITTER_POST_PROOFS: 'true', REGISTRAR_TWITTER_OEMBED_URL: this.url }
        : {}),
    };
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.certificates?.remove();
  }

  /** Answers one request (public so that the Discord stand-in can serve its OAuth API on its own host). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const route = `${req.method} ${url.pathname}`;
    if (route === `GET ${this.service.authorize}` && this.askName) askNamePage(this.flavour, url, res);
    else if (route === `POST ${this.service.authorize}` && this.askName) {
      // The form sends the authorize query back with the name typed: the same grant, for that name.
      const form = await bodyOf(req);
      const name = (form.get('name') ?? '').trim().replace(/^@/, '');
      if (!/^[\w.-]{1,39}$/.test(name)) return askNamePage(this.flavour, url, res, 'Type a user name.');
      this.authorize(url, res, { id: idOfName(name), name });
    } else if (route === `GET ${this.service.authorize}`) this.authorize(url, res);
    else if (route === `POST ${this.service.token}`) this.token(req, res, await bodyOf(req));
    else if (route === `GET ${this.service.me}`) this.me(req, res);
    else if (this.flavour === 'github' && /^GET \/gists\/[0-9a-f]+$/.test(route)) this.gist(req, url, res);
    else if (this.flavour === 'github' && /^GET \/user\/[0-9]+$/.test(route)) this.accountById(req, url, res);
    else if (this.flavour === 'x' && /^GET \/2\/users\/[0-9]+$/.test(route)) this.xAccountById(req, url, res);
    else if (this.flavour === 'x' && route === 'GET /oembed') this.oembed(url, res);
    else json(res, 404, { message: 'Not Found' });
  }

  private authorize(url: URL, res: ServerResponse, user = this.user): void {
    const q = url.searchParams;
    const redirect = q.get('redirect_uri');
    const scopes: Record<Flavour, string | null> = {
      github: q.get('scope'),
      discord: 'identify',
      x: 'users.read tweet.read',
    };
    if (q.get('client_id') !== this.clientId || !redirect || q.get('scope') !== scopes[this.flavour]) {
      json(res, 400, { error: 'invalid_request' });
      return;
    }
    const back = new URL(redirect);
    if (this.deny) {
      back.searchParams.set('error', 'access_denied');
    } else {
      const code = randomBytes(10).toString('hex');
      const s256 = q.get('code_challenge_method')?.toUpperCase() === 'S256';
      this.grants.set(code, {
        redirectUri: redirect,
        codeChallenge: s256 ? (q.get('code_challenge') ?? undefined) : undefined,
        user,
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
      const limited = this.service.limited();
      return json(res, limited.status, limited.body, limited.headers);
    }
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [clientId, clientSecret] = basic
      ? Buffer.from(basic, 'base64').toString().split(':')
      : [body.get('client_id'), body.get('client_secret')];
    if (this.service.basicAuth && body.get('grant_type') !== 'authorization_code') {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      return json(res, 401, { error: 'invalid_client' });
    }
    const code = body.get('code') ?? '';
    const grant = this.grants.get(code);
    this.grants.delete(code);
    const verifier = body.get('code_verifier') ?? '';
    const pkce =
      grant?.codeChallenge === undefined ||
      createHash('sha256').update(verifier).digest('base64url') === grant.codeChallenge;
    if (!grant || grant.redirectUri !== body.get('redirect_uri') || !pkce) {
      return json(res, ...this.service.badCode);
    }
    const token = randomBytes(16).toString('hex');
    this.tokens.set(token, grant.user);
    return json(res, 200, this.service.tokenAnswer(token));
  }

  private accountById(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    if (this.failure === '500') return json(res, 500, { message: 'Server Error' });
    if (this.failure === 'bare-404') return bare404(res);
    if (req.headers.authorization !== undefined) {
      if (req.headers.authorization !== `Bearer ${this.appToken}`)
        return json(res, ...this.service.unauthorized);
      this.tokenReads += 1;
    }
    const id = url.pathname.split('/')[2] ?? '';
    const login = this.accounts.get(id);
    if (login === undefined) return json(res, 404, { message: 'Not Found' });
    return json(res, 200, { login, id: Number(id), type: 'User' });
  }

  private xAccountById(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    if (req.headers.authorization !== `Bearer ${this.appToken}`)
      return json(res, ...this.service.unauthorized);
    if (this.failure === 'bare-404') return bare404(res);
    if (this.failure === '429') {
      const limited = this.service.limited();
      return json(res, limited.status, limited.body, limited.headers);
    }
    const id = url.pathname.split('/')[3] ?? '';
    const username = this.accounts.get(id);
    if (username !== undefined) return json(res, 200, { data: { id, name: 'Someone', username } });
    const problem = {
      value: id,
      detail: `Could not find user with id: [${id}].`,
      title: 'Not Found Error',
      resource_type: 'user',
      parameter: 'id',
      resource_id: id,
      type: 'https://api.twitter.com/2/problems/resource-not-found',
    };
    if (this.notFoundAsErrors) return json(res, 200, { errors: [problem] });
    return json(res, 404, { ...problem, status: 404 });
  }

  private gist(req: IncomingMessage, url: URL, res: ServerResponse): boolean {
    if (req.headers.authorization !== undefined && req.headers.authorization !== `Bearer ${this.appToken}`)
      return json(res, ...this.service.unauthorized);
    if (this.failure === '429') {
      const limited = this.service.limited();
      return json(res, 403, limited.body, limited.headers);
    }
    const gist = this.gists.get(url.pathname.split('/')[2] ?? '');
    if (!gist)
      return json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    return json(res, 200, {
      id: url.pathname.split('/')[2],
      public: gist.public,
      owner: { login: gist.owner.name, id: Number(gist.owner.id), type: 'User' },
      files: Object.fromEntries(
        Object.entries(gist.files).map(([name, content]) => [
          name,
          { filename: name, content, truncated: false },
        ]),
      ),
    });
  }

  private oembed(url: URL, res: ServerResponse): boolean {
    const post = this.posts.get(url.searchParams.get('url') ?? '');
    if (!post) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html>Not Found</html>');
      return true;
    }
    const escaped = post.text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
    return json(res, 200, {
      url: url.searchParams.get('url'),
      author_name: 'Someone',
      author_url: `https://twitter.com/${post.author}`,
      html: `<blockquote class="twitter-tweet"><p lang="en" dir="ltr">${escaped}</p>&mdash; Someone (@${post.author}) <a href="${url.searchParams.get('url')}">November 22, 2026</a></blockquote>\n`,
      width: 550,
      height: null,
      type: 'rich',
      cache_age: '3153600000',
      provider_name: 'Twitter',
      provider_url: 'https://twitter.com',
      version: '1.0',
    });
  }

  private me(req: IncomingMessage, res: ServerResponse): boolean {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const user = this.tokens.get(token);
    if (!user) return json(res, ...this.service.unauthorized);
    return json(res, 200, this.service.meAnswer(user));
  }
}

const SERVICE_NAMES: Record<Flavour, string> = { github: 'GitHub', discord: 'Discord', x: 'X' };

/** The same name always gets the same numeric ID, as an account keeps its ID on the real service. */
function idOfName(name: string): string {
  return String(BigInt(`0x${createHash('sha256').update(name.toLowerCase()).digest('hex').slice(0, 12)}`));
}

function askNamePage(flavour: Flavour, url: URL, res: ServerResponse, problem = ''): void {
  const service = SERVICE_NAMES[flavour];
  res
    .writeHead(problem ? 422 : 200, { 'content-type': 'text/html; charset=utf-8' })
    .end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in to ${service} (dev stand-in)</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}</style></head>
<body><h1>Sign in to ${service}</h1>
<p>This is the dev mode's stand-in for ${service}: no password, you are who you say.
Type the user name that your identity names.</p>
${problem ? `<p role="alert">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="${escapeHtml(url.pathname + url.search)}">
<label for="name">${service} user name</label>
<input id="name" name="name" autocomplete="username" required autofocus>
<button type="submit">Sign in and go back to the registrar</button></form></body></html>`);
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

/** The token endpoints take forms; twitter-api-v2 sends JSON, which api.x.com accepts as well. */
async function bodyOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  if (/application\/json/.test(req.headers['content-type'] ?? '')) {
    return new URLSearchParams(Object.entries(JSON.parse(text) as Record<string, string>));
  }
  return new URLSearchParams(text);
}

/** A 404 as a proxy or a wrong route gives it: no JSON from the service. */
function bare404(res: ServerResponse): boolean {
  res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404 Not Found</body></html>');
  return true;
}
