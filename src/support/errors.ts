/**
 * Error texts as the registrar logs and shows them: an endpoint URL may carry an API key in its
 * path, query or user part (`wss://rpc.example/v1/KEY`), and libraries put whole URLs into their
 * messages, so every URL is cut to its scheme, host and port before a text goes anywhere.
 */
import { format } from 'node:util';
import type { Logger } from './log.js';

// scheme://[user@]host[:port][/path?query#...], the last character not punctuation ending a sentence.
const URL_IN_TEXT =
  /\b([a-z][a-z0-9+.-]*):\/\/(?:[^\s/@'"<>]*@)?([^\s/?#'"<>]*[^\s/?#'"<>:,.;)])(?:[/?#][^\s'"<>]*[^\s'"<>:,.;)]|[/?#])?/gi;

/** `text` with every URL cut to `scheme://host:port`. */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (_url, scheme: string, host: string) => `${scheme}://${host}`);
}

export function errorText(error: unknown): string {
  return redactUrls(error instanceof Error ? error.message : String(error));
}

/**
 * Libraries that write to the console themselves (@polkadot/api's logger, for a dropped socket,
 * prints the endpoint's whole URL) go through the registrar's log instead: JSON like every other
 * line, URLs cut.
 */
export function routeConsoleTo(log: Logger): void {
  const to =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (...args: unknown[]) =>
      log[level]({ from: 'library' }, redactUrls(format(...args)));
  console.error = to('error');
  console.warn = to('warn');
  console.info = to('info');
  console.log = to('info');
  console.debug = to('debug');
}
