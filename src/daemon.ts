/**
 * The composition root: builds every part from the configuration, wires them and starts them;
 * the function it returns stops them in order so nothing is left half-written. `main.ts` (the
 * `npm start` entry point) and the dev mode call it.
 */

import { EventEmitter } from 'node:events';
import type { ApiPromise } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { ChainConnection } from './chain/connection.js';
import type { RegistrarEntry } from './chain/identity.js';
import { readIdentity, readRegistrar } from './chain/identity.js';
import { ProxyJudge } from './chain/judge.js';
import { JudgedNames } from './chain/judged-names.js';
import { checkRegistrar, judgesDisplayOnly } from './chain/registrar-check.js';
import { Watcher } from './chain/watcher.js';
import { ChallengeTokens } from './challenges/tokens.js';
import { AccountChannel } from './channels/account.js';
import type { Channel } from './channels/channel.js';
import { DiscordSignIn } from './channels/discord.js';
import { GithubSignIn } from './channels/github.js';
import { GistProof } from './channels/github-gist.js';
import { PgpChannel } from './channels/pgp.js';
import { ReviewChannel } from './channels/review.js';
import { SignInSeals } from './channels/sign-in.js';
import { TwitterPostProof } from './channels/twitter-post.js';
import { WebChannel } from './channels/web.js';
import type { Config } from './config.js';
import { loadConfusables } from './confusables.js';
import { accepts } from './domain/answers.js';
import { LookAlikeIndex, Skeletons } from './domain/look-alikes.js';
import { labelOf } from './domain/verification.js';
import { collectGarbage } from './heap.js';
import { buildAdminServer } from './http/admin.js';
import { HttpListener } from './http/listener.js';
import { buildServer } from './http/server.js';
import type { RegistrarInfo } from './http/views.js';
import { Lease } from './lease.js';
import type { Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { Registrar } from './registrar.js';
import { notifyingStore } from './store/notifying.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

/** A start-up problem the operator can fix; printed without a stack trace. */
export class StartupError extends Error {}

async function openStore(config: Config): Promise<Store> {
  if (config.store.kind === 'sqlite') return new SqliteStore(config.store.path);
  const { MongoStore } = await import('./store/mongodb.js');
  return MongoStore.connect(config.store.uri.reveal());
}

function proxyKey(config: Config): KeyringPair {
  try {
    return new Keyring({ type: 'sr25519' }).addFromUri(config.registrar.proxySeed.reveal());
  } catch {
    throw new StartupError('REGISTRAR_PROXY_SEED: not a valid mnemonic or secret URI');
  }
}

/**
 * Starts the registrar; resolves with the function that stops it. `onLeaseLost` is called when
 * another instance took the lease over (this one stalled): the caller should stop this one.
 */
export async function startRegistrar(
  config: Config,
  log: Logger,
  onLeaseLost?: () => void,
  opened?: HttpListener,
): Promise<() => Promise<void>> {
  // main.ts opens it before loading the chain libraries; the web server answers from here on.
  const listener = opened ?? (await HttpListener.open(config.http));
  try {
    return await start(config, log, listener, onLeaseLost);
  } catch (error) {
    await listener.close();
    throw error;
  }
}

async function start(
  config: Config,
  log: Logger,
  listener: HttpListener,
  onLeaseLost?: () => void,
): Promise<() => Promise<void>> {
  await cryptoWaitReady();
  const proxy = proxyKey(config);
  const store = await openStore(config);
  listener.startupStep('connecting to the chain');
  const connection = await ChainConnection.open(config.chain.endpoints, log);
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

  // A channel's client library is loaded only when the channel is configured: each costs the
  // daemon tens of megabytes whether it is used or not.
  const channels: Channel[] = [];
  if (config.smtp) {
    const { EmailChannel } = await import('./channels/email.js');
    channels.push(
      new EmailChannel({
        smtpUrl: config.smtp.url.reveal(),
        from: config.smtp.from,
        publicUrl: config.publicUrl,
        timeoutMs: config.limits.deliveryTimeoutSeconds * 1000,
      }),
    );
  }
  if (config.matrix) {
    const { MatrixChannel } = await import('./channels/matrix.js');
    channels.push(new MatrixChannel({ settings: config.matrix, store, log, publicUrl: config.publicUrl }));
  }
  if (config.github || config.githubGists) {
    channels.push(
      new AccountChannel(
        'github',
        config.github && new GithubSignIn(config.github),
        config.githubGists && new GistProof(config.githubGists),
      ),
    );
  }
  if (config.discord || config.discordBot) {
    const bot =
      config.discordBot && new (await import('./channels/discord-bot.js')).DiscordBot(config.discordBot, log);
    channels.push(
      new AccountChannel('discord', config.discord && new DiscordSignIn(config.discord), undefined, bot),
    );
  }
  if (config.twitter || config.twitterPosts) {
    const signIn =
      config.twitter && new (await import('./channels/twitter.js')).TwitterSignIn(config.twitter);
    channels.push(
      new AccountChannel(
        'twitter',
        signIn,
        config.twitterPosts && new TwitterPostProof(config.twitterPosts.oembedUrl),
      ),
    );
  }
  if (config.web) channels.push(new WebChannel(config.web));
  if (config.pgp) channels.push(new PgpChannel(index));
  for (const field of config.reviewFields) channels.push(new ReviewChannel(field, log));
  const unverifiable = entry.fields.filter((f) => f !== 'display' && !channels.some((c) => c.field === f));
  if (unverifiable.length > 0) {
    // The daemon still serves the other fields: an operator may be rotating a bot's credentials.
    log.error(
      { fields: unverifiable },
      'the registrar mask names fields no configured channel proves; requests with them stay open',
    );
  }

  // Filled by the watcher's full scans; what the first one opens before its end waits for it.
  const names = new JudgedNames(
    api,
    new LookAlikeIndex(new Skeletons(loadConfusables()), config.lookAlikeThreshold),
  );

  // Every request write is announced, for the live status pages.
  const requestChanges = new EventEmitter();
  requestChanges.setMaxListeners(0);
  const notifying = notifyingStore(store, (request) => requestChanges.emit('changed', request));
  const { registry, metrics } = createMetrics({
    openRequests: async () => ({ open: 0, judging: 0, ...(await store.countOpenRequests(index)) }),
    chain: () => connection.status(),
    proxyBalance: async () => {
      try {
        const account = (await api.query.system.account(proxyAccount)) as unknown as {
          data: { free: { toBigInt(): bigint } };
        };
        return account.data.free.toBigInt();
      } catch {
        return undefined;
      }
    },
  });

  const judge = new ProxyJudge(api, proxy, entry.account, index, proxyType ? { proxyType } : {});

  // One instance judges and delivers: the one holding the lease. Others serve pages only.
  const lease = new Lease(store, config.leaseSeconds * 1000, log);
  const registrar = new Registrar({
    judges: () => lease.held,
    limits: {
      perTargetPerDay: config.limits.messagesPerTargetPerDay,
      perDomainPerDay: config.limits.messagesPerDomainPerDay,
      perAccountPerDay: config.limits.messagesPerAccountPerDay,
      cooldownMs: config.limits.messageCooldownSeconds * 1000,
      timeoutMs: config.limits.deliveryTimeoutSeconds * 1000,
    },
    codeAttempts: config.limits.codeAttempts,
    retentionMs: config.retentionDays * 86_400_000,
    refusalMs: config.refusalDays * 86_400_000,
    store: notifying,
    metrics,
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
    channels,
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
  const http = buildServer(
    {
      registrar,
      registrarIndex: index,
      about: aboutRegistrar(api, config, entry),
      watchRequests: (listener) => {
        requestChanges.on('changed', listener);
        return () => requestChanges.off('changed', listener);
      },
      readiness: async () => {
        const chain = connection.status();
        const checks: Record<string, string> = {};
        checks.chain = chain.connected ? 'connected' : 'disconnected';
        // Finalized heads come every block or two; a minute without one means the node is stuck.
        const lagging = chain.headAt === undefined || Date.now() - chain.headAt > 60_000;
        checks.sync = lagging ? 'no finalized block for over a minute' : 'in sync';
        try {
          await store.getCheckpoint('readiness');
          checks.store = 'reachable';
        } catch {
          checks.store = 'unreachable';
        }
        checks.role = lease.held ? 'judging and delivering' : 'serving pages; another instance judges';
        checks.reconciled = reconciled ? 'yes' : 'not yet';
        const judging = registrar.judgingHealth();
        checks.judgements = judging.failing
          ? `failing: ${judging.streak} in a row, last: ${judging.error}`
          : 'ok';
        return {
          ready:
            chain.connected &&
            !lagging &&
            checks.store === 'reachable' &&
            !judging.failing &&
            (reconciled || !lease.held),
          checks,
        };
      },
      metrics: registry,
      // Codes come in messages; fields proven on the site or by review have none to type.
      codeFields: channels.filter((c) => accepts(c.means, 'typed-code')).map((c) => c.field),
      prove: {
        registrar,
        channels: new Map(channels.map((c) => [c.field, c])),
        seals: new SignInSeals(config.jwtSecret.reveal()),
        publicUrl: config.publicUrl,
        registrarIndex: index,
      },
      requestsPerMinutePerIp: config.limits.requestsPerMinutePerIp,
      trustProxy: config.http.trustProxy,
      chainState: () => connection.status(),
    },
    listener,
  );

  const admin = config.admin
    ? buildAdminServer({
        token: config.admin.token.reveal(),
        registrar,
        openRequests: () => store.listOpenRequests(index),
        rescan: () => watcher.reconcile('admin'),
        judges: () => lease.held,
      })
    : undefined;

  // Pages first: nothing the chain or a channel does may keep /healthz or a confirmation waiting.
  await http.ready();
  listener.serve();
  // Everything is loaded and the scan has not begun: the one full collection (heap.ts says why now).
  collectGarbage();
  const address = listener.url;
  const adminAddress = config.admin
    ? await admin?.listen({ host: config.admin.host, port: config.admin.port })
    : undefined;

  let reconciled = false;
  let leading: Promise<void> | undefined;
  let judgeReadyTimer: NodeJS.Timeout | undefined;
  let recheckTimer: NodeJS.Timeout | undefined;
  const lead = async () => {
    log.info({ instance: lease.owner }, 'this instance holds the lease: it judges and delivers');
    await registrar.startChannels();
    registrar.outbox.start();
    await watcher.start();
    reconciled = true;
    // Asked of the runtime after the start-up scan (the node runs it, and a scan waits for the node
    // alone), before the first judgement needs it.
    void judge.batchCapacity();
    judgeReadyTimer = setInterval(() => void registrar.judgeReady().catch(() => undefined), 5_000);
    judgeReadyTimer.unref();
    // Published proofs (a website's line) are looked for again without the person pressing a button.
    recheckTimer = setInterval(
      () =>
        void registrar.recheckPublished().catch((error: unknown) => {
          log.error({ err: error instanceof Error ? error.message : String(error) }, 'recheck failed');
        }),
      config.recheckSeconds * 1000,
    );
    recheckTimer.unref();
  };
  await lease.start({
    gained: () => {
      leading = lead();
      return leading;
    },
    lost: () => {
      // Someone else judges now; going on could judge or mail twice. Stop, and let the supervisor
      // start this instance again as a follower.
      log.error('the lease was lost to another instance; stopping');
      onLeaseLost?.();
    },
  });
  if (leading) await leading;
  log.info(
    {
      http: address,
      admin: adminAddress,
      index,
      role: lease.held ? 'leader' : 'follower',
      memoryMiB: memoryMiB(),
    },
    'registrar ready',
  );

  return async () => {
    await http.close();
    await listener.close();
    await admin?.close();
    clearInterval(judgeReadyTimer);
    clearInterval(recheckTimer);
    await leading?.catch(() => undefined);
    await watcher.stop();
    await registrar.drain();
    for (const channel of channels) await channel.close?.();
    await lease.stop();
    await connection.close();
    await store.close();
  };
}

/** Resident and heap memory, for the start-up log line (operators size their machines by it). */
function memoryMiB(): { rss: number; heapUsed: number; heapTotal: number; external: number } {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  const mib = (n: number) => Math.round(n / 1_048_576);
  return { rss: mib(rss), heapUsed: mib(heapUsed), heapTotal: mib(heapTotal), external: mib(external) };
}

/**
 * What the pages say about this registrar: read from the chain at most once a minute, in the
 * background, so that no page waits on a chain round trip (a page shows the last entry read).
 */
function aboutRegistrar(
  api: ApiPromise,
  config: Config,
  first: RegistrarEntry,
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
      verifies: entry.fields.map(labelOf),
      policy: config.policy.kind,
      extraFields: config.policy.extraFields,
      displayOnly: judgesDisplayOnly(entry.fields, config.policy),
      challengeTtlHours: Math.round(config.challengeTtlSeconds / 3600),
    };
  };
}
