/**
 * The chain part: the judgement proxy's key, the connection with endpoint failover, the check that
 * the chain agrees with the configuration, the judge that submits through the proxy, and the
 * display-name guard's corpus of judged names.
 */
import type { ApiPromise } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { ChainConnection } from '../chain/connection.js';
import type { RegistrarEntry } from '../chain/identity.js';
import { ProxyJudge } from '../chain/judge.js';
import { JudgedNames } from '../chain/judged-names.js';
import { checkRegistrar } from '../chain/registrar-check.js';
import type { Config } from '../config.js';
import { LookAlikeIndex, Skeletons } from '../domain/look-alikes.js';
import type { HttpListener } from '../http/listener.js';
import type { Store } from '../store/store.js';
import { loadConfusables } from '../support/confusables.js';
import type { Logger } from '../support/log.js';
import { StartupError } from './startup-error.js';

export interface ChainPart {
  connection: ChainConnection;
  api: ApiPromise;
  /** The registrar's entry as read at start-up. */
  entry: RegistrarEntry;
  /** The registrar account's proxy the daemon signs as. */
  proxyAccount: string;
  judge: ProxyJudge;
  /** Filled by the watcher's full scans; what the first one opens before its end waits for it. */
  names: JudgedNames;
  /** Names folded with Unicode's confusables (loaded once): the guard's and sanctions screening's. */
  skeletons: Skeletons;
}

export function proxyKey(config: Config): KeyringPair {
  try {
    return new Keyring({ type: 'sr25519' }).addFromUri(config.registrar.proxySeed.reveal());
  } catch {
    throw new StartupError('REGISTRAR_PROXY_SEED: not a valid mnemonic or secret URI');
  }
}

/** Connects and checks the registrar on chain; a problem the operator can fix ends the start. */
export async function connectChain(
  config: Config,
  proxy: KeyringPair,
  log: Logger,
  listener: HttpListener,
  store: Store,
): Promise<ChainPart> {
  listener.startupStep('connecting to the chain');
  // The store remembers the highest finalized block seen: after a restart, no endpoint behind it.
  const connection = await ChainConnection.open(config.chain.endpoints, log, { memory: store });
  const { api } = connection;
  const index = config.registrar.index;

  listener.startupStep('checking the registrar on chain');
  const { entry, proxyAccount, proxyType, problems, warnings } = await checkRegistrar(
    api,
    index,
    config.registrar.account,
    proxy.address,
    { policy: config.policy, allowDisplayOnly: config.allowDisplayOnly },
  );
  if (!entry || problems.length > 0) throw new StartupError(problems.join('\n'));
  for (const warning of warnings) log.warn({ index, fields: entry.fields }, warning);
  log.info({ index, fields: entry.fields, proxy: proxyAccount, proxyType }, 'registrar found on chain');

  const judge = new ProxyJudge(api, proxy, entry.account, index, {
    ...(proxyType ? { proxyType } : {}),
    log,
  });
  const skeletons = new Skeletons(loadConfusables());
  const names = new JudgedNames(api, new LookAlikeIndex(skeletons));
  return { connection, api, entry, proxyAccount, judge, names, skeletons };
}
