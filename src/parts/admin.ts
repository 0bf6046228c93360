/** The admin part: the operator's API on its own address, behind its token; absent without one. */
import type { Registry } from 'prom-client';
import type { Watcher } from '../chain/watcher.js';
import type { Config } from '../config.js';
import { buildAdminServer } from '../http/admin.js';
import type { Lease } from '../registrar/lease.js';
import type { Registrar } from '../registrar/registrar.js';
import type { Store } from '../store/store.js';

export interface AdminPart {
  /** Starts listening; resolves with the address. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function buildAdmin(o: {
  config: Config;
  registrar: Registrar;
  store: Store;
  watcher: Watcher;
  lease: Lease;
  /** The metrics, served here when REGISTRAR_METRICS_ON is admin. */
  registry: Registry;
}): AdminPart | undefined {
  const { admin } = o.config;
  if (!admin) return undefined;
  const { sweep } = o.registrar;
  const app = buildAdminServer({
    token: admin.token.reveal(),
    registrar: o.registrar,
    openRequests: () => o.store.listOpenRequests(o.config.registrar.index),
    rescan: () => o.watcher.reconcile('admin'),
    ...(sweep ? { sweep: () => sweep.pass() } : {}),
    judges: () => o.lease.held,
    ...(o.config.metricsOn === 'admin' ? { metrics: o.registry } : {}),
  });
  return {
    listen: () => app.listen({ host: admin.host, port: admin.port }),
    close: () => app.close(),
  };
}
