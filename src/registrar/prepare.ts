/** Proving before paying: starts a prepared request for an account from the start page, within limits that strangers cannot stretch. */
import { notPreparable } from '../domain/prepared.js';
import type { Store } from '../store/store.js';
import type { ChainReader, RequestLifecycle } from './lifecycle.js';
import { clientOf } from './throttle.js';

const DAY_MS = 86_400_000;
/** At most this many clients are remembered; the oldest go first (as the code throttle). */
const MOST_CLIENTS = 100_000;

/** How many prepared requests may be started a day (0 per account: preparing is off). */
export interface PrepareLimits {
  perAccountPerDay: number;
  perClientPerDay: number;
}

export type PrepareOutcome =
  /** prepared: made now; exists: one is open or prepared already; requested: pending on chain, opened as the request. */
  | { ok: true; kind: 'prepared' | 'exists' | 'requested' }
  | { ok: false; code: 403 | 404 | 409 | 429; message: string; retryAt?: number };

export interface PreparingOptions {
  store: Store;
  chain: Pick<ChainReader, 'identity'>;
  lifecycle: Pick<RequestLifecycle, 'prepare'>;
  registrarIndex: number;
  limits: PrepareLimits;
  now: () => number;
}

/**
 * A prepared request costs the person nothing and anyone can start one, so it is limited harder
 * than a paid one: per client address (its IPv6 /64) and per account, a day each. Messages go only
 * to what the identity itself names on chain, within the same message limits as any request.
 */
export class Preparing {
  /** When each client started its recent tries, in memory only (client addresses are never stored). */
  private readonly byClient = new Map<string, number[]>();

  constructor(private readonly o: PreparingOptions) {}

  async prepare(account: string, client: string): Promise<PrepareOutcome> {
    const { store, registrarIndex, limits } = this.o;
    if (limits.perAccountPerDay === 0) {
      return { ok: false, code: 403, message: 'this registrar does not prove fields before a request' };
    }
    const existing = await store.findOpenRequest(account, registrarIndex);
    if (existing) return { ok: true, kind: 'exists' };
    const now = this.o.now();
    // Every try that reaches the chain counts for its client, refused or not.
    const key = clientOf(client);
    const tries = this.recent(this.byClient.get(key) ?? [], now);
    if (tries.length >= limits.perClientPerDay) return tooMany(tries, 'from your address');
    this.remember(key, [...tries, now]);
    const checkpoint = `prepared:${registrarIndex}:${account}`;
    const started = this.recent(JSON.parse((await store.getCheckpoint(checkpoint)) ?? '[]') as number[], now);
    if (started.length >= limits.perAccountPerDay) return tooMany(started, 'for this account');
    const identity = await this.o.chain.identity(account);
    if (!identity) {
      return { ok: false, code: 404, message: 'this account has no identity on chain: set one first' };
    }
    if (notPreparable(identity.judgements, registrarIndex) === 'judged') {
      return {
        ok: false,
        code: 409,
        message: 'this registrar has judged this identity already; edit it to be verified again',
      };
    }
    const kind = await this.o.lifecycle.prepare(account, identity);
    if (kind === 'prepared') {
      const all = [...started, now];
      await store.setCheckpoint(checkpoint, JSON.stringify(all), now + DAY_MS);
    }
    return { ok: true, kind };
  }

  /** The times within the last day. */
  private recent(times: readonly number[], now: number): number[] {
    return times.filter((at) => at > now - DAY_MS);
  }

  private remember(key: string, times: number[]): void {
    this.byClient.delete(key);
    this.byClient.set(key, times);
    if (this.byClient.size > MOST_CLIENTS) {
      const oldest = this.byClient.keys().next().value;
      if (oldest !== undefined) this.byClient.delete(oldest);
    }
  }
}

function tooMany(times: readonly number[], whose: string): PrepareOutcome {
  const retryAt = Math.min(...times) + DAY_MS;
  return {
    ok: false,
    code: 429,
    message: `too many fields proven before a request ${whose} today; try again after ${new Date(retryAt).toUTCString()}, or request a judgement on chain`,
    retryAt,
  };
}
