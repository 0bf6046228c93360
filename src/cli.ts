#!/usr/bin/env node
/**
 * The `registrar` command. `run` starts the daemon (as `npm start` does); `dev` starts the
 * all-in-one dev mode and `dev request` asks it for a judgement; `mask` turns field names into the
 * bitflag mask for `identity.setFields`. Exit codes: 0 done, 1 failed, 2 wrong usage or configuration.
 */
import { parseArgs } from 'node:util';
import { FIELDS, type Field, maskOfFields } from './domain/fields.js';

const USAGE = `usage: registrar <command>
  run                                   start the registrar daemon (configured by REGISTRAR_* settings)
  dev                                   start a local chain, a dev registrar, a mail catcher and the daemon
  dev request --display NAME --email ADDRESS [--seed //Alice]
                                        set an identity on the dev chain and request a judgement
  mask FIELD...                         the field mask for identity.setFields (fields: ${FIELDS.join(', ')})
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`registrar: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      await import('./main.js');
      return;
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
      const { devRequest, runDev } = await import('./dev/dev.js');
      if (rest[0] === 'request') {
        const { values } = parseArgs({
          args: rest.slice(1),
          options: { display: { type: 'string' }, email: { type: 'string' }, seed: { type: 'string' } },
        });
        if (!values.display && !values.email) fail(`give at least --display or --email\n${USAGE}`);
        const { account, statusUrl } = await devRequest(values);
        process.stdout.write(`Judgement requested for ${account}.\nStatus: ${statusUrl}\n`);
        return;
      }
      if (rest.length > 0) fail(USAGE);
      const stop = await runDev();
      const shutdown = () => {
        stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      return;
    }
    default:
      fail(USAGE);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fail(error instanceof Error ? error.message : String(error), 1);
});
