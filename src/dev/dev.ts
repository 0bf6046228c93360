/**
 * `npm run dev`: everything a newcomer needs in one process, from a fresh clone. An embedded People
 * runtime (chopsticks, blocks built on demand), a registrar with a field mask and its
 * IdentityJudgement proxy, a mail catcher with a page to read the mail, and the registrar daemon
 * itself with a fresh embedded store. It writes what the `dev request` command needs to
 * `data/dev/dev.json` and prints the addresses to open.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pretty from 'pino-pretty';
import { loadConfig } from '../config.js';
import { startRegistrar } from '../daemon.js';
import { createLogger } from '../support/log.js';
import { TestChain, UNIT } from './local-chain.js';
import { serveMailPage } from './mail-page.js';
import { TestMailbox } from './mailbox.js';

/** What `npm run dev` tells the `dev request` command. */
export interface DevState {
  endpoint: string;
  index: number;
  fee: string;
  url: string;
  mailUrl: string;
}

export const devDir = (env: NodeJS.ProcessEnv) => env.REGISTRAR_DEV_DIR ?? join('data', 'dev');

/** Display name and email: what the dev registrar verifies (bits 0 and 4). */
const DEV_MASK = 1 | 16;

export async function runDev(env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  const level = env.REGISTRAR_DEV_LOG_LEVEL ?? env.LOG_LEVEL ?? 'info';
  const log = createLogger(level, pretty({ colorize: process.stdout.isTTY, sync: true }));
  const dir = devDir(env);
  // The chain starts from genesis every time, so the store does too.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  log.info('starting the embedded People runtime (about 5 s)');
  const chain = await TestChain.start({
    mode: 'Instant',
    port: Number(env.REGISTRAR_DEV_CHAIN_PORT ?? 9944),
  });
  const { registrar, index } = await chain.setUpRegistrar('Dev', { fee: UNIT, fields: DEV_MASK });
  const mailbox = await TestMailbox.start(Number(env.REGISTRAR_DEV_SMTP_PORT ?? 0));
  const mailPage = await serveMailPage(mailbox, Number(env.REGISTRAR_DEV_MAIL_PORT ?? 1080));
  const httpPort = env.REGISTRAR_HTTP_PORT ?? '8080';
  const url = `http://127.0.0.1:${httpPort}`;

  const config = loadConfig({
    REGISTRAR_CHAIN_ENDPOINTS: chain.endpoint,
    REGISTRAR_INDEX: String(index),
    REGISTRAR_ACCOUNT: registrar.address,
    REGISTRAR_PROXY_SEED: '//DevProxy',
    REGISTRAR_PUBLIC_URL: url,
    REGISTRAR_JWT_SECRET: randomBytes(32).toString('hex'),
    REGISTRAR_STORE: `sqlite:${join(dir, 'registrar.sqlite')}`,
    REGISTRAR_HTTP_PORT: httpPort,
    REGISTRAR_SMTP_URL: mailbox.url,
    REGISTRAR_SMTP_FROM: 'Dev Registrar <registrar@localhost>',
    REGISTRAR_RECONCILE_INTERVAL_SECONDS: '30',
    LOG_LEVEL: level,
  });
  const stopRegistrar = await startRegistrar(config, log);
  const state: DevState = {
    endpoint: chain.endpoint,
    index,
    fee: UNIT.toString(),
    url,
    mailUrl: mailPage.url,
  };
  writeFileSync(join(dir, 'dev.json'), JSON.stringify(state, null, 2));

  process.stdout.write(`
  The registrar is running (registrar #${index}, verifying display name and email).

    registrar pages  ${url}/
    mail catcher     ${mailPage.url}/
    chain endpoint   ${chain.endpoint}   (polkadot.js apps can connect to it)

  Ask for a judgement, in another terminal:
    npm run registrar -- dev request --display "Alice" --email alice@example.org

  Then open the mail in the mail catcher, follow the link and press Confirm.
  Stop with Ctrl-C.
`);

  return async () => {
    await stopRegistrar();
    await mailPage.close();
    await mailbox.close();
    await chain.close();
  };
}

/** `registrar dev request`: a dev account sets an identity and asks the dev registrar to judge it. */
export async function devRequest(
  options: { display?: string; email?: string; seed?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ account: string; statusUrl: string }> {
  const { readFileSync } = await import('node:fs');
  const { ApiPromise, Keyring, WsProvider } = await import('@polkadot/api');
  const { cryptoWaitReady } = await import('@polkadot/util-crypto');
  let state: DevState;
  try {
    state = JSON.parse(readFileSync(join(devDir(env), 'dev.json'), 'utf8')) as DevState;
  } catch {
    throw new Error('no dev registrar is running here: start it with `npm run dev` first');
  }
  await cryptoWaitReady();
  const provider = new WsProvider(state.endpoint, 1_000);
  let timer: NodeJS.Timeout | undefined;
  const unreachable = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void provider.disconnect();
      reject(new Error(`cannot reach the dev chain at ${state.endpoint}: is \`npm run dev\` still running?`));
    }, 20_000);
  });
  const api = await Promise.race([ApiPromise.create({ provider, noInitWarn: true }), unreachable]);
  clearTimeout(timer);
  try {
    const who = new Keyring({ type: 'sr25519' }).addFromUri(options.seed ?? '//Alice');
    const info: Record<string, unknown> = {};
    if (options.display) info.display = { Raw: options.display };
    if (options.email) info.email = { Raw: options.email };
    const submit = (tx: ReturnType<typeof api.tx.identity.setIdentity>) =>
      new Promise<void>((resolve, reject) => {
        tx.signAndSend(who, (result) => {
          if (result.dispatchError)
            reject(
              new Error(
                `${tx.method.section}.${tx.method.method} failed: ${result.dispatchError.toString()}`,
              ),
            );
          else if (result.status.isFinalized) resolve();
        }).catch(reject);
      });
    await submit(api.tx.identity.setIdentity(info as never));
    await submit(api.tx.identity.requestJudgement(state.index, BigInt(state.fee)) as never);
    const account = api.createType('AccountId', who.address).toString();
    return { account, statusUrl: `${state.url}/status/${account}` };
  } finally {
    await api.disconnect();
  }
}
