/**
 * Wrong codes typed on the public code form: anyone can type there, so a wrong code never voids
 * anything (a stranger could lock a person out). Instead each (account, field, client address) gets a
 * growing wait after a few wrong tries: a person who mistypes waits seconds, a guesser hours, and
 * 40-bit codes stay far out of reach. Kept in memory, bounded; a restart forgets it.
 */

/** Wrong codes tried without any wait. */
const FREE_TRIES = 3;
const FIRST_WAIT_MS = 2_000;
const LONGEST_WAIT_MS = 60 * 60_000;
/** A key with no wrong code for this long starts afresh. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;
/** At most this many keys are kept; the oldest go first. */
const MOST_KEYS = 100_000;

interface Tries {
  wrong: number;
  last: number;
  nextAt: number;
}

export class CodeThrottle {
  /** In insertion order, oldest first (Map keeps it; a key tried again moves to the end). */
  private readonly tries = new Map<string, Tries>();

  constructor(private readonly now: () => number) {}

  /** When this client may try a code for this field again: undefined when it may now. */
  waitUntil(account: string, field: string, client: string): number | undefined {
    const entry = this.tries.get(keyOf(account, field, client));
    if (!entry || this.now() - entry.last > FORGET_AFTER_MS) return undefined;
    return entry.nextAt > this.now() ? entry.nextAt : undefined;
  }

  /** Counts a wrong code; returns when the next try is allowed, or undefined when at once. */
  wrong(account: string, field: string, client: string): number | undefined {
    const key = keyOf(account, field, client);
    const now = this.now();
    const before = this.tries.get(key);
    const wrong = before && now - before.last <= FORGET_AFTER_MS ? before.wrong + 1 : 1;
    const wait =
      wrong < FREE_TRIES ? 0 : Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (wrong - FREE_TRIES));
    this.tries.delete(key);
    this.tries.set(key, { wrong, last: now, nextAt: now + wait });
    if (this.tries.size > MOST_KEYS) {
      const oldest = this.tries.keys().next().value;
      if (oldest !== undefined) this.tries.delete(oldest);
    }
    return wait > 0 ? now + wait : undefined;
  }

  /** A right code: the count for this client ends. */
  passed(account: string, field: string, client: string): void {
    this.tries.delete(keyOf(account, field, client));
  }
}

const keyOf = (account: string, field: string, client: string) => `${account}\n${field}\n${client}`;
