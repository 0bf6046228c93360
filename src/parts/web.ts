/**
 * The web part: the public server (start page, challenge links, status with live updates, the code
 * form, the proofs made on the site, health, readiness, metrics) on the socket main.ts opened.
 */
import type { EventEmitter } from 'node:events';
import type { ApiPromise } from '@polkadot/api';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { type RegistrarEntry, readRegistrar } from '../chain/identity.js';
import { judgesDisplayOnly } from '../chain/registrar-check.js';
import type { Channel } from '../channels/channel.js';
import { SignInSeals } from '../channels/sign-in.js';
import type { Config } from '../config.js';
import { accepts, howProven } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import { operatorInfo } from '../domain/operator.js';
import type { JudgementRequest } from '../domain/request.js';
import { labelOf } from '../domain/verification.js';
import type { FieldProof } from '../http/about-view.js';
import type { HttpListener } from '../http/listener.js';
import { buildServer } from '../http/server.js';
import type { OperatorInfo, RegistrarInfo } from '../http/views.js';
import { publicFigures } from '../registrar/figures.js';
import type { Lease } from '../registrar/lease.js';
import type { Registrar } from '../registrar/registrar.js';
import type { Store } from '../store/store.js';
import type { ChainPart } from './chain.js';

export function buildWeb(o: {
  config: Config;
  chain: ChainPart;
  store: Store;
  registrar: Registrar;
  channels: readonly Channel[];
  /** Emits 'changed' with every request written, for the live status pages. */
  requestChanges: EventEmitter;
  lease: Lease;
  registry: Registry;
  /** Whether the leader's start-up reconciliation is done. */
  reconciled: () => boolean;
  listener: HttpListener;
  /** The anonymous whitelist's current file. */
  whitelist?: () => { bytes: Uint8Array; etag: string } | undefined;
  /** Who runs the registrar, for every page's header. */
  site: OperatorInfo;
}): FastifyInstance {
  const { config, chain, registrar, channels, requestChanges } = o;
  const { connection } = chain;
  const index = config.registrar.index;
  const about = aboutRegistrar(chain.api, config, chain.entry, o.site);
  const figures = publicFigures({ store: o.store, registrarIndex: index });
  return buildServer(
    {
      registrar,
      registrarIndex: index,
      about,
      site: o.site,
      published: async () => {
        const [registrar, measured] = await Promise.all([about(), figures()]);
        return { registrar, proofs: proofsOf(registrar.fields ?? [], channels), figures: measured };
      },
      watchRequests: (listener: (request: JudgementRequest) => void) => {
        requestChanges.on('changed', listener);
        return () => requestChanges.off('changed', listener);
      },
      readiness: async () => {
        const state = connection.status();
        const checks: Record<string, string> = {};
        checks.chain = state.connected ? 'connected' : 'disconnected';
        // Finalized heads come every block or two; a minute without one means the node is stuck.
        const lagging = state.headAt === undefined || Date.now() - state.headAt > 60_000;
        checks.sync = lagging ? 'no finalized block for over a minute' : 'in sync';
        try {
          await o.store.getCheckpoint('readiness');
          checks.store = 'reachable';
        } catch {
          checks.store = 'unreachable';
        }
        checks.role = o.lease.held ? 'judging and delivering' : 'serving pages; another instance judges';
        const reconciled = o.reconciled();
        checks.reconciled = reconciled ? 'yes' : 'not yet';
        const judging = registrar.judgingHealth();
        checks.judgements = judging.failing
          ? `failing: ${judging.streak} in a row, last: ${judging.error}`
          : 'ok';
        return {
          ready:
            state.connected &&
            !lagging &&
            checks.store === 'reachable' &&
            !judging.failing &&
            (reconciled || !o.lease.held),
          checks,
        };
      },
      // On the admin API instead when the operator says so (parts/admin.ts).
      ...(config.metricsOn === 'public' ? { metrics: o.registry } : {}),
      // Codes come in messages; fields proven on the site or by review have none to type.
      codeFields: channels.filter((c) => accepts(c.means, 'typed-code')).map((c) => c.field),
      prove: {
        registrar,
        channels: new Map(channels.map((c) => [c.field, c])),
        seals: new SignInSeals(config.jwtSecret.reveal()),
        publicUrl: config.publicUrl,
        registrarIndex: index,
        site: o.site,
        readAgain: config.sweep !== undefined,
      },
      preparing: config.preparing !== undefined,
      requestsPerMinutePerIp: config.limits.requestsPerMinutePerIp,
      trustProxy: config.http.trustProxy,
      streamIdleMs: config.streamIdleSeconds * 1000,
      chainState: () => connection.status(),
      ...(o.whitelist ? { whitelist: o.whitelist } : {}),
    },
    o.listener,
  );
}

/** Who runs the registrar, for every page and message: the chain's own name unless one is configured. */
export function whoRunsIt(config: Config, chain: ChainPart): OperatorInfo {
  return operatorInfo(config.registrar.index, config.operator, chain.api.runtimeChain.toString());
}

/**
 * What the pages say about this registrar: read from the chain at most once a minute, in the
 * background, so that no page waits on a chain round trip (a page shows the last entry read).
 */
function aboutRegistrar(
  api: ApiPromise,
  config: Config,
  first: RegistrarEntry,
  site: OperatorInfo,
): () => Promise<RegistrarInfo> {
  let entry = first;
  let readAt = Date.now();
  let reading = false;
  const decimals = api.registry.chainDecimals[0] ?? 10;
  const symbol = api.registry.chainTokens[0] ?? 'UNIT';
  const format = (planck: bigint) => {
    const whole = planck / 10n ** BigInt(decimals);
    const fraction = (planck % 10n ** BigInt(decimals)).toString().padStart(decimals, '0').replace(/0+$/, '');
    return `${whole}${fraction ? `.${fraction}` : ''} ${symbol}`;
  };
  return async () => {
    if (Date.now() - readAt > 60_000 && !reading) {
      reading = true;
      void readRegistrar(api, config.registrar.index)
        .then((read) => {
          entry = read ?? entry;
        })
        .catch(() => undefined)
        .finally(() => {
          readAt = Date.now();
          reading = false;
        });
    }
    return {
      index: config.registrar.index,
      account: entry.account,
      fee: format(entry.fee),
      feePlanck: entry.fee.toString(),
      verifies: entry.fields.map(labelOf),
      fields: entry.fields,
      policy: config.policy.kind,
      extraFields: config.policy.extraFields,
      displayOnly: judgesDisplayOnly(entry.fields, config.policy),
      challengeTtlHours: Math.round(config.challengeTtlSeconds / 3600),
      retentionDays: config.retentionDays,
      ...(config.preparing ? { preparedHours: config.preparing.keptHours } : {}),
      ...(config.sweep
        ? {
            recheckJudgedDays: Math.round(config.sweep.periodMs / 86_400_000),
            graceDays: Math.round(config.sweep.graceMs / 86_400_000),
          }
        : {}),
      site,
    };
  };
}

/** How each field of the mask is proven, from the channels configured (the display name by the guard). */
function proofsOf(fields: readonly Field[], channels: readonly Channel[]): FieldProof[] {
  return fields.map((field) => {
    const channel = channels.find((c) => c.field === field);
    const how =
      field === 'display'
        ? ['checked automatically: well formed, and not a look-alike of any name this registrar judged']
        : channel
          ? howProven(channel.means)
          : ['nothing configured proves it now: requests that hold it stay open'];
    return { field, label: labelOf(field), how };
  });
}
