/**
 * Sanctions screening's name matching. Names are made words (transliterated, confusables mapped,
 * marks and punctuation off: `nameTokens`), particles such as "al", "bin", "van" dropped, and
 * compared without regard to order: each word of the screened name is paired with at most one word
 * of the listed name, equal (1), one typo apart in a word of 5 or more letters (0.9; two in 10 or
 * more, 0.85), equal as consonants, starting alike (0.85: Muhammad, Mohammed, محمد), or an initial of it (0.8). The
 * score is the pairs' sum over the screened name's words plus a quarter for each listed word left
 * unpaired (lists give patronymics and middle names people leave out). A hit needs the score at the
 * threshold, at least two words paired (one for a one-word listed name), and one pair that is not
 * an initial. Measured on real names: bench/sanctions.ts.
 */
import type { Skeletons } from './look-alikes.js';
import type { SanctionsEntry } from './sanctions.js';
import { transliterate } from './transliteration.js';

/** The score from which two names are a hit (bench/sanctions.ts measures it). */
export const MATCH_THRESHOLD = 0.8;

/** Words that join names rather than name anyone. */
const PARTICLES: ReadonlySet<string> = new Set([
  'al',
  'el',
  'bin',
  'ben',
  'ibn',
  'bint',
  'de',
  'da',
  'das',
  'dos',
  'del',
  'della',
  'van',
  'von',
  'der',
  'den',
  'la',
  'le',
  'di',
  'du',
  'y',
  'und',
  'and',
  'of',
]);

/** The words of a name as screening compares them: ASCII letters and digits, lower case. */
export function nameTokens(skeletons: Skeletons, name: string): string[] {
  return skeletons
    .words(transliterate(name))
    .map((word) => word.normalize('NFD').replace(/[^a-z0-9]/g, ''))
    .filter((word) => word.length > 0 && !PARTICLES.has(word));
}

/** The word's consonants, doubled ones made one: vowels are what transliterations disagree on. */
function consonants(word: string): string {
  return word.replace(/[aeiouy]/g, '').replace(/(.)\1+/g, '$1');
}

/** Edits between two words (insert, delete, change, swap of neighbours), up to `most` + 1. */
function editsBetween(a: string, b: string, most: number): number {
  if (Math.abs(a.length - b.length) > most) return most + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (before[j - 2] as number) + 1);
      }
      row.push(value);
      best = Math.min(best, value);
    }
    if (best > most) return most + 1;
    before = previous;
    previous = row;
  }
  return previous[b.length] as number;
}

/** How alike two words are (see the file's comment); 0 when not at all. */
export function wordLikeness(a: string, b: string): number {
  if (a === b) return 1;
  if (a.length === 1 || b.length === 1) {
    return a.length !== b.length && (a.startsWith(b) || b.startsWith(a)) ? 0.8 : 0;
  }
  const shorter = Math.min(a.length, b.length);
  if (shorter >= 5) {
    const edits = editsBetween(a, b, shorter >= 10 ? 2 : 1);
    if (edits === 1) return 0.9;
    if (edits === 2 && shorter >= 10) return 0.85;
  }
  const ca = consonants(a);
  if (shorter < 3 || ca.length < 3 || ca !== consonants(b)) return 0;
  // Spellings of one name start alike (Muhammad, Mohammed; Usama, Osama) and are about as long,
  // unless one was written without vowels (Arabic: mhmd).
  const vowel = /^[aeiou]/;
  const startAlike = a[0] === b[0] || (vowel.test(a) && vowel.test(b));
  const written =
    shorter / Math.max(a.length, b.length) >= 0.75 || !/[aeiou]/.test(a.length < b.length ? a : b);
  return startAlike && written ? 0.85 : 0;
}

/** How alike a screened name is to a listed one, 0 to 1, or 0 when it cannot be a hit. */
export function nameScore(screened: readonly string[], listed: readonly string[]): number {
  if (screened.length === 0 || listed.length === 0) return 0;
  if (screened.join('') === listed.join('')) return 1;
  const pairs: { i: number; j: number; likeness: number; initial: boolean }[] = [];
  for (let i = 0; i < screened.length; i++) {
    for (let j = 0; j < listed.length; j++) {
      const a = screened[i] as string;
      const b = listed[j] as string;
      const likeness = wordLikeness(a, b);
      if (likeness > 0) pairs.push({ i, j, likeness, initial: a.length === 1 || b.length === 1 });
    }
  }
  // Best pairs first; whole words before initials at the same likeness.
  pairs.sort((x, y) => y.likeness - x.likeness || Number(x.initial) - Number(y.initial));
  const usedScreened = new Set<number>();
  const usedListed = new Set<number>();
  let sum = 0;
  let whole = 0;
  for (const pair of pairs) {
    if (usedScreened.has(pair.i) || usedListed.has(pair.j)) continue;
    usedScreened.add(pair.i);
    usedListed.add(pair.j);
    sum += pair.likeness;
    if (!pair.initial) whole += 1;
  }
  const paired = usedScreened.size;
  if (whole === 0 || paired < Math.min(2, listed.length)) return 0;
  return sum / (screened.length + 0.25 * (listed.length - paired));
}

/** A listed name a screened one matched. */
export interface NameMatch {
  uid: string;
  name: string;
  score: number;
}

interface ListedName {
  entry: number;
  name: string;
  tokens: string[];
}

/** The keys a word is found by: itself, its consonants, its first and last two letters (one typo keeps one of them). */
function keysOf(word: string): string[] {
  const keys = [`=${word}`];
  const skeleton = consonants(word);
  if (word.length >= 3 && skeleton.length >= 3) keys.push(`~${skeleton}`);
  if (word.length >= 5) keys.push(`<${word.slice(0, 2)}`, `>${word.slice(-2)}`);
  return keys;
}

/**
 * The names of a list, indexed by their words' keys, so that a screening scores only listed names
 * sharing a key with one of its words. Two typos at both ends of one word are not found.
 */
export class NameMatcher {
  private readonly names: ListedName[] = [];
  private readonly byKey = new Map<string, number[]>();

  constructor(
    private readonly skeletons: Skeletons,
    private readonly entries: readonly SanctionsEntry[],
    private readonly threshold = MATCH_THRESHOLD,
  ) {
    entries.forEach((entry, index) => {
      for (const name of entry.names) {
        const tokens = nameTokens(skeletons, name);
        if (tokens.length === 0) continue;
        const slot = this.names.push({ entry: index, name, tokens }) - 1;
        for (const key of new Set(tokens.flatMap(keysOf))) {
          const slots = this.byKey.get(key);
          if (slots) slots.push(slot);
          else this.byKey.set(key, [slot]);
        }
      }
    });
  }

  get size(): number {
    return this.names.length;
  }

  /** The entries `name` matches at or above the threshold, best first, one match per entry. */
  matches(name: string): NameMatch[] {
    const tokens = nameTokens(this.skeletons, name);
    const candidates = new Set<number>();
    for (const token of tokens) {
      if (token.length < 2) continue;
      for (const key of keysOf(token)) for (const slot of this.byKey.get(key) ?? []) candidates.add(slot);
    }
    const best = new Map<number, NameMatch>();
    for (const slot of candidates) {
      const listed = this.names[slot] as ListedName;
      const score = nameScore(tokens, listed.tokens);
      if (score < this.threshold) continue;
      const held = best.get(listed.entry);
      if (!held || held.score < score) {
        best.set(listed.entry, {
          uid: (this.entries[listed.entry] as SanctionsEntry).uid,
          name: listed.name,
          score,
        });
      }
    }
    return [...best.values()].sort((a, b) => b.score - a.score || a.uid.localeCompare(b.uid));
  }
}
