/**
 * A growing wait for something anyone can try again and again: wrong codes typed on the public code
 * form (per account, field and client address), or "Check now" on a published proof (per account
 * and field, since each check spends the operator's quota at the service). A few tries are free,
 * then each waits twice as long as the last, up to a ceiling. Nothing is voided or refused for good:
 * a stranger cannot lock a person out. Kept in memory, bounded; a restart forgets it.
 */
import { isIPv6 } from 'node:net';

export interface ThrottleRules {
  /** Tries without any wait. */
  freeTries: number;
  firstWaitMs: number;
  longestWaitMs: number;
}

/** Wrong codes at /code: a person who mistypes waits seconds, a guesser hours. */
export const WRONG_CODES: ThrottleRules = { freeTries: 3, firstWaitMs: 2_000, longestWaitMs: 60 * 60_000 };

/** A key with no try for this long starts afresh. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;
/** At most this many keys are kept; the oldest go first. */
const MOST_KEYS = 100_000;

interface Tries {
  count: number;
  last: number;
  nextAt: number;
}

export class Throttle {
  /** In insertion order, oldest first (Map keeps it; a key tried again moves to the end). */
  private readonly tries = new Map<string, Tries>();

  constructor(
    private readonly now: () => number,
    private readonly rules: ThrottleRules,
  ) {}

  /** When `key` may try again: undefined when it may now. */
  waitUntil(key: string): number | undefined {
    const entry = this.tries.get(key);
    if (!entry || this.now() - entry.last > FORGET_AFTER_MS) return undefined;
    return entry.nextAt > this.now() ? entry.nextAt : undefined;
  }

  /** Counts a try; returns when the next is allowed, or undefined when at once. */
  count(key: string): number | undefined {
    const now = this.now();
    const before = this.tries.get(key);
    const count = before && now - before.last <= FORGET_AFTER_MS ? before.count + 1 : 1;
    const { freeTries, firstWaitMs, longestWaitMs } = this.rules;
    const wait = count < freeTries ? 0 : Math.min(longestWaitMs, firstWaitMs * 2 ** (count - freeTries));
    this.tries.delete(key);
    this.tries.set(key, { count, last: now, nextAt: now + wait });
    if (this.tries.size > MOST_KEYS) {
      const oldest = this.tries.keys().next().value;
      if (oldest !== undefined) this.tries.delete(oldest);
    }
    return wait > 0 ? now + wait : undefined;
  }

  /** The count for `key` ends (a right code). */
  forget(key: string): void {
    this.tries.delete(key);
  }
}

/** One key from its parts (none holds a newline). */
export const throttleKey = (...parts: string[]) => parts.join('\n');

/**
 * The client a try is counted for: an IPv4 address, or the /64 network of an IPv6 address. One
 * subscriber gets a whole /64 (2^64 addresses to send from), so counting each address apart would
 * give a stranger a fresh count with every try. An IPv4 address written as IPv6 counts as itself.
 */
export function clientOf(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  const bare = address.replace(/%.*$/, '');
  if (!isIPv6(bare)) return address;
  const [head = '', tail = ''] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = !bare.includes('::') || tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail fills two groups.
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = bare.includes('::')
    ? [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
