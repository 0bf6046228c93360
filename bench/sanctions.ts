/**
 * Sanctions screening on real names (bench/data/real-names.tsv): how many of 1,993 real names hit
 * the test lists (test/fixtures/sanctions, the OFAC and EU formats), how many hit a list made of
 * the other owners' names (a hard test: every name is a real, different name, so every hit there
 * is a false one), how many of the test lists' own names, rewritten, are still found, and how long
 * a screening takes. Run: node dist-bench/bench/sanctions.js (after npm run build and
 * tsc -p tsconfig.bench.json). BENCH_SHOW_HITS=N lists the first N false hits.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Skeletons } from '../src/domain/look-alikes.js';
import { MATCH_THRESHOLD, NameMatcher } from '../src/domain/name-match.js';
import type { SanctionsEntry } from '../src/domain/sanctions.js';
import { parseSanctionsList } from '../src/domain/sanctions-file.js';
import { loadConfusables } from '../src/support/confusables.js';

const skeletons = new Skeletons(loadConfusables());
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const rows = read('bench/data/real-names.tsv')
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t'))
  .filter((cells): cells is [string, string, string] => cells.length >= 3 && (cells[0] ?? '') !== '');
const owners = new Map<string, string>();
for (const [name, owner] of rows) if (!owners.has(name)) owners.set(name, owner);
const names = [...owners.keys()];

const fixtures: SanctionsEntry[] = ['sdn.xml', 'eu.xml'].flatMap(
  (file) => parseSanctionsList(read(`test/fixtures/sanctions/${file}`)).entries,
);
const show = Number(process.env.BENCH_SHOW_HITS ?? 0);
const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(2)} %`;

// 1. Real names against the test lists.
const fixtureMatcher = new NameMatcher(skeletons, fixtures);
const fixtureHits = names.filter((name) => fixtureMatcher.matches(name).length > 0);

// 2. Real names against a list of every other owner's names.
const others: SanctionsEntry[] = names.map((name, i) => ({ uid: String(i), kind: 'test', names: [name] }));
const crossMatcher = new NameMatcher(skeletons, others);
let crossHits = 0;
const shown: string[] = [];
const started = performance.now();
names.forEach((name, i) => {
  const owner = owners.get(name);
  const wrong = crossMatcher
    .matches(name)
    .filter((match) => Number(match.uid) !== i && owners.get(names[Number(match.uid)] as string) !== owner);
  if (wrong.length > 0) {
    crossHits += 1;
    if (shown.length < show) shown.push(`  "${name}" ~ "${wrong[0]?.name}" (${wrong[0]?.score.toFixed(2)})`);
  }
});
const perScreening = (performance.now() - started) / names.length;

// 3. The test lists' names rewritten as people write them: word order turned, first names as
// initials, upper case. Each must still find its entry.
const rewrites = fixtures.flatMap((entry) =>
  entry.names.flatMap((name) => {
    const words = name.split(/\s+/);
    const initials = words.map((word, i) => (i < words.length - 1 ? `${word[0]}.` : word)).join(' ');
    return [
      { uid: entry.uid, name: [...words].reverse().join(' ') },
      { uid: entry.uid, name: name.toUpperCase() },
      ...(words.length > 1 ? [{ uid: entry.uid, name: initials }] : []),
    ];
  }),
);
const found = rewrites.filter(({ uid, name }) => fixtureMatcher.matches(name).some((m) => m.uid === uid));

console.log(`Sanctions screening, threshold ${MATCH_THRESHOLD}, ${names.length} real names`);
console.log('| measure | result |');
console.log('|---|---|');
console.log(
  `| real names hitting the test lists (${fixtures.length} entries, ${fixtureMatcher.size} names) | ${fixtureHits.length} (${percent(fixtureHits.length, names.length)}) |`,
);
console.log(
  `| real names hitting another owner's name (list of ${names.length}) | ${crossHits} (${percent(crossHits, names.length)}) |`,
);
console.log(
  `| test-list names rewritten (order, initials, case) still found | ${found.length} of ${rewrites.length} (${percent(found.length, rewrites.length)}) |`,
);
console.log(`| time per screening against ${names.length} names | ${perScreening.toFixed(3)} ms |`);
if (fixtureHits.length > 0) console.log(`test-list hits: ${fixtureHits.slice(0, 10).join('; ')}`);
if (shown.length > 0) console.log(`false hits among real names:\n${shown.join('\n')}`);
