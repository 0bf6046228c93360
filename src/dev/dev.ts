/**
 * `npm run dev`: everything a newcomer needs in one process, from a fresh clone. An embedded People
 * runtime (chopsticks, blocks built on demand), a registrar whose mask covers every field and its
 * IdentityJudgement proxy, a mail catcher with a page to read the mail and the bots' chat messages,
 * local stand-ins of Matrix, Discord, GitHub, X and DNS (stand-ins/services.ts), and the registrar
 * daemon itself with a fresh embedded store and the admin API on. It writes what the `dev request`
 * command needs to `data/dev/dev.json`, the operator CLI's settings to `data/dev/registrar.env`,
 * and prints the addresses to open.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pretty from 'pino-pretty';
import { FIELDS, maskOfFields } from '../domain/fields.js';
import { createLogger } from '../support/log.js';
import { checkPortsFree, type DevPort, takeDevLock } from './dev-lock.js';
import { type DevState, devDir } from './dev-request.js';

/**
 * The dev chain builds blocks only for transactions; live People chains finalize one every 6 s and
 * /readyz counts a minute without one as stuck. An empty block this often keeps the idle dev chain
 * as healthy as a live one.
 */
const HEARTBEAT_MS = 20_000;

/** Quotes a value for a POSIX shell's `.` (the env file is sourced, as the README shows). */
const shellQuoted = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export async function runDev(env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  const level = env.REGISTRAR_DEV_LOG_LEVEL ?? env.LOG_LEVEL ?? 'info';
  const log = createLogger(level, pretty({ colorize: process.stdout.isTTY, sync: true }));
  const dir = devDir(env);
  const httpPort = Number(env.REGISTRAR_HTTP_PORT ?? 8080);
  const adminPort = Number(env.REGISTRAR_ADMIN_PORT ?? 8081);
  const mailPort = Number(env.REGISTRAR_DEV_MAIL_PORT ?? 1080);
  const chainPort = Number(env.REGISTRAR_DEV_CHAIN_PORT ?? 9944);
  const smtpPort = Number(env.REGISTRAR_DEV_SMTP_PORT ?? 0);
  const ports: DevPort[] = [
    { what: 'registrar pages', setting: 'REGISTRAR_HTTP_PORT', port: httpPort },
    { what: 'admin API', setting: 'REGISTRAR_ADMIN_PORT', port: adminPort },
    { what: 'mail catcher', setting: 'REGISTRAR_DEV_MAIL_PORT', port: mailPort },
    { what: 'dev chain', setting: 'REGISTRAR_DEV_CHAIN_PORT', port: chainPort },
    { what: 'SMTP catcher', setting: 'REGISTRAR_DEV_SMTP_PORT', port: smtpPort },
  ];
  // Before anything is deleted or opened: another dev registrar on this folder, or a port in use.
  mkdirSync(join(dir, '..'), { recursive: true });
  const unlock = takeDevLock(
    `${dir}.lock`,
    ports.filter((p) => p.port !== 0),
  );
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const { stop } of stops.reverse()) await stop();
    unlock();
  };
  try {
    await checkPortsFree(ports);
    // The chain starts from genesis every time, so the store does too.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Loaded only now: the chain and daemon libraries take seconds, and a refusal should not wait.
    const { loadConfig } = await import('../config.js');
    const { startRegistrar } = await import('../daemon.js');
    const { TestChain, UNIT } = await import('./local-chain.js');
    const { serveMailPage } = await import('./mail-page.js');
    const { TestMailbox } = await import('./mailbox.js');
    const { startStandIns } = await import('./stand-ins/services.js');

    log.info('starting the embedded People runtime and the stand-ins (about a minute on 2 cores)');
    const chain = await TestChain.start({ mode: 'Instant', port: chainPort });
    stops.push({ name: 'the dev chain', stop: () => chain.close() });
    const services = await startStandIns();
    stops.push({ name: services.names.join(', '), stop: () => services.close() });
    // Every field, but X when its stand-in cannot be trusted here (a field no channel proves stays open).
    const fields = FIELDS.filter((field) => field !== 'twitter' || !services.xMissing);
    const { registrar, index } = await chain.setUpRegistrar('Dev', {
      fee: UNIT,
      fields: Number(maskOfFields(fields)),
    });
    const heartbeat = setInterval(() => {
      chain.newBlock().catch(() => undefined);
    }, HEARTBEAT_MS);
    stops.push({ name: '', stop: async () => clearInterval(heartbeat) });
    const mailbox = await TestMailbox.start(smtpPort);
    stops.push({ name: 'the mail catcher', stop: () => mailbox.close() });
    const mailPage = await serveMailPage(mailbox, mailPort, services.chat);
    stops.push({ name: '', stop: () => mailPage.close() });
    const url = `http://127.0.0.1:${httpPort}`;

    const settings: Record<string, string> = {
      REGISTRAR_CHAIN_ENDPOINTS: chain.endpoint,
      REGISTRAR_INDEX: String(index),
      REGISTRAR_ACCOUNT: registrar.address,
      REGISTRAR_PROXY_SEED: '//DevProxy',
      REGISTRAR_PUBLIC_URL: url,
      REGISTRAR_JWT_SECRET: randomBytes(32).toString('hex'),
      REGISTRAR_STORE: `sqlite:${join(dir, 'registrar.sqlite')}`,
      REGISTRAR_HTTP_PORT: String(httpPort),
      REGISTRAR_ADMIN_PORT: String(adminPort),
      REGISTRAR_ADMIN_TOKEN: randomBytes(32).toString('hex'),
      REGISTRAR_SMTP_URL: mailbox.url,
      REGISTRAR_SMTP_FROM: 'Dev Registrar <registrar@localhost>',
      REGISTRAR_REVIEW_FIELDS: 'legal,image',
      // The mask covers every field; a newcomer's identity sets some: those set are what is judged.
      REGISTRAR_POLICY: 'set',
      REGISTRAR_RECONCILE_INTERVAL_SECONDS: '30',
      ...services.env,
    };
    const config = loadConfig({ ...settings, LOG_LEVEL: level });
    const stopRegistrar = await startRegistrar(config, log);
    stops.push({ name: 'the registrar', stop: stopRegistrar });
    const state: DevState = {
      endpoint: chain.endpoint,
      index,
      fee: UNIT.toString(),
      url,
      mailUrl: mailPage.url,
    };
    writeFileSync(join(dir, 'dev.json'), JSON.stringify(state, null, 2));
    // Every setting the daemon runs with, so that each operator command can be tried against it.
    const envFile = join(dir, 'registrar.env');
    writeFileSync(
      envFile,
      `${Object.entries(settings)
        .map(([key, value]) => `${key}=${shellQuoted(value)}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );

    process.stdout.write(`
  The registrar is running (registrar #${index}, verifying ${fields.length === FIELDS.length ? 'every field' : fields.join(', ')} that an identity sets), ready after ${Math.round((Date.now() - startedAt) / 1000)} s.

    registrar pages  ${url}/
    mail catcher     ${mailPage.url}/   (mail, and the Matrix and Discord bots' messages)
    dev DNS          ${services.dnsPageUrl}/   (publish the web proof's TXT record)
    chain endpoint   ${chain.endpoint}   (polkadot.js apps can connect to it)
    admin API        http://127.0.0.1:${adminPort}/   (settings for the operator CLI: ${envFile})
${services.xMissing ? `\n  ${services.xMissing}; the dev registrar does not verify X.\n` : ''}
  Ask for a judgement, in another terminal:
    npm run registrar -- dev request --display "Alice" --email alice@example.org
  or with every field (see npm run registrar -- dev request --help):
    npm run registrar -- dev request --display "Alice" --email alice@example.org \\
      --matrix @alice:localhost --github alice --discord alice --x alice --web alice.example.org

  Then open the mail in the mail catcher, follow the link and press Confirm; sign in to GitHub,
  Discord and X on the status page (the stand-ins ask only for the user name).
  Operator commands, in another terminal:
    set -a; . ${envFile}; set +a
    npm run registrar -- pending
  Stop with Ctrl-C.
`);
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }

  return async () => {
    const names = stops
      .map((s) => s.name)
      .filter((name) => name !== '')
      .reverse();
    await stopAll();
    const list = `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    process.stdout.write(`\nStopped ${list}. The data in ${dir} stays until the next \`npm run dev\`.\n`);
  };
}
