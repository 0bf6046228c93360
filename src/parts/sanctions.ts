/**
 * The sanctions list kept current from REGISTRAR_SANCTIONS_URL: fetched when this instance takes
 * the lease and every REGISTRAR_SANCTIONS_REFRESH_HOURS after, by the lease holder only. A fetch
 * that fails, or a file that does not read, keeps the list there was; the failure is logged (the
 * URL cut to scheme, host and port) and counted in the metrics.
 */
import type { Config } from '../config.js';
import { MAX_SANCTIONS_FILE_BYTES } from '../domain/sanctions.js';
import type { RegistrarMetrics } from '../registrar/metrics.js';
import type { Screening } from '../registrar/sanctions.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';

const FETCH_TIMEOUT_MS = 120_000;

export interface SanctionsRefresh {
  /** Fetches now and then on schedule; a no-op without a URL. */
  start(): void;
  stop(): void;
}

/** The file at `url`, as text, within the size bound. */
async function fetchList(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  if (!response.ok || !response.body) throw new Error(`the list URL answered ${response.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_SANCTIONS_FILE_BYTES)
      throw new Error(`the list is larger than ${MAX_SANCTIONS_FILE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sanctionsRefresh(o: {
  config: Config;
  screening: Screening | undefined;
  metrics: RegistrarMetrics;
  log: Logger;
}): SanctionsRefresh {
  const { url, refreshHours } = o.config.sanctions;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const refresh = () => {
    const screening = o.screening;
    if (!url || !screening || running) return;
    // The source kept and shown: the address without its query, which may hold a token.
    const parsed = new URL(url);
    const source = `${parsed.origin}${parsed.pathname}`;
    running = fetchList(url)
      .then((xml) => screening.importList(xml, source))
      .then(
        (outcome) => {
          o.metrics.sanctionsFetch('ok');
          o.log.info(
            { list: outcome.list.format, listDate: outcome.list.listDate },
            'sanctions list fetched',
          );
        },
        (error: unknown) => {
          o.metrics.sanctionsFetch('failed');
          o.log.error({ err: errorText(error) }, 'sanctions list fetch failed; the kept list stays');
        },
      )
      .finally(() => {
        running = undefined;
      });
  };
  return {
    start: () => {
      if (!url || timer) return;
      refresh();
      timer = setInterval(refresh, refreshHours * 3_600_000);
      timer.unref();
    },
    stop: () => {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
