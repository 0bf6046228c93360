/**
 * The display-name guard: a new display name must not pass for the name of another judged identity.
 * Two names conflict when their confusable skeletons are equal (UTS #39, after NFKC and lower
 * case), or when the skeletons' Jaro-Winkler similarity reaches the threshold. Pure: the
 * confusables table is handed in, and the corpus is kept by whoever reads the chain.
 *
 * The index keeps per name only its skeleton (as code points) and a 32-bucket character histogram,
 * so that memory grows with the names, not with the registrations, and most of the corpus is ruled
 * out by a cheap upper bound before any similarity is computed.
 */
import type { LookAlike } from './verification.js';

/** Confusable → prototype, from Unicode's confusables.txt (UTS #39). */
export type ConfusablesTable = Readonly<Record<string, string>>;

export class Skeletons {
  constructor(private readonly table: ConfusablesTable) {}

  /**
   * UTS #39 skeleton (NFD, prototypes, NFD) of the NFKC name, lower-cased and mapped once more:
   * prototypes are mostly capitals for capitals (Cyrillic М → M), so mapping before and after lower
   * case makes "Маtrix", "Ｍatrix" and "matrix" one skeleton.
   */
  of(name: string): string {
    const once = this.map(name.normalize('NFKC')).toLowerCase();
    return this.map(once);
  }

  private map(text: string): string {
    let mapped = '';
    for (const char of text.normalize('NFD')) mapped += this.table[char] ?? char;
    return mapped.normalize('NFD');
  }
}

const BUCKETS = 32;
const WINKLER_PREFIX = 4;
const WINKLER_SCALE = 0.1;

/** Jaro-Winkler similarity of two code-point arrays, 0 to 1. */
export function jaroWinkler(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const la = a.length;
  const lb = b.length;
  if (la === 0 && lb === 0) return 1;
  if (la === 0 || lb === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const matchedB = new Uint8Array(lb);
  const matchedA = new Uint8Array(la);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lb - 1, i + window);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] === 0 && a[i] === b[j]) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (matchedA[i] === 0) continue;
    while (matchedB[k] === 0) k++;
    if (a[i] !== b[k]) transpositions++;
    k++;
  }
  const jaro = (matches / la + matches / lb + (matches - transpositions / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < WINKLER_PREFIX && prefix < la && prefix < lb && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * WINKLER_SCALE * (1 - jaro);
}

interface Entry {
  account: string;
  display: string;
  skeleton: string;
  points: Uint32Array;
}

function codePoints(text: string): Uint32Array {
  return Uint32Array.from(text, (char) => char.codePointAt(0) ?? 0);
}

function maskOf(histogram: Uint8Array, offset: number): number {
  let mask = 0;
  for (let b = 0; b < BUCKETS; b++) if (histogram[offset + b] !== 0) mask |= 1 << b;
  return mask >>> 0;
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function histogram(points: Uint32Array, into: Uint8Array, offset = 0): void {
  for (const point of points) {
    const bucket = offset + (point % BUCKETS);
    into[bucket] = Math.min(255, (into[bucket] ?? 0) + 1);
  }
}

/** The judged display names of the chain, searchable for look-alikes. */
export class LookAlikeIndex {
  private readonly entries: (Entry | undefined)[] = [];
  /** BUCKETS counts per entry slot, in one buffer. */
  private histograms = new Uint8Array(1024 * BUCKETS);
  /** Skeleton length per slot; 0 for a free slot. */
  private lengths = new Uint16Array(1024);
  /** Per slot, which histogram buckets are non-empty: a one-word first bound on the overlap. */
  private masks = new Uint32Array(1024);
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];

  constructor(
    private readonly skeletons: Skeletons,
    private readonly threshold = 0.9,
  ) {}

  get size(): number {
    return this.slotOf.size;
  }

  /** The accounts whose names are recorded. */
  accounts(): string[] {
    return [...this.slotOf.keys()];
  }

  /** Records (or replaces) the judged display name of `account`. */
  set(account: string, display: string): void {
    this.delete(account);
    const skeleton = this.skeletons.of(display);
    const points = codePoints(skeleton);
    const slot = this.free.pop() ?? this.entries.length;
    this.entries[slot] = { account, display, skeleton, points };
    if (slot >= this.lengths.length) {
      const histograms = new Uint8Array(this.histograms.length * 2);
      histograms.set(this.histograms);
      this.histograms = histograms;
      const lengths = new Uint16Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
      const masks = new Uint32Array(this.masks.length * 2);
      masks.set(this.masks);
      this.masks = masks;
    }
    this.lengths[slot] = Math.min(points.length, 65_535);
    this.histograms.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
    histogram(points, this.histograms, slot * BUCKETS);
    this.masks[slot] = maskOf(this.histograms, slot * BUCKETS);
    this.slotOf.set(account, slot);
  }

  delete(account: string): void {
    const slot = this.slotOf.get(account);
    if (slot === undefined) return;
    this.entries[slot] = undefined;
    this.lengths[slot] = 0;
    this.slotOf.delete(account);
    this.free.push(slot);
  }

  /** The judged names `name` could pass for, leaving out the accounts in `except`. */
  conflicts(name: string, except: ReadonlySet<string> = new Set()): LookAlike[] {
    const skeleton = this.skeletons.of(name);
    const points = codePoints(skeleton);
    const query = new Uint8Array(BUCKETS);
    histogram(points, query);
    const buckets = Uint8Array.from([...query.keys()].filter((b) => query[b] !== 0));
    const counts = Uint8Array.from(buckets, (b) => query[b] as number);
    const lq = points.length;
    if (lq === 0) return [];
    // Jaro-Winkler ≥ t needs Jaro ≥ (t - 0.4) / 0.6, and Jaro ≤ (m/lq + m/le + 1) / 3, where m, the
    // matching characters, is at most the histogram overlap: what cannot reach it is skipped
    // before the entry itself is even looked at.
    const minJaro = (this.threshold - WINKLER_PREFIX * WINKLER_SCALE) / (1 - WINKLER_PREFIX * WINKLER_SCALE);
    const factor = 3 * minJaro - 1;
    const { histograms, lengths, masks } = this;
    const queryMask = maskOf(query, 0);
    const found: LookAlike[] = [];
    const slots = this.entries.length;
    for (let slot = 0; slot < slots; slot++) {
      const le = lengths[slot] as number;
      if (le === 0) continue;
      const needed = (factor * lq * le) / (lq + le);
      if (needed > (lq < le ? lq : le)) continue;
      // Each bucket only one side has holds at least one character the other cannot match.
      const mask = masks[slot] as number;
      const queryOnly = popcount(queryMask & ~mask);
      const entryOnly = popcount(mask & ~queryMask);
      if (lq - queryOnly < needed || le - entryOnly < needed) continue;
      let overlap = 0;
      const base = slot * BUCKETS;
      for (let k = 0; k < buckets.length; k++) {
        const q = counts[k] as number;
        const e = histograms[base + (buckets[k] as number)] as number;
        overlap += q < e ? q : e;
      }
      if (overlap < needed) continue;
      const entry = this.entries[slot];
      if (!entry || except.has(entry.account)) continue;
      if (entry.skeleton === skeleton || jaroWinkler(points, entry.points) >= this.threshold) {
        found.push({ account: entry.account, display: entry.display });
      }
    }
    return found;
  }

  /** Whether `account` is in the corpus (for tests and metrics). */
  has(account: string): boolean {
    return this.slotOf.has(account);
  }
}
