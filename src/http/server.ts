/**
 * The web server: the start page, the page behind each challenge link (GET shows, only POST
 * confirms, because mail scanners and chat previews fetch GET links), the status of a request (HTML
 * updated live by server-sent events, or JSON), the code form, health, readiness and metrics.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { ConnectionState } from '../chain/connection.js';
import { FIELDS, type Field } from '../domain/fields.js';
import type { JudgementRequest } from '../domain/request.js';
import { labelOf } from '../domain/verification.js';
import type { Registrar, RequestStatusView } from '../registrar/registrar.js';
import { clientOf } from '../registrar/throttle.js';
import { aboutPage, type PublishedPolicy, policyJson } from './about-view.js';
import { SECURITY_HEADERS } from './headers.js';
import type { HttpListener } from './listener.js';
import { type ProveDeps, proveRoutes } from './prove.js';
import {
  ACCOUNT_PARAMS,
  badInputReplier,
  formBody,
  NO_BODY,
  noBodyIsEmptyForm,
  STRICT_AJV,
  text,
} from './schemas.js';
import {
  codePage,
  confirmedPage,
  confirmPage,
  type OperatorInfo,
  type RegistrarInfo,
  refusedPage,
  STATUS_SCRIPT,
  sentence,
  startPage,
  statusFragment,
  statusPage,
  stillToProve,
} from './views.js';

export interface HttpDeps {
  registrar: Pick<Registrar, 'checkLink' | 'confirm' | 'status' | 'answerCodeOf' | 'resend'> &
    Partial<Pick<Registrar, 'prepare'>>;
  /** Proving before paying is offered: `POST /prepare` (off when false or absent). */
  preparing?: boolean;
  /** What the pages say about the registrar (index, account, fee, mask, policy). */
  about: () => Promise<RegistrarInfo>;
  /** The fields whose challenges carry a code (those with a configured channel). */
  codeFields?: readonly Field[];
  /** Calls `listener` with every request written; returns the function that stops it. */
  watchRequests?: (listener: (request: JudgementRequest) => void) => () => void;
  /** Whether the daemon can do its work now: chain connected and in sync, store reachable. */
  readiness?: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  metrics?: Registry;
  registrarIndex: number;
  /** Who runs the registrar: every page's header. */
  site: OperatorInfo;
  chainState: () => ConnectionState;
  /** Requests a client address may make a minute (60 when absent). */
  requestsPerMinutePerIp?: number;
  /** The proofs made on the site (sign-in, PGP, web): off when absent. */
  prove?: ProveDeps;
  /** Fastify's trustProxy: which reverse proxies' X-Forwarded-For names the client. */
  trustProxy?: boolean | string;
  /** How long a live status stream may stay without news before it is ended (15 min when absent). */
  streamIdleMs?: number;
  /** What /about publishes: the policy, the fee and the last 30 days' figures (off when absent). */
  published?: () => Promise<PublishedPolicy>;
  /** The anonymous whitelist's current file (docs/WHITELIST.md); undefined until first built. */
  whitelist?: () => { bytes: Uint8Array; etag: string } | undefined;
}

const ACCOUNT = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const TOKEN_PARAMS = { type: 'object', properties: { token: text(2048) }, required: ['token'] } as const;

/**
 * The pages, on `listener`'s socket, which answers "starting" until `listener.serve()` (once the
 * app is ready); the socket is the listener's to close.
 */
export function buildServer(deps: HttpDeps, listener: HttpListener): FastifyInstance {
  const app = Fastify({
    logger: false,
    serverFactory: (handler) => listener.socketFor(handler),
    // A challenge token (a JWT) is a few hundred characters long.
    routerOptions: { maxParamLength: 2048 },
    // Nothing here takes a body worth the name, and a slow client must not hold a socket forever.
    bodyLimit: 16 * 1024,
    requestTimeout: 30_000,
    trustProxy: deps.trustProxy ?? false,
    ajv: STRICT_AJV,
  });
  // A body, query or parameter that does not fit its route's schema: a clear 400, never a 500.
  app.setErrorHandler(badInputReplier(deps.site));
  app.addHook('preValidation', noBodyIsEmptyForm);
  app.addHook('onSend', async (_request, reply) => {
    // A route may widen one (the sign-in start lets its form redirect to the service).
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
  });

  // Forms post urlencoded bodies: the Confirm button an empty one, the code form three fields.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  // Per client address: pages and confirmations, not what monitoring polls.
  app.register(rateLimit, {
    max: deps.requestsPerMinutePerIp ?? 60,
    timeWindow: 60_000,
    // An IPv6 client is its /64: a subscriber holds all of it.
    keyGenerator: (request) => clientOf(request.ip),
    allowList: (request) => UNLIMITED.test(request.url),
  });
  app.register(async (pages) => routes(pages, deps));
  const prove = deps.prove;
  if (prove) app.register(async (pages) => proveRoutes(pages, prove));
  return app;
}

/** What the status page says after "Send new links" (its POST redirects here with `resent`). */
const NOTICES: Record<string, (until?: string) => string> = {
  sent: () => 'New links were sent to the fields whose earlier link no longer works.',
  valid: () => 'Nothing was sent: the links sent earlier still work. Use those.',
  none: () => 'There is no open request to send links for.',
  limited: (until) =>
    `New links were asked for a moment ago. You can ask again after ${
      Number.isFinite(Number(until)) ? new Date(Number(until)).toUTCString() : 'a few minutes'
    }.`,
};
/** A query's known keys have a shape; others (a mail client's tracking tags) are let through, unread. */
const query = (properties: Record<string, object>) => ({ type: 'object', properties }) as const;
const STATUS_QUERY = query({ resent: text(16), until: text(16) });

/** Live status streams one client address may hold, and all of them together. */
const STREAMS_PER_CLIENT = 8;
const STREAMS_IN_ALL = 1_000;
/** A stream with nothing to say for this long is ended; the page says to reload it. */
const STREAM_IDLE_MS = 15 * 60_000;

/** Paths monitoring and browsers fetch often, outside the per-address limit. */
const UNLIMITED = /^\/(healthz|readyz|metrics|favicon\.ico|assets\/)/;

function routes(app: FastifyInstance, deps: HttpDeps): void {
  const site = deps.site;
  /** After a confirmation: what is still missing for the judgement. */
  const confirmedView = async (account: string, label: string) => ({
    account,
    label,
    site,
    ...stillToProve(await deps.registrar.status(account)),
  });

  app.get<{ Params: { token: string } }>(
    '/confirm/:token',
    { schema: { params: TOKEN_PARAMS } },
    async (request, reply) => {
      const link = await deps.registrar.checkLink(request.params.token);
      reply.type('text/html; charset=utf-8');
      if (!link.ok) return reply.code(410).send(refusedPage(link.message, site, link));
      return confirmPage({ ...link, site });
    },
  );

  app.post<{ Params: { token: string } }>(
    '/confirm/:token',
    { schema: { params: TOKEN_PARAMS, body: NO_BODY } },
    async (request, reply) => {
      const result = await deps.registrar.confirm(request.params.token);
      reply.type('text/html; charset=utf-8');
      if (!result.ok) return reply.code(410).send(refusedPage(result.message, site, result));
      return confirmedPage(await confirmedView(result.account, result.label));
    },
  );

  const wantsHtml = (accept: string | undefined) => /text\/html/.test(accept ?? '');
  const statusOf = async (account: string): Promise<RequestStatusView | undefined> =>
    ACCOUNT.test(account) ? deps.registrar.status(account) : undefined;

  app.get('/', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(startPage(await deps.about())),
  );

  const published = deps.published;
  if (published) {
    app.get('/about', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(aboutPage(await published())),
    );
    app.get('/about.json', async () => policyJson(await published()));
  }

  // The start page's form asks for /status?account=...
  app.get<{ Querystring: { account?: string } }>(
    '/status',
    { schema: { querystring: formBody({ account: text(128) }) } },
    async (request, reply) =>
      reply.redirect(`/status/${encodeURIComponent(request.query.account ?? '')}`, 303),
  );

  const notAnAccount = () =>
    refusedPage('That is not an account address.', site, { title: 'Not an account address' });
  app.get<{ Params: { account: string }; Querystring: { resent?: string; until?: string } }>(
    '/status/:account',
    { schema: { params: ACCOUNT_PARAMS, querystring: STATUS_QUERY } },
    async (request, reply) => {
      const status = await statusOf(request.params.account);
      if (!wantsHtml(request.headers.accept)) {
        if (!status) return reply.code(400).send({ error: 'expected an SS58 account address' });
        return reply.code(status.status === 'none' ? 404 : 200).send(status);
      }
      reply.type('text/html; charset=utf-8');
      if (!status) return reply.code(400).send(notAnAccount());
      const notice = NOTICES[request.query.resent ?? ''];
      return reply
        .code(status.status === 'none' ? 404 : 200)
        .send(statusPage(status, await deps.about(), notice?.(request.query.until)));
    },
  );

  // Proving before paying: the start page's second form. A POST, since it reads the chain and sends
  // messages; what it made the registrar send is on the status page it leads to.
  const prepare = deps.registrar.prepare?.bind(deps.registrar);
  if (deps.preparing && prepare) {
    app.post<{ Body: { account?: string } | undefined }>(
      '/prepare',
      { schema: { body: formBody({ account: text(128) }) } },
      async (request, reply) => {
        const account = (request.body?.account ?? '').trim();
        const outcome = ACCOUNT.test(account) ? await prepare(account, request.ip) : undefined;
        reply.type('text/html; charset=utf-8');
        if (!outcome) return reply.code(400).send(notAnAccount());
        if (!outcome.ok) {
          if (outcome.retryAt !== undefined) {
            reply.header(
              'retry-after',
              String(Math.max(1, Math.ceil((outcome.retryAt - Date.now()) / 1000))),
            );
          }
          return reply
            .code(outcome.code)
            .send(refusedPage(sentence(outcome.message), site, { title: 'Not prepared', account }));
        }
        const status = await deps.registrar.status(account);
        return reply.redirect(`/status/${encodeURIComponent(status?.account ?? account)}`, 303);
      },
    );
  }

  app.post<{ Params: { account: string } }>(
    '/status/:account/resend',
    { schema: { params: ACCOUNT_PARAMS, body: NO_BODY } },
    async (request, reply) => {
      const status = await statusOf(request.params.account);
      const outcome = status ? await deps.registrar.resend(status.account) : undefined;
      if (!status || !outcome) return reply.type('text/html; charset=utf-8').code(400).send(notAnAccount());
      // Post, redirect, get: a reload shows the page again and sends nothing twice.
      const query =
        outcome.kind === 'limited'
          ? `resent=limited&until=${outcome.retryAt}`
          : outcome.kind === 'none'
            ? 'resent=none'
            : outcome.fields.length === 0
              ? 'resent=valid'
              : 'resent=sent';
      return reply.redirect(`/status/${encodeURIComponent(status.account)}?${query}`, 303);
    },
  );

  // Server-sent events: the status fragment again whenever the request changes. Each stream holds a
  // socket and runs on every request write, so they are capped per client address and in all, and
  // one that has had nothing to say for a while is ended (the page then says to reload it).
  const streams = { total: 0, byClient: new Map<string, number>() };
  const streamLimits = {
    perClient: STREAMS_PER_CLIENT,
    total: STREAMS_IN_ALL,
    idleMs: deps.streamIdleMs ?? STREAM_IDLE_MS,
  };
  app.get<{ Params: { account: string } }>(
    '/status/:account/events',
    { schema: { params: ACCOUNT_PARAMS } },
    async (request, reply) => {
      const status = await statusOf(request.params.account);
      if (!status || !deps.watchRequests)
        return reply.code(400).send({ error: 'expected an SS58 account address' });
      const about = await deps.about();
      const client = request.ip;
      const mine = streams.byClient.get(client) ?? 0;
      if (mine >= streamLimits.perClient || streams.total >= streamLimits.total) {
        return reply.code(429).header('retry-after', '60').send({
          error: 'too many live status streams; reload the page later (the status page works without one)',
        });
      }
      streams.total += 1;
      streams.byClient.set(client, mine + 1);
      sendEvents(reply);
      const push = (view: RequestStatusView) => {
        const data = statusFragment(view, about)
          .split('\n')
          .map((line) => `data: ${line}`)
          .join('\n');
        reply.raw.write(`event: status\n${data}\n\n`);
      };
      push(status);
      const endIdle = () => {
        reply.raw.write('event: idle\ndata: \n\n');
        reply.raw.end();
      };
      let idle = setTimeout(endIdle, streamLimits.idleMs);
      const restartIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(endIdle, streamLimits.idleMs);
      };
      let pending = Promise.resolve();
      const stop = deps.watchRequests((changed) => {
        if (changed.account !== status.account) return;
        restartIdle();
        pending = pending.then(async () => {
          const view = await deps.registrar.status(status.account);
          if (view) push(view);
        });
      });
      // A comment every 25 s keeps proxies from closing an idle stream.
      const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 25_000);
      // The response closes when the client goes and when the stream is ended here.
      reply.raw.on('close', () => {
        clearInterval(keepAlive);
        clearTimeout(idle);
        stop();
        streams.total -= 1;
        const left = (streams.byClient.get(client) ?? 1) - 1;
        if (left > 0) streams.byClient.set(client, left);
        else streams.byClient.delete(client);
      });
    },
  );

  app.get('/assets/status.js', async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(STATUS_SCRIPT),
  );

  const whitelist = deps.whitelist;
  if (whitelist) {
    app.get('/whitelist.bloom', async (request, reply) => {
      const file = whitelist();
      if (!file)
        return reply.code(503).header('retry-after', '10').send({ error: 'the whitelist is being built' });
      reply.header('etag', file.etag).header('cache-control', 'public, max-age=300');
      if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
      return reply.type('application/octet-stream').send(Buffer.from(file.bytes));
    });
  }

  app.get('/readyz', async (_request, reply) => {
    const readiness = (await deps.readiness?.()) ?? { ready: deps.chainState().connected, checks: {} };
    return reply
      .code(readiness.ready ? 200 : 503)
      .send({ status: readiness.ready ? 'ready' : 'not ready', ...readiness });
  });

  if (deps.metrics) {
    const registry = deps.metrics;
    app.get('/metrics', async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  }

  const codeFields = (deps.codeFields ?? []).map((field) => ({ field, label: labelOf(field) }));
  // A message's own link to the form names the account and field, so only the code is left to type.
  app.get<{ Querystring: { account?: string; field?: string } }>(
    '/code',
    { schema: { querystring: query({ account: text(128), field: text(32) }) } },
    async (request, reply) =>
      reply.type('text/html; charset=utf-8').send(codePage(codeFields, site, request.query)),
  );

  app.post<{ Body: { account?: string; field?: string; code?: string } | undefined }>(
    '/code',
    { schema: { body: formBody({ account: text(128), field: text(32), code: text(64) }) } },
    async (request, reply) => {
      const { account = '', field = '', code = '' } = request.body ?? {};
      reply.type('text/html; charset=utf-8');
      // A refused code keeps what was typed but the code, so a person only types that again.
      const again = (message: string) => codePage(codeFields, site, { message, account, field });
      if (
        !ACCOUNT.test(account) ||
        !FIELDS.includes(field as Field) ||
        code.length === 0 ||
        code.length > 32
      ) {
        return reply.code(400).send(again('Enter your account address, the field and the code.'));
      }
      // The client's address (behind a trusted proxy, the one it names): wrong codes slow it alone.
      const outcome = await deps.registrar.answerCodeOf(account, field as Field, code, request.ip);
      if (!outcome) return reply.code(400).send(again('That is not an account address.'));
      if (!outcome.ok) {
        if ('retryAt' in outcome) {
          reply.header('retry-after', String(Math.max(1, Math.ceil((outcome.retryAt - Date.now()) / 1000))));
          return reply.code(429).send(again(outcome.message));
        }
        return reply.code(422).send(again(outcome.message));
      }
      return confirmedPage(await confirmedView(outcome.account, labelOf(outcome.field)));
    },
  );

  // Browsers ask for it on every page; there is none, and a 404 would only fill logs.
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());

  // Liveness: the process answers. A dropped chain connection is the daemon's to mend (it fails over
  // and reconnects by itself), so it is reported here, not made a reason to restart; readiness is /readyz.
  app.get('/healthz', async (_request, reply) => {
    const chain = deps.chainState();
    return reply.code(200).send({ status: chain.connected ? 'ok' : 'degraded', chain });
  });
}
/** Starts a server-sent event stream on `reply`, outside Fastify's own reply handling. */
function sendEvents(reply: FastifyReply): void {
  reply.hijack();
  reply.raw.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
}
