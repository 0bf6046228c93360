/**
 * The anonymous whitelist's Bloom filter: for each target rate, a filter of BENCH_WHITELIST_N
 * accounts (10,000) is built and enough other accounts are looked up in it to expect about 100 false
 * positives (at most 2 * 10^7 look-ups); prints size, build time and the measured rate beside the
 * target. Accounts are random 32-byte IDs.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { BloomFilter, SALT_BYTES } from '../src/domain/bloom.js';

const n = Number(process.env.BENCH_WHITELIST_N ?? 10_000);
const rates = (process.env.BENCH_WHITELIST_RATES ?? '1e-3,1e-4,1e-5,1e-6').split(',').map(Number);
const MAX_QUERIES = 20_000_000;

console.log(
  `| target rate | accounts | bits | k | bytes | build ms | look-ups | false positives | measured rate | rate from m, k, n |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const rate of rates) {
  const started = performance.now();
  const filter = BloomFilter.sized(n, rate, randomBytes(SALT_BYTES));
  for (let i = 0; i < n; i++) filter.add(randomBytes(32));
  const buildMs = performance.now() - started;
  const queries = Math.min(MAX_QUERIES, Math.ceil(100 / rate));
  // One buffer of random IDs reused in slices: the look-ups, not the random source, are measured.
  const pool = randomBytes(32 * 65_536);
  let hits = 0;
  for (let q = 0; q < queries; q++) {
    const slot = q % 65_536;
    if (slot === 0 && q > 0) pool.set(randomBytes(pool.length));
    if (filter.has(pool.subarray(slot * 32, slot * 32 + 32))) hits += 1;
  }
  const bytes = filter.encode().length;
  console.log(
    `| ${rate.toExponential(0)} | ${n} | ${filter.m} | ${filter.k} | ${bytes} | ${buildMs.toFixed(0)} | ${queries} | ${hits} | ${(hits / queries).toExponential(2)} | ${filter.rate.toExponential(2)} |`,
  );
}
