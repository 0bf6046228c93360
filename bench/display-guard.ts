/**
 * The display-name guard on real names (bench/data/real-names.tsv, its sources in
 * bench/data/README.md): how many real names it refuses as look-alikes of another owner's name (false
 * refusals), and how many impersonations of each kind, generated from every name, it catches. A name
 * counts as caught when the registrar would not confirm it: the display-name rules refuse it, or
 * the guard finds it looks like the original. Printed beside the figures of the guard before this
 * one (bench/baseline.json, measured by running this file with BENCH_GUARD=<its build of
 * domain/look-alikes.js> BENCH_SAVE=<file>). Run: npm run bench. Not part of the test run.
 * BENCH_SHOW_REFUSALS=N lists the first N false refusals; BENCH_SHOW_MISSES=<class> the misses.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { checkDisplayName } from '../src/domain/display-name.js';
import type { ConfusablesTable } from '../src/domain/look-alikes.js';
import { loadConfusables } from '../src/support/confusables.js';

interface Guard {
  set(account: string, display: string): void;
  conflicts(name: string, except?: ReadonlySet<string>): { account: string }[];
}
type GuardModule = {
  LookAlikeIndex: new (skeletons: unknown, threshold?: number) => Guard;
  Skeletons: new (table: ConfusablesTable) => unknown;
};

const guardModule = (await import(
  process.env.BENCH_GUARD ?? new URL('../src/domain/look-alikes.js', import.meta.url).href
)) as GuardModule;
const table = loadConfusables();

const rows = readFileSync(new URL('../../bench/data/real-names.tsv', import.meta.url), 'utf8')
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t'))
  .filter((cells): cells is [string, string, string] => cells.length >= 3 && (cells[0] ?? '') !== '');
// Owners found on review to be one organisation under two sources or handles (same-owner.tsv, each
// with its reason): their names do not count against each other.
const sameOwner = new Map(
  readFileSync(new URL('../../bench/data/same-owner.tsv', import.meta.url), 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'))
    .filter((cells) => cells.length >= 2)
    .map(([owner, same]) => [owner ?? '', same ?? ''] as const),
);
const ownerOf = (owner: string): string => {
  const same = sameOwner.get(owner);
  return same === undefined ? owner : ownerOf(same);
};
// One row per distinct name; a name two owners published stays with the first.
const names = new Map<string, string>();
for (const [name, owner] of rows) if (!names.has(name)) names.set(name, ownerOf(owner));
const corpus = [...names].map(([name, owner], i) => ({ account: `n${i}`, name, owner }));
const accountsOf = new Map<string, Set<string>>();
for (const { account, owner } of corpus) {
  const set = accountsOf.get(owner) ?? new Set<string>();
  set.add(account);
  accountsOf.set(owner, set);
}

const guard = new guardModule.LookAlikeIndex(new guardModule.Skeletons(table), 0.9);
for (const { account, name } of corpus) guard.set(account, name);

// A confusable of each Latin letter, from the same table: a non-ASCII character that maps to it.
const confusableOf = new Map<string, string>();
for (const [char, prototype] of Object.entries(table)) {
  if (/^[a-zA-Z]$/.test(prototype) && !/^[\x20-\x7e]$/.test(char) && !confusableOf.has(prototype)) {
    confusableOf.set(prototype, char);
  }
}

/** Where to change a name: the middle letter of its longest word, so the change is not at an edge. */
function middleLetter(name: string): number | undefined {
  const letters = [...name.matchAll(/\p{L}/gu)].map((m) => m.index ?? 0);
  return letters.length < 2 ? undefined : letters[Math.floor(letters.length / 2)];
}

type Make = (name: string, i: number) => string | undefined;
const at = (name: string, i: number, replacement: string, length = 1) =>
  name.slice(0, i) + replacement + name.slice(i + length);
const GENERIC_BEFORE = ['Official', 'The', 'Real', 'Team'];
const GENERIC_AFTER = ['Support', 'Foundation', 'Wallet', 'Labs', 'Team', 'Official'];
const INVISIBLE = ['\ufe0f', '\u180b', '\u{e0100}', '\u0301', '\u200b'];
const SEPARATORS = [' ', '.', '-', '_'];

const CLASSES: [string, Make][] = [
  [
    'confusable letter',
    (name) => {
      for (const [i, char] of [...name].entries()) {
        const twin = confusableOf.get(char);
        if (twin) return [...name].map((c, j) => (j === i ? twin : c)).join('');
      }
      return undefined;
    },
  ],
  ['case change', (name) => (name.toUpperCase() !== name ? name.toUpperCase() : name.toLowerCase())],
  [
    'digit/letter swap',
    (name) => {
      const i = name.search(/[lIoO01]/);
      if (i < 0) return undefined;
      const swap: Record<string, string> = { l: '1', I: 'l', o: '0', O: '0', '0': 'O', '1': 'l' };
      return at(name, i, swap[name[i] ?? ''] ?? '');
    },
  ],
  ['rn for m', (name) => (name.includes('m') ? name.replace('m', 'rn') : undefined)],
  [
    'doubled letter',
    (name) => {
      const i = middleLetter(name);
      return i === undefined ? undefined : at(name, i, `${name[i]}${name[i]}`);
    },
  ],
  [
    'dropped letter',
    (name) => {
      const i = middleLetter(name);
      return i === undefined ? undefined : at(name, i, '');
    },
  ],
  [
    'swapped letters',
    (name) => {
      const i = middleLetter(name);
      if (i === undefined || !/\p{L}/u.test(name[i + 1] ?? '') || name[i] === name[i + 1]) return undefined;
      return at(name, i, `${name[i + 1]}${name[i]}`, 2);
    },
  ],
  [
    'inserted separator',
    (name, n) => {
      const i = middleLetter(name);
      return i === undefined ? undefined : at(name, i, `${SEPARATORS[n % SEPARATORS.length]}${name[i]}`);
    },
  ],
  ['generic word before', (name, n) => `${GENERIC_BEFORE[n % GENERIC_BEFORE.length]} ${name}`],
  ['generic word after', (name, n) => `${name} ${GENERIC_AFTER[n % GENERIC_AFTER.length]}`],
  [
    'invisible or combining',
    (name, n) => {
      const i = middleLetter(name);
      return i === undefined ? undefined : at(name, i + 1, INVISIBLE[n % INVISIBLE.length] ?? '', 0);
    },
  ],
];

/** Whether the registrar would refuse `name` for an account that is not the original's owner. */
const refused = (name: string, except: ReadonlySet<string>) =>
  !checkDisplayName(name).ok || guard.conflicts(name, except).length > 0;

const falseRefusals = corpus.filter(
  ({ name, owner }) => guard.conflicts(name, accountsOf.get(owner)).length > 0,
);
const results: Record<string, string | number>[] = [];
const baseline = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../bench/baseline.json', import.meta.url), 'utf8')) as Record<
      string,
      { shown: string }
    >;
  } catch {
    return {};
  }
})();
const row = (figure: string, now: string, target: string) =>
  results.push({
    figure,
    target,
    now,
    before: baseline[`display guard: ${figure}`]?.shown ?? 'not measured',
  });

const percent = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(1)} %`;
row(
  'false refusals',
  `${percent(falseRefusals.length, corpus.length)} (${falseRefusals.length} of ${corpus.length})`,
  '≤ 1 %',
);
/** Letters and digits a name shows: a typo in a short name may well be another name. */
const lettersOf = (name: string) => [...name.normalize('NFKC')].filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
const TYPOS = new Set(['doubled letter', 'dropped letter', 'swapped letters']);
const classes: [string, Make, (name: string) => boolean][] = CLASSES.flatMap(([kind, make]) => [
  [kind, make, () => true] as [string, Make, (name: string) => boolean],
  ...(TYPOS.has(kind)
    ? [
        [`${kind}, names of 6+ letters`, make, (name: string) => lettersOf(name) >= 6] as [
          string,
          Make,
          (name: string) => boolean,
        ],
      ]
    : []),
]);
for (const [kind, make, applies] of classes) {
  let made = 0;
  let caught = 0;
  corpus.forEach(({ name, account }, n) => {
    const fake = make(name, n);
    if (fake === undefined || fake === name || !applies(name)) return;
    made += 1;
    // The impersonator is a stranger: only the original's own account is left out.
    if (refused(fake, new Set([`stranger-${account}`]))) caught += 1;
    else if (process.env.BENCH_SHOW_MISSES === kind)
      console.log(`missed ${kind}: ${JSON.stringify(name)} -> ${JSON.stringify(fake)}`);
  });
  row(kind, `${percent(caught, made)} caught (${caught} of ${made})`, '≥ 99 %');
}

console.log(
  `Display-name guard on ${corpus.length} real names of ${accountsOf.size} owners, Node ${process.version}`,
);
console.table(results);
// BENCH_SAVE=file.json: the figures as bench/baseline.json keeps them (how "before" was taken).
if (process.env.BENCH_SAVE) {
  const saved = Object.fromEntries(
    results.map((r) => [
      `display guard: ${r.figure}`,
      { value: Number.parseFloat(String(r.now)), shown: r.now },
    ]),
  );
  writeFileSync(process.env.BENCH_SAVE, `${JSON.stringify(saved, null, 2)}\n`);
}
if (process.env.BENCH_SHOW_REFUSALS) {
  for (const { name, owner } of falseRefusals.slice(0, Number(process.env.BENCH_SHOW_REFUSALS))) {
    const others = guard
      .conflicts(name, accountsOf.get(owner))
      .map((c) => corpus.find((e) => e.account === c.account))
      .map((e) => `${e?.name} [${e?.owner}]`);
    console.log(`${JSON.stringify(name)} [${owner}] ~ ${others.join(', ')}`);
  }
}
