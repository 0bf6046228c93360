/**
 * The registrar part: the registrar over the store (every write announced), the chain's reads, the
 * judge, the channels and the display-name guard, and the watcher that feeds it chain events and
 * storage reconciliation.
 */
import { readIdentity, readParent, readRegistrar, readSubOf, readSubs } from '../chain/identity.js';
import { Watcher } from '../chain/watcher.js';
import type { Channel } from '../channels/channel.js';
import type { Config } from '../config.js';
import type { OperatorInfo } from '../domain/operator.js';
import type { Lease } from '../registrar/lease.js';
import type { RegistrarMetrics } from '../registrar/metrics.js';
import { Registrar } from '../registrar/registrar.js';
import { ChallengeTokens } from '../registrar/tokens.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import type { ChainPart } from './chain.js';

export interface RegistrarPart {
  registrar: Registrar;
  watcher: Watcher;
}

export function buildRegistrar(o: {
  config: Config;
  /** The store the registrar writes through: the one that announces request changes. */
  store: Store;
  chain: ChainPart;
  channels: readonly Channel[];
  metrics: RegistrarMetrics;
  /** One instance judges and delivers: the one holding the lease. Others serve pages only. */
  lease: Lease;
  log: Logger;
  /** Who runs the registrar: every message names it. */
  operator: OperatorInfo;
}): RegistrarPart {
  const { config, chain, log } = o;
  const { api, connection, judge, names } = chain;
  const index = config.registrar.index;
  const registrar = new Registrar({
    judges: () => o.lease.held,
    limits: {
      perTargetPerDay: config.limits.messagesPerTargetPerDay,
      perDomainPerDay: config.limits.messagesPerDomainPerDay,
      perAccountPerDay: config.limits.messagesPerAccountPerDay,
      cooldownMs: config.limits.messageCooldownSeconds * 1000,
      timeoutMs: config.limits.deliveryTimeoutSeconds * 1000,
    },
    codeAttempts: config.limits.codeAttempts,
    retentionMs: config.retentionDays * 86_400_000,
    ...(config.preparing
      ? {
          preparing: {
            keptMs: config.preparing.keptHours * 3_600_000,
            limits: {
              perAccountPerDay: config.preparing.perAccountPerDay,
              perClientPerDay: config.preparing.perClientPerDay,
            },
          },
        }
      : {}),
    refusalMs: config.refusalDays * 86_400_000,
    handles: { rule: config.oneAccountPerHandle, parentOf: (account) => readParent(api, account) },
    family: { subOf: (account) => readSubOf(api, account), subs: (parent) => readSubs(api, parent) },
    store: o.store,
    metrics: o.metrics,
    chain: {
      identity: (account) => readIdentity(api, account),
      registrar: () => readRegistrar(api, index),
      accountId: (address) => {
        try {
          return api.createType('AccountId', address).toString();
        } catch {
          return undefined;
        }
      },
    },
    judge,
    channels: o.channels,
    policy: config.policy,
    names: {
      lookAlikes: async (account) => {
        const family = await names.family(account);
        return (name) => names.index.conflicts(name, family);
      },
      readAhead: (accounts) => names.readFamilies(accounts),
    },
    tokens: new ChallengeTokens(config.jwtSecret.reveal(), index),
    registrarIndex: index,
    publicUrl: config.publicUrl,
    challengeTtlMs: config.challengeTtlSeconds * 1000,
    log,
    operator: o.operator,
    sanctions: { skeletons: chain.skeletons, display: config.sanctions.display },
    ...(config.sweep ? { sweep: config.sweep } : {}),
  });
  const watcher = new Watcher(
    connection,
    index,
    registrar,
    log,
    { openMs: config.reconcileIntervalSeconds * 1000, fullMs: config.fullScanIntervalHours * 3_600_000 },
    (event) => names.refresh(event.account),
    names,
  );
  return { registrar, watcher };
}
