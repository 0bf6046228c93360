/**
 * The logger: pino, JSON lines. Personal data (email addresses, handles, tokens) is never passed
 * to it; accounts are public on-chain and may be logged.
 */
import { type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['token', '*.token', 'email', '*.email', 'value', '*.value', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}
