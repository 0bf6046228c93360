/**
 * The `npm start` entry point: reads the configuration, starts the registrar, and on SIGINT/SIGTERM
 * stops it in order.
 */
import type { Config } from './config.js';
import { tuneHeap } from './support/heap.js';

// Before anything else loads (heap.ts says why); so the rest is imported here, not above.
tuneHeap();
const { ConfigError, loadConfig } = await import('./config.js');
const { createLogger } = await import('./support/log.js');
const { redactUrls, routeConsoleTo } = await import('./support/errors.js');
const { HttpListener } = await import('./http/listener.js');

async function run(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `registrar: ${error.message}\nSee config/registrar.example.env for every setting.\n`,
      );
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  routeConsoleTo(log);
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    // While still starting (possibly waiting minutes for an endpoint), stop at once: every write is
    // atomic, and what start-up had begun is taken up again by the next start's reconciliation.
    if (!stop) process.exit(code);
    stop()
      .then(() => {
        log.info('stopped');
        process.exit(code);
      })
      .catch((error: unknown) => {
        log.error(
          { err: redactUrls(error instanceof Error ? error.message : String(error)) },
          'unclean stop',
        );
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // The web server answers ("starting") before the chain libraries load, which takes seconds.
  const operator = { index: config.registrar.index, ...config.operator };
  const listener = await HttpListener.open({ ...config.http, operator }).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `registrar: the web server cannot listen on ${config.http.host}:${config.http.port}: ${message}\n`,
    );
    process.exit(2);
  });
  const { StartupError, startRegistrar } = await import('./daemon.js');
  try {
    // Exit code 1 after a lost lease: a supervisor starts the instance again, as a follower.
    stop = await startRegistrar(config, log, () => shutdown('lease lost', 1), listener);
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`registrar: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

run().catch((error: unknown) => {
  const message = (error as { message?: unknown })?.message;
  process.stderr.write(`registrar: fatal: ${typeof message === 'string' ? message : String(error)}\n`);
  process.exit(1);
});
