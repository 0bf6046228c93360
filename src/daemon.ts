/**
 * The composition root: builds every part from the configuration, wires them and starts them;
 * the function it returns stops them in order so nothing is left half-written. `main.ts` (the
 * `npm start` entry point) and the dev mode call it.
 */
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { ChainConnection } from './chain/connection.js';
import { isJudgementProxy, readIdentity, readRegistrar } from './chain/identity.js';
import { ProxyJudge } from './chain/judge.js';
import { JudgedNames } from './chain/judged-names.js';
import { Watcher } from './chain/watcher.js';
import { ChallengeTokens } from './challenges/tokens.js';
import type { Channel } from './channels/channel.js';
import { EmailChannel } from './channels/email.js';
import { MatrixChannel } from './channels/matrix.js';
import type { Config } from './config.js';
import { loadConfusables } from './confusables.js';
import { LookAlikeIndex, Skeletons } from './domain/look-alikes.js';
import { buildServer } from './http/server.js';
import type { Logger } from './log.js';
import { Registrar } from './registrar.js';
import { MongoStore } from './store/mongodb.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

/** A start-up problem the operator can fix; printed without a stack trace. */
export class StartupError extends Error {}

async function openStore(config: Config): Promise<Store> {
  if (config.store.kind === 'sqlite') return new SqliteStore(config.store.path);
  return MongoStore.connect(config.store.uri.reveal());
}

function proxyKey(config: Config): KeyringPair {
  try {
    return new Keyring({ type: 'sr25519' }).addFromUri(config.registrar.proxySeed.reveal());
  } catch {
    throw new StartupError('REGISTRAR_PROXY_SEED: not a valid mnemonic or secret URI');
  }
}

export async function startRegistrar(config: Config, log: Logger): Promise<() => Promise<void>> {
  await cryptoWaitReady();
  const proxy = proxyKey(config);
  const store = await openStore(config);
  const connection = await ChainConnection.open(config.chain.endpoints, log);
  const { api } = connection;
  const index = config.registrar.index;

  const entry = await readRegistrar(api, index);
  if (!entry) throw new StartupError(`REGISTRAR_INDEX: registrar #${index} does not exist on this chain`);
  if (entry.account !== api.createType('AccountId', config.registrar.account).toString()) {
    throw new StartupError(
      `REGISTRAR_ACCOUNT: registrar #${index} belongs to ${entry.account}, not to this account`,
    );
  }
  const proxyAccount = api.createType('AccountId', proxy.address).toString();
  if (!(await isJudgementProxy(api, entry.account, proxyAccount))) {
    throw new StartupError(
      `REGISTRAR_PROXY_SEED: its account ${proxyAccount} is not an IdentityJudgement proxy (without delay) of ${entry.account}; the registrar adds it with proxy.addProxy(${proxyAccount}, IdentityJudgement, 0)`,
    );
  }
  log.info({ index, fields: entry.fields, proxy: proxyAccount }, 'registrar found on chain');

  const channels: Channel[] = [];
  if (config.smtp) {
    channels.push(
      new EmailChannel({
        smtpUrl: config.smtp.url.reveal(),
        from: config.smtp.from,
        publicUrl: config.publicUrl,
      }),
    );
  }
  if (config.matrix) {
    channels.push(new MatrixChannel({ settings: config.matrix, store, log, publicUrl: config.publicUrl }));
  }
  const unverifiable = entry.fields.filter((f) => f !== 'display' && !channels.some((c) => c.field === f));
  if (unverifiable.length > 0) {
    // The daemon still serves the other fields: an operator may be rotating a bot's credentials.
    log.error(
      { fields: unverifiable },
      'the registrar mask names fields no configured channel proves; requests with them stay open',
    );
  }

  const names = new JudgedNames(
    api,
    new LookAlikeIndex(new Skeletons(loadConfusables()), config.lookAlikeThreshold),
    log,
  );
  await names.load();

  const registrar = new Registrar({
    store,
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
    judge: new ProxyJudge(api, proxy, entry.account, index),
    channels,
    policy: config.policy,
    names: {
      lookAlikes: async (account) => {
        const family = await names.family(account);
        return (name) => names.index.conflicts(name, family);
      },
    },
    tokens: new ChallengeTokens(config.jwtSecret.reveal(), index),
    registrarIndex: index,
    publicUrl: config.publicUrl,
    challengeTtlMs: config.challengeTtlSeconds * 1000,
    log,
  });
  const watcher = new Watcher(
    connection,
    index,
    registrar,
    log,
    config.reconcileIntervalSeconds * 1000,
    (event) => names.refresh(event.account),
  );
  const http = buildServer({
    registrar,
    registrarIndex: index,
    codeFields: channels.map((channel) => channel.field),
    chainState: () => connection.status(),
  });

  await registrar.startChannels();
  await watcher.start();
  const address = await http.listen({ host: config.http.host, port: config.http.port });
  log.info({ http: address, index }, 'registrar ready');

  return async () => {
    await http.close();
    await watcher.stop();
    await registrar.drain();
    for (const channel of channels) await channel.close?.();
    await connection.close();
    await store.close();
  };
}
