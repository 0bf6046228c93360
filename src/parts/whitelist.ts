/**
 * The whitelist part: keeps the published Bloom filter (GET /whitelist.bloom) current. Built at
 * start-up, again shortly after a request closes as judged (debounced, so a burst of judgements is
 * one rebuild) and every ten minutes (judgements by hand, another instance's, a later OutOfDate).
 * Only the filter is served; the list of accounts is never published.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { buildWhitelist } from '../chain/whitelist.js';
import type { Config } from '../config.js';
import type { JudgementRequest } from '../domain/request.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';

export interface PublishedWhitelist {
  bytes: Uint8Array;
  /** A strong validator of the bytes, for conditional GETs. */
  etag: string;
}

const DEBOUNCE_MS = 2_000;
const PERIOD_MS = 10 * 60_000;

export function whitelistPublisher(o: {
  config: Config;
  store: Store;
  /** Emits 'changed' with every request written. */
  requestChanges: EventEmitter;
  log: Logger;
}): { current: () => PublishedWhitelist | undefined; stop: () => void } {
  let current: PublishedWhitelist | undefined;
  let pending: NodeJS.Timeout | undefined;
  let building = false;
  const rebuild = async () => {
    if (building) return schedule();
    building = true;
    try {
      const filter = buildWhitelist(
        await o.store.listJudgements(),
        o.config.registrar.index,
        o.config.whitelistFpRate,
      );
      const bytes = filter.encode();
      current = { bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
      o.log.debug({ accounts: filter.n, bits: filter.m, k: filter.k }, 'whitelist rebuilt');
    } catch (error) {
      o.log.warn({ err: error }, 'whitelist could not be rebuilt; the last one is served');
    } finally {
      building = false;
    }
  };
  const schedule = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      void rebuild();
    }, DEBOUNCE_MS);
    pending.unref();
  };
  const onChange = (request: JudgementRequest) => {
    if (request.status === 'judged') schedule();
  };
  o.requestChanges.on('changed', onChange);
  const timer = setInterval(() => void rebuild(), PERIOD_MS);
  timer.unref();
  void rebuild();
  return {
    current: () => current,
    stop: () => {
      o.requestChanges.off('changed', onChange);
      clearInterval(timer);
      if (pending) clearTimeout(pending);
    },
  };
}
