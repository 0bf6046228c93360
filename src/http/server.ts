/**
 * The web server: the page behind each challenge link (GET shows, only POST confirms, because mail
 * scanners and chat previews fetch GET links), the status of a request as JSON, and health.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ConnectionState } from '../chain/connection.js';
import { FIELDS, type Field } from '../domain/fields.js';
import { labelOf } from '../domain/verification.js';
import type { Registrar } from '../registrar.js';
import { codePage, confirmedPage, confirmPage, refusedPage } from './views.js';

export interface HttpDeps {
  registrar: Pick<Registrar, 'checkLink' | 'confirm' | 'status' | 'answerCodeOf'>;
  /** The fields whose challenges carry a code (those with a configured channel). */
  codeFields?: readonly Field[];
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

  const codeFields = (deps.codeFields ?? []).map((field) => ({ field, label: labelOf(field) }));
  app.get('/code', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(codePage(codeFields)),
  );

  app.post<{ Body: Record<string, string> | undefined }>('/code', async (request, reply) => {
    const { account = '', field = '', code = '' } = request.body ?? {};
    reply.type('text/html; charset=utf-8');
    if (!ACCOUNT.test(account) || !FIELDS.includes(field as Field) || code.length === 0 || code.length > 32) {
      return reply
        .code(400)
        .send(codePage(codeFields, 'Enter your account address, the field and the code.'));
    }
    const outcome = await deps.registrar.answerCodeOf(account, field as Field, code);
    if (!outcome) return reply.code(400).send(codePage(codeFields, 'That is not an account address.'));
    if (!outcome.ok) return reply.code(422).send(codePage(codeFields, outcome.message));
    return confirmedPage({ account: outcome.account, label: labelOf(outcome.field) });
  });

  // Browsers ask for it on every page; there is none, and a 404 would only fill logs.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  app.get('/healthz', async (_request, reply) => {
    const chain = deps.chainState();
    return reply
      .code(chain.connected ? 200 : 503)
      .send({ status: chain.connected ? 'ok' : 'degraded', chain });
  });

  // Forms post urlencoded bodies: the Confirm button an empty one, the code form three fields.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  return app;
}
