/**
 * The admin API, for the `registrar` CLI and dashboards: pending requests, one request's status,
 * and a rescan of chain storage. Behind a bearer token (REGISTRAR_ADMIN_TOKEN), on its own address
 * (loopback by default), never on the public server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { JudgementRequest } from '../domain/request.js';
import type { Registrar } from '../registrar.js';

export interface AdminDeps {
  token: string;
  registrar: Pick<Registrar, 'status'>;
  openRequests: () => Promise<JudgementRequest[]>;
  /** Reads chain storage now and brings every request up to date; resolves with the pending count. */
  rescan: () => Promise<number>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export function buildAdminServer(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, requestTimeout: 300_000 });
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

  app.get('/admin/requests', async () => {
    const open = await deps.openRequests();
    return open
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((request) => ({
        account: request.account,
        status: request.status,
        createdAt: new Date(request.createdAt).toISOString(),
        fields: Object.fromEntries(
          Object.entries(request.fields).map(([field, state]) => [field, state?.status]),
        ),
      }));
  });

  app.get<{ Params: { account: string } }>('/admin/requests/:account', async (request, reply) => {
    const status = await deps.registrar.status(request.params.account);
    if (!status) return reply.code(400).send({ error: 'expected an SS58 account address' });
    return reply.code(status.status === 'none' ? 404 : 200).send(status);
  });

  app.post('/admin/rescan', async () => ({ pending: await deps.rescan() }));
  return app;
}
