#!/usr/bin/env node
/**
 * The `registrar` command. `run` starts the daemon (as `npm start` does); `dev` starts the
 * all-in-one dev mode and `dev request` asks it for a judgement; `mask` turns field names into the
 * bitflag mask for `identity.setFields`; `config check`, `pending`, `status`, `rescan` and `sweep`
 * serve the operator. Exit codes: 0 done, 1 failed (a check failed, the daemon is unreachable), 2 wrong usage or
 * configuration, 3 no such request. The commands that talk to the running daemon (pending, status,
 * reviews, rescan, sweep, review, judge) read only the admin API's address and token, and check their
 * arguments before anything is sent.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
// Loaded when a command needs it: its address checks load the chain's crypto, seconds on a busy machine.
import type { AdminClientSettings, Config } from './config.js';
import { FIELDS, type Field, maskOfFields } from './domain/fields.js';

const USAGE = `usage: registrar <command>
  run                                   start the registrar daemon (configured by REGISTRAR_* settings)
  config check                          read the configuration and reach the chain, store, SMTP and Matrix
  pending [--json]                      the open requests of the running daemon, as a table
  status ACCOUNT [--json]               one request's fields and what blocks it
  reviews ACCOUNT [--json]              the operators' reviews of an account (the audit log)
  rescan                                read chain storage now and bring every request up to date
  sweep [--json]                        check again now the judged proofs that are due (websites' lines,
                                        ...) and print what each check found
  review ACCOUNT FIELD --confirm|--reject [--identity HASH | --value TEXT] [--note TEXT] [--by NAME]
                                        the operator's verdict on a legal name or image, or a display
                                        name the guard flagged allowed (display --confirm), for the identity
                                        (or value) you looked at: refused if it changed since (without
                                        either, shows the value and asks); in the audit log with --by, or
                                        your login name
  judge ACCOUNT JUDGEMENT [--yes] [--by NAME]
                                        give Erroneous, OutOfDate or LowQuality by hand (asks first; in
                                        the audit log with --by, or your login name)
  dev                                   start a local chain, a dev registrar, a mail catcher, stand-ins of
                                        Matrix, Discord, GitHub, X and DNS, and the daemon (dev only)
  dev request --display NAME --email ADDRESS [--matrix ... --github ... --discord ... --x ... --web ...
              --pgp FINGERPRINT --legal ... --image ...] [--seed //Alice]
                                        set an identity on the dev chain and request a judgement
  sanctions import FILE [--format ofac|eu] | status [--json] | hits [--json]
                                        sanctions screening: a list file (OFAC SDN XML or EU consolidated
                                        list XML) uploaded to the daemon, which screens judged legal names
                                        again; the kept lists; the review queue's hits
  proxy-rotate NEW_ACCOUNT               the call data that replaces the judgement proxy (signed by the cold account)
  mask FIELD...                         the field mask for identity.setFields (fields: ${FIELDS.join(', ')})
  whitelist export FILE | check ADDRESS [--file FILE]
                                        the anonymous whitelist: written, or an account looked up in it
`;

/** Asks on the terminal; without one (a script), the answer is no. */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(question);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

/** The configuration, as the daemon reads it; a wrong one ends the command with exit code 2. */
async function readConfig(): Promise<Config> {
  const { ConfigError, loadConfig } = await import('./config.js');
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

/** The admin API's address and token: all the operator commands need. */
async function readAdminSettings(): Promise<AdminClientSettings> {
  const { ConfigError, loadAdminClientSettings } = await import('./config.js');
  try {
    return loadAdminClientSettings(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

/** Runs `check`; wrong usage (a UsageError) ends the command with exit code 2 and the message. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if ((error as Error).name === 'UsageError') {
      fail(`${(error as Error).message} (registrar --help shows every command)`, 2);
    }
    throw error;
  }
}

/** The commands that act on the running daemon through its admin API. */
async function operatorCommand(command: string, rest: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean' },
      confirm: { type: 'boolean' },
      reject: { type: 'boolean' },
      note: { type: 'string' },
      by: { type: 'string' },
      yes: { type: 'boolean' },
      identity: { type: 'string' },
      value: { type: 'string' },
    },
    allowPositionals: true,
  });
  const args = await import('./operator/arguments.js');
  // Each command takes its own options: another's is as wrong as an unknown one.
  const takes: Record<string, readonly string[]> = {
    pending: ['json'],
    status: ['json'],
    reviews: ['json'],
    rescan: [],
    sweep: ['json'],
    review: ['confirm', 'reject', 'note', 'by', 'identity', 'value'],
    judge: ['yes', 'by'],
  };
  const checked = usage(() => {
    const foreign = Object.keys(values).find((option) => !takes[command]?.includes(option));
    if (foreign) throw new args.UsageError(`${command} takes no --${foreign}`);
    const by = args.operatorNameArgument(values.by ?? userInfo().username);
    switch (command) {
      case 'pending':
      case 'rescan':
      case 'sweep':
        args.noMoreThan(positionals, 0);
        return { by };
      case 'review': {
        args.noMoreThan(positionals, 2);
        const account = args.accountArgument(positionals[0]);
        const field = args.reviewFieldArgument(positionals[1]);
        if (values.confirm === values.reject) throw new args.UsageError('give one of --confirm or --reject');
        const identityHash = args.identityHashArgument(values.identity);
        return { by, account, field, identityHash };
      }
      case 'judge': {
        args.noMoreThan(positionals, 2);
        return {
          by,
          account: args.accountArgument(positionals[0]),
          judgement: args.judgementArgument(positionals[1]),
        };
      }
      default:
        args.noMoreThan(positionals, 1);
        return { by, account: args.accountArgument(positionals[0]) };
    }
  });
  const admin = await readAdminSettings();
  const operator = await import('./operator/admin-client.js');
  const account = checked.account ?? '';
  try {
    if (command === 'pending') process.stdout.write(await operator.pending(admin, values.json === true));
    else if (command === 'rescan') process.stdout.write(await operator.rescan(admin));
    else if (command === 'sweep') process.stdout.write(await operator.sweep(admin, values.json === true));
    else if (command === 'reviews')
      process.stdout.write(await operator.reviews(admin, account, values.json === true));
    else if (command === 'review') {
      const field = checked.field ?? 'legal';
      const decision = values.confirm ? 'confirm' : 'reject';
      let seen: { identityHash?: string; value?: string } = {
        ...(checked.identityHash === undefined ? {} : { identityHash: checked.identityHash }),
        ...(values.value === undefined ? {} : { value: values.value }),
      };
      if (seen.identityHash === undefined && seen.value === undefined) {
        // What is decided on is what is shown here: the hash goes with the answer.
        if (!process.stdin.isTTY) {
          fail(
            'give --identity HASH or --value TEXT: what you reviewed (`registrar status ACCOUNT` shows both)',
          );
        }
        const shown = await operator.reviewSubject(admin, account, field);
        // A sanctions hit is the operator's to weigh: shown before the question, never decided for them.
        if (shown.hits.length > 0) {
          process.stdout.write(
            `The ${field} is like ${shown.hits.length} sanctions list entr${shown.hits.length === 1 ? 'y' : 'ies'}:\n${operator.hitsTable(shown.hits)}`,
          );
        }
        if (
          !(await confirmed(
            `${decision === 'confirm' ? 'Confirm' : 'Reject'} the ${field} "${shown.value}" of ${account} (identity ${shown.identityHash})? [y/N] `,
          ))
        ) {
          fail('not confirmed; nothing was reviewed', 1);
        }
        seen = { identityHash: shown.identityHash };
      }
      // The audit log names the reviewer: --by, or the operator's login.
      process.stdout.write(
        await operator.review(admin, account, field, decision, values.note ?? '', checked.by, seen),
      );
    } else if (command === 'judge') {
      const judgement = checked.judgement ?? 'Erroneous';
      if (
        !values.yes &&
        !(await confirmed(`Give ${judgement} to ${account}? This is final on chain. [y/N] `))
      ) {
        fail('not confirmed; nothing was given (pass --yes to skip the question)', 1);
      }
      process.stdout.write(await operator.judge(admin, account, judgement, checked.by));
    } else {
      const result = await operator.status(admin, account, values.json === true);
      process.stdout.write(result.text);
      if (!result.found) process.exit(3);
    }
  } catch (error) {
    if (error instanceof operator.OperatorError) fail(error.message, 1);
    throw error;
  }
}

/** `sanctions import FILE [--format ofac|eu]`, `sanctions status`, `sanctions hits`: through the admin API. */
async function sanctionsCommand(rest: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { format: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [action, ...more] = positionals;
  const args = await import('./operator/arguments.js');
  usage(() => {
    if (action !== 'import' && action !== 'status' && action !== 'hits') {
      throw new args.UsageError('sanctions takes import FILE, status or hits');
    }
    args.noMoreThan(more, action === 'import' ? 1 : 0);
    if (action === 'import' && more[0] === undefined) throw new args.UsageError('give the FILE to import');
    if (action !== 'import' && values.format !== undefined)
      throw new args.UsageError(`sanctions ${action} takes no --format`);
    if (action === 'import' && values.json !== undefined)
      throw new args.UsageError('sanctions import takes no --json');
    if (values.format !== undefined && values.format !== 'ofac' && values.format !== 'eu') {
      throw new args.UsageError(`--format "${values.format}" is not ofac or eu`);
    }
  });
  const admin = await readAdminSettings();
  const { OperatorError } = await import('./operator/admin-client.js');
  const sanctions = await import('./operator/sanctions.js');
  try {
    if (action === 'import')
      process.stdout.write(await sanctions.importList(admin, more[0] as string, values.format));
    else if (action === 'status') process.stdout.write(await sanctions.status(admin, values.json === true));
    else process.stdout.write(await sanctions.hits(admin, values.json === true));
  } catch (error) {
    if (error instanceof OperatorError) fail(error.message, 1);
    throw error;
  }
}

function fail(message: string, code = 2): never {
  process.stderr.write(`registrar: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // Asked for: the usage goes to stdout and it is no error.
  if (
    command === 'help' ||
    command === '--help' ||
    command === '-h' ||
    (rest.includes('--help') && command !== 'dev')
  ) {
    process.stdout.write(USAGE);
    return;
  }
  switch (command) {
    case 'run':
      await import('./main.js');
      return;
    case 'config': {
      if (rest[0] !== 'check') fail(USAGE);
      const config = await readConfig();
      const { checkConfig } = await import('./operator/config-check.js');
      const checks = await checkConfig(config);
      for (const check of checks) {
        process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.setting}: ${check.verdict}\n`);
      }
      process.exit(checks.every((check) => check.ok) ? 0 : 1);
      return;
    }
    case 'pending':
    case 'status':
    case 'reviews':
    case 'rescan':
    case 'sweep':
    case 'review':
    case 'judge':
      await operatorCommand(command, rest);
      return;
    case 'sanctions':
      await sanctionsCommand(rest);
      return;
    case 'proxy-rotate': {
      const { accountArgument, noMoreThan } = await import('./operator/arguments.js');
      const next = usage(() => {
        noMoreThan(rest, 1);
        return accountArgument(rest[0], 'NEW_ACCOUNT');
      });
      const config = await readConfig();
      const { proxyRotationCall } = await import('./operator/proxy-rotation.js');
      process.stdout.write(await proxyRotationCall(config, next));
      return;
    }
    case 'whitelist': {
      const { whitelistCommand } = await import('./operator/whitelist.js');
      const result = await whitelistCommand(rest, readConfig);
      if (result.code === 2) fail(result.out);
      process.stdout.write(result.out);
      process.exit(result.code);
      return;
    }
    case 'mask': {
      const unknown = rest.filter((name) => !FIELDS.includes(name as Field));
      if (rest.length === 0 || unknown.length > 0) fail(`unknown field(s) ${unknown.join(', ')}\n${USAGE}`);
      process.stdout.write(`${maskOfFields(rest as Field[]).toString()}\n`);
      return;
    }
    case 'dev': {
      // chopsticks reads LOG_LEVEL when it is loaded; its block-by-block info lines would drown ours.
      process.env.REGISTRAR_DEV_LOG_LEVEL = process.env.LOG_LEVEL ?? 'info';
      process.env.LOG_LEVEL = 'warn';
      const { DEV_REQUEST_FIELDS, DEV_USAGE, devRequest } = await import('./dev/dev-request.js');
      const { DevRefused } = await import('./dev/dev-lock.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(DEV_USAGE);
        return;
      }
      try {
        if (rest[0] === 'request') {
          const { values } = parseArgs({
            args: rest.slice(1),
            options: {
              ...Object.fromEntries(
                Object.keys(DEV_REQUEST_FIELDS).map((option) => [option, { type: 'string' as const }]),
              ),
              seed: { type: 'string' },
            },
          });
          const { account, statusUrl } = await devRequest(values as Record<string, string | undefined>);
          process.stdout.write(`Judgement requested for ${account}.\nStatus: ${statusUrl}\n`);
          return;
        }
        if (rest.length > 0) fail(DEV_USAGE);
        const { runDev } = await import('./dev/dev.js');
        const stop = await runDev();
        let stopping = false;
        const shutdown = () => {
          if (stopping) return;
          stopping = true;
          stop().then(
            () => process.exit(0),
            (error: unknown) => fail(`stopping failed: ${(error as Error).message}`, 1),
          );
        };
        process.on('SIGINT', shutdown);
        process.on('SIGTERM', shutdown);
      } catch (error) {
        if (error instanceof DevRefused) fail(error.message, 2);
        throw error;
      }
      return;
    }
    default:
      fail(USAGE);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // An unknown option or a missing option value is wrong usage, like an unknown command.
  if (String((error as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS')) {
    fail(`${(error as Error).message}\n${USAGE}`, 2);
  }
  fail(error instanceof Error ? error.message : String(error), 1);
});
