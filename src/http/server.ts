/**
 * The web server: the page behind each challenge link (GET shows, only POST confirms, because mail
 * scanners and chat previews fetch GET links), the status of a request as JSON, and health.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ConnectionState } from '../chain/connection.js';
import type { Registrar } from '../registrar.js';
import { confirmedPage, confirmPage, refusedPage } from './views.js';

export interface HttpDeps {
  registrar: Pick<Registrar, 'checkLink' | 'confirm' | 'status'>;
  registrarIndex: number;
  chainState: () => ConnectionState;
}

const SECURITY_HEADERS = {
  // The token is in the URL: it must not leak to other sites through the Referer header.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

const ACCOUNT = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;

export function buildServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    // A challenge token (a JWT) is a few hundred characters long.
    routerOptions: { maxParamLength: 2048 },
    // Nothing here takes a body worth the name, and a slow client must not hold a socket forever.
    bodyLimit: 16 * 1024,
    requestTimeout: 30_000,
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  app.get<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    const link = await deps.registrar.checkLink(request.params.token);
    reply.type('text/html; charset=utf-8');
    if (!link.ok) return reply.code(410).send(refusedPage(link.message));
    return confirmPage({ ...link, registrarIndex: deps.registrarIndex });
  });

  app.post<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    const result = await deps.registrar.confirm(request.params.token);
    reply.type('text/html; charset=utf-8');
    if (!result.ok) return reply.code(410).send(refusedPage(result.message));
    return confirmedPage(result);
  });

  app.get<{ Params: { account: string } }>('/status/:account', async (request, reply) => {
    const { account } = request.params;
    if (!ACCOUNT.test(account)) return reply.code(400).send({ error: 'expected an SS58 account address' });
    const status = await deps.registrar.status(account);
    if (!status) return reply.code(400).send({ error: 'expected an SS58 account address' });
    return reply.code(status.status === 'none' ? 404 : 200).send(status);
  });

  // Browsers ask for it on every page; there is none, and a 404 would only fill logs.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  app.get('/healthz', async (_request, reply) => {
    const chain = deps.chainState();
    return reply
      .code(chain.connected ? 200 : 503)
      .send({ status: chain.connected ? 'ok' : 'degraded', chain });
  });

  // A form POST carries an urlencoded body we do not need; accept and ignore it.
  app.addContentTypeParser('application/x-www-form-urlencoded', (_request, _payload, done) =>
    done(null, undefined),
  );
  return app;
}
