/**
 * The display-name guard at People-chain scale: a corpus of judged names (BENCH_CORPUS, default
 * 50,000) and the time of one check against all of it (p50, p99), with the memory the corpus holds.
 * Run: npm run bench. Prints one table; not part of the test run.
 */

import { LookAlikeIndex, Skeletons } from '../src/domain/look-alikes.js';
import { loadConfusables } from '../src/support/confusables.js';

const CORPUS = Number(process.env.BENCH_CORPUS ?? 50_000);
const CHECKS = Number(process.env.BENCH_CHECKS ?? 2_000);

// Names shaped like real display names: one to three words of 3 to 10 letters, some digits.
// mulberry32: a small seeded generator, so every run measures the same corpus.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const letters = 'abcdefghijklmnopqrstuvwxyz';
const word = () => {
  const length = 3 + Math.floor(random() * 8);
  const text = Array.from({ length }, () => letters[Math.floor(random() * letters.length)]).join('');
  return text[0]?.toUpperCase() + text.slice(1);
};
const name = () => {
  const words = Array.from({ length: 1 + Math.floor(random() * 3) }, word).join(' ');
  return random() < 0.2 ? `${words} ${Math.floor(random() * 100)}` : words;
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const skeletons = new Skeletons(loadConfusables());
const index = new LookAlikeIndex(skeletons);
const loadStart = process.hrtime.bigint();
for (let i = 0; i < CORPUS; i++) index.set(`account-${i}`, name());
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
global.gc?.();
const heapAfter = process.memoryUsage().heapUsed;

const times: number[] = [];
let conflicts = 0;
for (let i = 0; i < CHECKS; i++) {
  const query = name();
  const start = process.hrtime.bigint();
  conflicts += index.conflicts(query).length > 0 ? 1 : 0;
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);

console.log(`Display-name guard, Node ${process.version}`);
console.table([
  {
    'corpus size': CORPUS,
    checks: CHECKS,
    'load ms': loadMs.toFixed(0),
    'p50 ms': percentile(times, 50).toFixed(2),
    'p99 ms': percentile(times, 99).toFixed(2),
    'max ms': (times[times.length - 1] ?? 0).toFixed(2),
    'corpus MiB': ((heapAfter - heapBefore) / 1024 / 1024).toFixed(1),
    'checks with a conflict': conflicts,
  },
]);
