/**
 * The admin API, for the `registrar` CLI and dashboards: pending requests, one request's status,
 * a rescan of chain storage and a pass of the sweep. Behind a bearer token (REGISTRAR_ADMIN_TOKEN), on its own address
 * (loopback by default), never on the public server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { GivenJudgement } from '../chain/judge.js';
import type { Field } from '../domain/fields.js';
import { isOperatorName, OPERATOR_JUDGEMENTS, OPERATOR_NAME_RULE } from '../domain/operator.js';
import type { JudgementRequest } from '../domain/request.js';
import {
  MAX_SANCTIONS_FILE_BYTES,
  SANCTIONS_FORMATS,
  type SanctionsFormat,
  SanctionsListError,
} from '../domain/sanctions.js';
import type { Registrar, SweepFinding } from '../registrar/registrar.js';
import {
  ACCOUNT_PARAMS,
  formBody,
  NO_BODY,
  noBodyIsEmptyForm,
  replyToBadInput,
  STRICT_AJV,
  text,
} from './schemas.js';

export interface AdminDeps {
  token: string;
  registrar: Pick<Registrar, 'status' | 'review' | 'reviews' | 'judgeExplicitly' | 'screening'>;
  openRequests: () => Promise<JudgementRequest[]>;
  /** Reads chain storage now and brings every request up to date; resolves with the pending count. */
  rescan: () => Promise<number>;
  /** One pass of the sweep (judged proofs checked again); absent when the sweep is off. */
  sweep?: () => Promise<SweepFinding[]>;
  /** Whether this instance judges (holds the lease); rescans and judgements go to the one that does. */
  judges?: () => boolean;
  /** Served at /metrics, behind the token, when the operator keeps metrics off the public server. */
  metrics?: Registry;
}

const NOT_JUDGING = {
  error: 'this instance does not judge: another instance holds the lease; send this to that one',
};

const digest = (value: string) => createHash('sha256').update(value).digest();

const IDENTITY_HASH = { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' } as const;

const REVIEW_BODY = formBody(
  {
    account: text(128),
    field: { type: 'string', enum: ['legal', 'image', 'display'] },
    decision: { type: 'string', enum: ['confirm', 'reject'] },
    note: text(500),
    reviewer: text(64),
    identityHash: IDENTITY_HASH,
    value: text(256),
  },
  ['account', 'field', 'decision', 'reviewer'],
);
const IMPORT_QUERY = formBody(
  { format: { type: 'string', enum: [...SANCTIONS_FORMATS] }, source: text(200) },
  ['source'],
);
const NO_SCREENING = { error: 'sanctions screening is not available on this instance' };

const JUDGE_BODY = formBody({ account: text(128), judgement: text(32), by: text(64) }, [
  'account',
  'judgement',
  'by',
]);

export function buildAdminServer(deps: AdminDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024,
    requestTimeout: 300_000,
    ajv: STRICT_AJV,
    // Longer than any parameter the schemas take, so that they, not the router, say what is wrong.
    routerOptions: { maxParamLength: 256 },
  });
  app.setErrorHandler(replyToBadInput);
  app.addHook('preValidation', noBodyIsEmptyForm);
  const expected = digest(`Bearer ${deps.token}`);
  app.addHook('onRequest', async (request, reply) => {
    // Hashing both sides makes the comparison constant-time whatever the header's length.
    if (!timingSafeEqual(digest(request.headers.authorization ?? ''), expected)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'a valid admin token is required' });
    }
  });

  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.metrics()),
    );
  }

  app.get('/admin/requests', async () => {
    const open = await deps.openRequests();
    // The review queue's hits, by account and identity: a request shows those of its own identity.
    const hits = new Map<string, number>();
    for (const hit of (await deps.registrar.screening?.status())?.hits ?? []) {
      if (hit.reviewed) continue;
      const key = `${hit.account}@${hit.identityHash}`;
      hits.set(key, (hits.get(key) ?? 0) + 1);
    }
    return open
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((request) => ({
        account: request.account,
        status: request.status,
        createdAt: new Date(request.createdAt).toISOString(),
        fields: Object.fromEntries(
          Object.entries(request.fields).map(([field, state]) => [field, state?.status]),
        ),
        sanctionsHits: hits.get(`${request.account}@${request.snapshot.hash}`) ?? 0,
      }));
  });

  app.get<{ Params: { account: string } }>(
    '/admin/requests/:account',
    { schema: { params: ACCOUNT_PARAMS } },
    async (request, reply) => {
      const status = await deps.registrar.status(request.params.account);
      if (!status) return reply.code(400).send({ error: 'expected an SS58 account address' });
      // The operator's view adds the review queue's hits (the public status never shows them).
      const screened =
        status.status === 'none' ? undefined : await deps.registrar.screening?.status(status.account);
      return reply
        .code(status.status === 'none' ? 404 : 200)
        .send(screened ? { ...status, sanctionsHits: screened.hits } : status);
    },
  );

  // An official list file, uploaded as the body (XML) with its source named; the format is found
  // by its root element unless given. A file that does not read is a 400 and the kept list stays.
  app.addContentTypeParser(
    ['application/xml', 'text/xml'],
    { parseAs: 'string', bodyLimit: MAX_SANCTIONS_FILE_BYTES },
    (_request, body, done) => done(null, body),
  );
  app.post<{ Querystring: { format?: SanctionsFormat; source: string }; Body: unknown }>(
    '/admin/sanctions/import',
    { bodyLimit: MAX_SANCTIONS_FILE_BYTES, schema: { querystring: IMPORT_QUERY } },
    async (request, reply) => {
      const screening = deps.registrar.screening;
      if (!screening) return reply.code(409).send(NO_SCREENING);
      if (typeof request.body !== 'string' || request.body.length === 0) {
        return reply
          .code(400)
          .send({ error: 'expected the list file as the body, with Content-Type application/xml' });
      }
      try {
        return await screening.importList(request.body, request.query.source, request.query.format);
      } catch (error) {
        if (error instanceof SanctionsListError) return reply.code(400).send({ error: error.message });
        throw error;
      }
    },
  );

  // The kept lists and the review queue's hits; one account's are on /admin/requests/:account.
  app.get('/admin/sanctions', async (_request, reply) => {
    const screening = deps.registrar.screening;
    if (!screening) return reply.code(409).send(NO_SCREENING);
    return screening.status();
  });

  app.post('/admin/rescan', { schema: { body: NO_BODY } }, async (_request, reply) => {
    if (deps.judges && !deps.judges()) return reply.code(409).send(NOT_JUDGING);
    return { pending: await deps.rescan() };
  });

  app.post('/admin/sweep', { schema: { body: NO_BODY } }, async (_request, reply) => {
    if (!deps.sweep) {
      return reply.code(409).send({ error: 'the sweep is off: REGISTRAR_RECHECK_JUDGED_DAYS is 0' });
    }
    if (deps.judges && !deps.judges()) return reply.code(409).send(NOT_JUDGING);
    return { findings: await deps.sweep() };
  });

  app.post<{
    Body: {
      account: string;
      field: Field;
      decision: 'confirm' | 'reject';
      note?: string;
      reviewer: string;
      identityHash?: string;
      value?: string;
    };
  }>('/admin/review', { schema: { body: REVIEW_BODY } }, async (request, reply) => {
    const { account, field, decision, note = '', reviewer, identityHash, value } = request.body;
    // The audit log says who reviewed: a name, not left to guess.
    if (!isOperatorName(reviewer)) {
      return reply.code(400).send({ error: `expected reviewer: who reviewed (${OPERATOR_NAME_RULE})` });
    }
    // What the operator looked at is what is decided on: an edit since then is refused.
    if (identityHash === undefined && value === undefined) {
      return reply.code(400).send({
        error:
          'expected identityHash or value: what you reviewed (registrar status ACCOUNT shows both), so that an edit since then is not confirmed',
      });
    }
    const outcome = await deps.registrar.review(account, field, decision, note, reviewer, {
      ...(identityHash === undefined ? {} : { identityHash }),
      ...(value === undefined ? {} : { value }),
    });
    if (!outcome) return reply.code(400).send({ error: 'expected an SS58 account address' });
    return reply.code(outcome.ok ? 200 : 409).send(outcome);
  });

  app.get<{ Params: { account: string } }>(
    '/admin/reviews/:account',
    { schema: { params: ACCOUNT_PARAMS } },
    async (request, reply) => {
      const reviews = await deps.registrar.reviews(request.params.account);
      if (!reviews) return reply.code(400).send({ error: 'expected an SS58 account address' });
      return { reviews };
    },
  );

  app.post<{ Body: { account: string; judgement: string; by: string } }>(
    '/admin/judge',
    { schema: { body: JUDGE_BODY } },
    async (request, reply) => {
      const { account, judgement, by } = request.body;
      if (!(OPERATOR_JUDGEMENTS as readonly string[]).includes(judgement)) {
        return reply.code(400).send({ error: `expected a judgement of ${OPERATOR_JUDGEMENTS.join(', ')}` });
      }
      if (!isOperatorName(by)) {
        return reply.code(400).send({ error: `expected by: who gives it (${OPERATOR_NAME_RULE})` });
      }
      if (deps.judges && !deps.judges()) return reply.code(409).send(NOT_JUDGING);
      const outcome = await deps.registrar.judgeExplicitly(account, judgement as GivenJudgement, by);
      if (!outcome) return reply.code(400).send({ error: 'expected an SS58 account address' });
      return reply.code(outcome.kind === 'included' ? 200 : 409).send(outcome);
    },
  );
  return app;
}
