/**
 * The display-name guard: a new display name must not pass for the name of another judged identity.
 * Names are compared on a folded form (`Skeletons.fold`): NFKC, invisible characters and marks removed,
 * Unicode's confusables (UTS #39) mapped with case folded before and after, letters and digits that
 * look alike made one (l/1/I/i, O/0, rn/m, vv/w), separators, punctuation and symbols dropped. Two
 * names conflict when
 * - their folded forms are equal (confusable letters, case, spacing, dots, invisible characters);
 * - one is the other with generic words ("Official", "The", "Labs", "Support", numbers, ...) added
 *   before or after it: "The X" and "X Foundation 2" are "X" (each name's forms without such words
 *   at its ends are its variants; two names conflict when they share one);
 * - the new name is the judged one with one letter doubled, dropped, changed or added, or two
 *   neighbours swapped (Damerau distance 1). Below `MIN_TYPO_LENGTH` folded characters, where one
 *   letter more or other often makes another person's name, only a doubled, dropped or swapped
 *   letter counts: "Kate" after "Katie" is refused, "Katie" after "Kate" is not.
 * There is no reward for a shared prefix: "Stakely" and "Stakeland", "Acme Labs" and "Acme Lane"
 * are different names. Pure: the confusables table is handed in, and the corpus is kept by whoever
 * reads the chain.
 *
 * The index keeps per name its variants (looked up by hash), and for the typo rule the
 * folded code points with a 32-bucket histogram, so most of the corpus is ruled out by its length
 * and a cheap overlap bound before any distance is computed.
 */
import type { LookAlike } from './verification.js';

/** Confusable → prototype, from Unicode's confusables.txt (UTS #39). */
export type ConfusablesTable = Readonly<Record<string, string>>;

/** Words that add nothing to whom a name names: "The X", "X Official", "X Labs 2" are "X". */
export const GENERIC_WORDS: ReadonlySet<string> = new Set(
  [
    'the',
    'official',
    'real',
    'team',
    'support',
    'foundation',
    'wallet',
    'labs',
    'lab',
    'inc',
    'ltd',
    'llc',
    'gmbh',
    'ag',
    'co',
    'corp',
    'company',
    'org',
    'app',
    'dao',
    'hq',
    'verified',
    'admin',
    'help',
    'helpdesk',
    'service',
    'services',
    'community',
    'group',
    'global',
    'network',
    'protocol',
    'staking',
    'validator',
    'node',
    'nodes',
    'pool',
    'capital',
    'ventures',
    'finance',
    'io',
    'com',
    'net',
    'xyz',
    'by',
    'of',
    'and',
  ].map(foldLookAlikeLetters),
);

/** Below this many folded characters a changed or added letter (not doubling one) is another name. */
export const MIN_TYPO_LENGTH = 6;

/** Single letters and digits that look alike in most fonts, made one. */
function foldLookAlikeLetters(text: string): string {
  return text.replace(/[i1|!]/g, 'l').replace(/0/g, 'o');
}

/** Pairs of letters that read as one: "rn" as "m", "vv" as "w". */
function foldLetterPairs(text: string): string {
  return text.replace(/rn/g, 'm').replace(/vv/g, 'w');
}

export interface FoldedName {
  /** Every letter and digit, folded, in order: what the name looks like. */
  folded: string;
  /**
   * The same before letter pairs are folded ("rn" is still "rn"): what a typo is measured on, since
   * one letter swapped or dropped can make or break a pair.
   */
  letters: string;
  /**
   * The folded name, and the folded forms left when generic words and numbers are taken off its
   * ends: "The X Labs 2" gives "thexlabs2", "xlabs2", "xlabs", "x", ... A form left must hold a word
   * that is not generic, or two words, so that "Labs" alone is nobody's name.
   */
  variants: string[];
}

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

  /** The name as the guard compares it (see the file's comment). */
  fold(name: string): FoldedName {
    const words = this.words(name);
    const letters = foldLookAlikeLetters(words.join(''));
    // ASCII was left as typed by the mapping, so a number is still a number here.
    const generic = words.map((word) => /^\d+$/.test(word) || GENERIC_WORDS.has(foldLookAlikeLetters(word)));
    const variants = new Set([foldLetterPairs(letters)]);
    for (let from = 0; from < words.length && (from === 0 || generic[from - 1]); from++) {
      for (let to = words.length; to > from && (to === words.length || generic[to]); to--) {
        if (to - from >= 2 || !generic[from]) {
          variants.add(foldLetterPairs(foldLookAlikeLetters(words.slice(from, to).join(''))));
        }
      }
    }
    return { folded: foldLetterPairs(letters), letters, variants: [...variants] };
  }

  /**
   * The name's words, lower-cased, confusables mapped (ASCII kept as typed), marks, invisible
   * characters, punctuation and symbols taken off: what the guard folds further and what sanctions
   * screening compares (name-match.ts).
   */
  words(name: string): string[] {
    const visible = name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '');
    const mapped = this.map(this.map(visible, true).toLowerCase(), true).toLowerCase();
    return mapped
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .split(/[\p{P}\p{Z}\p{S}\p{C}]+/u)
      .filter((word) => word.length > 0);
  }

  /**
   * `keepAscii`: ASCII stays as typed. The table maps only four ASCII characters (m to "rn", 0 to O,
   * 1 and I to l), which the guard folds itself: so numbers are still seen as numbers, and an "m"
   * stays one letter for the typo rule.
   */
  private map(text: string, keepAscii = false): string {
    let mapped = '';
    for (const char of text.normalize('NFD')) {
      mapped += keepAscii && char < '\u0080' ? char : (this.table[char] ?? char);
    }
    return mapped.normalize('NFD');
  }
}

const BUCKETS = 32;
interface Entry {
  account: string;
  display: string;
  variants: string[];
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

function sameFrom(a: Uint32Array, i: number, b: Uint32Array, j: number): boolean {
  if (a.length - i !== b.length - j) return false;
  for (; i < a.length; i++, j++) if (a[i] !== b[j]) return false;
  return true;
}

/**
 * Whether a new folded `name` is the folded `judged` name with one typo: a letter doubled, dropped or
 * changed, or two neighbours swapped. `short`: a changed letter does not count, and an added letter
 * counts only when it doubles a neighbour. The rule is one-sided because the two are not alike:
 * a name that is a judged one with a letter left out copies it ("Kate" after "Katie"), while a
 * short name with a letter more is often another person's ("Katie" after "Kate", "Anna" after "Ann").
 */
export function oneTypoApart(name: Uint32Array, judged: Uint32Array, short: boolean): boolean {
  if (name.length === judged.length) {
    let i = 0;
    while (i < name.length && name[i] === judged[i]) i++;
    if (i === name.length) return false;
    if (
      i + 1 < name.length &&
      name[i] === judged[i + 1] &&
      name[i + 1] === judged[i] &&
      sameFrom(name, i + 2, judged, i + 2)
    )
      return true;
    return !short && sameFrom(name, i + 1, judged, i + 1);
  }
  const dropped = name.length < judged.length;
  const [s, l] = dropped ? [name, judged] : [judged, name];
  if (l.length - s.length !== 1) return false;
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  if (!sameFrom(s, i, l, i + 1)) return false;
  const extra = l[i] as number;
  return dropped || !short || extra === l[i - 1] || extra === l[i + 1];
}

/** The judged display names of the chain, searchable for look-alikes. */
export class LookAlikeIndex {
  private readonly entries: (Entry | undefined)[] = [];
  /** BUCKETS counts per entry slot, in one buffer. */
  private histograms = new Uint8Array(1024 * BUCKETS);
  /** Length of the folded letters per slot; 0 for a free slot. */
  private lengths = new Uint16Array(1024);
  /** Per slot, which histogram buckets are non-empty: a one-word first bound on the overlap. */
  private masks = new Uint32Array(1024);
  private readonly slotOf = new Map<string, number>();
  private readonly free: number[] = [];
  /**
   * Slots by each of their names' variants: the exact rules are one look-up per variant. Most
   * variants belong to one name, kept as the slot itself rather than a list.
   */
  private readonly byVariant = new Map<string, number | number[]>();

  constructor(private readonly skeletons: Skeletons) {}

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
    const { letters, variants } = this.skeletons.fold(display);
    const points = codePoints(letters);
    const slot = this.free.pop() ?? this.entries.length;
    this.entries[slot] = { account, display, variants, points };
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
    for (const variant of variants) if (variant) add(this.byVariant, variant, slot);
  }

  delete(account: string): void {
    const slot = this.slotOf.get(account);
    if (slot === undefined) return;
    const entry = this.entries[slot];
    for (const variant of entry?.variants ?? []) if (variant) remove(this.byVariant, variant, slot);
    this.entries[slot] = undefined;
    this.lengths[slot] = 0;
    this.slotOf.delete(account);
    this.free.push(slot);
  }

  /** The judged names `name` could pass for, leaving out the accounts in `except`. */
  conflicts(name: string, except: ReadonlySet<string> = new Set()): LookAlike[] {
    const { folded, letters, variants } = this.skeletons.fold(name);
    if (folded.length === 0) return [];
    const hits = new Set<number>(variants.flatMap((variant) => this.byVariant.get(variant) ?? []));
    const points = codePoints(letters);
    const query = new Uint8Array(BUCKETS);
    histogram(points, query);
    const buckets = Uint8Array.from([...query.keys()].filter((b) => query[b] !== 0));
    const counts = Uint8Array.from(buckets, (b) => query[b] as number);
    const queryMask = maskOf(query, 0);
    const lq = points.length;
    const { histograms, lengths, masks } = this;
    const slots = this.entries.length;
    for (let slot = 0; slot < slots; slot++) {
      const le = lengths[slot] as number;
      // One typo changes the length by at most one and leaves all but one letter in common.
      if (le === 0 || le > lq + 1 || le + 1 < lq) continue;
      const needed = (lq > le ? lq : le) - 1;
      const mask = masks[slot] as number;
      if (lq - popcount(queryMask & ~mask) < needed || le - popcount(mask & ~queryMask) < needed) continue;
      let overlap = 0;
      const base = slot * BUCKETS;
      for (let k = 0; k < buckets.length; k++) {
        const q = counts[k] as number;
        const e = histograms[base + (buckets[k] as number)] as number;
        overlap += q < e ? q : e;
      }
      if (overlap < needed) continue;
      const entry = this.entries[slot];
      if (!entry) continue;
      const short = (lq > le ? lq : le) < MIN_TYPO_LENGTH;
      if (oneTypoApart(points, entry.points, short)) hits.add(slot);
    }
    const found: LookAlike[] = [];
    for (const slot of [...hits].sort((a, b) => a - b)) {
      const entry = this.entries[slot];
      if (entry && !except.has(entry.account)) found.push({ account: entry.account, display: entry.display });
    }
    return found;
  }

  /** Whether `account` is in the corpus (for tests and metrics). */
  has(account: string): boolean {
    return this.slotOf.has(account);
  }
}

function add(map: Map<string, number | number[]>, key: string, slot: number): void {
  const slots = map.get(key);
  if (slots === undefined) map.set(key, slot);
  else if (typeof slots === 'number') map.set(key, [slots, slot]);
  else slots.push(slot);
}

function remove(map: Map<string, number | number[]>, key: string, slot: number): void {
  const slots = map.get(key);
  const left = typeof slots === 'number' || slots === undefined ? [] : slots.filter((s) => s !== slot);
  if (left.length === 0) map.delete(key);
  else map.set(key, left.length === 1 ? (left[0] as number) : left);
}
