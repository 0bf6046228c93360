/**
 * The whitelist's Bloom filter: every account added is found, the measured false-positive rate is
 * near the target it was sized for, and the published bytes read back to the same answers.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { BloomFilter, bloomSize, HEADER_BYTES } from '../../src/domain/bloom.js';

const id = (label: string) => createHash('sha256').update(label).digest();
const SALT = new Uint8Array(16).fill(7);

/** A filter of `n` accounts at target `p`, and the share of `queries` other accounts it lets in. */
function measure(n: number, p: number, queries: number): { filter: BloomFilter; rate: number } {
  const filter = BloomFilter.sized(n, p, SALT);
  for (let i = 0; i < n; i++) filter.add(id(`member:${i}`));
  let hits = 0;
  for (let i = 0; i < queries; i++) if (filter.has(id(`other:${i}`))) hits += 1;
  return { filter, rate: hits / queries };
}

describe('the whitelist Bloom filter', () => {
  it('sizes m and k from n and the target rate', () => {
    // 1e-6: 28.76 bits and 20 positions an account (-ln p / ln2^2; ln 2 * m/n).
    expect(bloomSize(1_000, 1e-6)).toEqual({ m: 28_756, k: 20 });
    expect(bloomSize(1_000_000, 1e-6).m).toBe(28_755_176);
    expect(bloomSize(0, 1e-6)).toEqual({ m: 8, k: 1 });
    expect(() => bloomSize(10, 0)).toThrow(RangeError);
    expect(() => bloomSize(10, 1)).toThrow(RangeError);
  });

  it('finds every account added', () => {
    const { filter } = measure(5_000, 1e-6, 0);
    for (let i = 0; i < 5_000; i++) expect(filter.has(id(`member:${i}`))).toBe(true);
    expect(filter.n).toBe(5_000);
  });

  it.each([
    [1e-2, 100_000],
    [1e-3, 300_000],
  ])('lets in about the target share of other accounts (target %p)', (target, queries) => {
    const { filter, rate } = measure(10_000, target, queries);
    // Hundreds of expected hits (1e-6 is measured by bench/whitelist.ts, 10^8 queries being slow): the measured rate is within a few standard deviations.
    expect(rate).toBeGreaterThan(target * 0.6);
    expect(rate).toBeLessThan(target * 1.5);
    expect(filter.rate).toBeGreaterThan(target * 0.8);
    expect(filter.rate).toBeLessThan(target * 1.2);
  });

  it('reads back from its published bytes with the same answers', () => {
    const { filter } = measure(1_000, 1e-3, 0);
    const bytes = filter.encode();
    expect(bytes.length).toBe(HEADER_BYTES + Math.ceil(filter.m / 8));
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('PRBF');
    const read = BloomFilter.decode(bytes);
    expect([read.m, read.k, read.n, read.targetRate]).toEqual([filter.m, filter.k, 1_000, 1e-3]);
    for (let i = 0; i < 1_000; i++) expect(read.has(id(`member:${i}`))).toBe(true);
    for (let i = 0; i < 2_000; i++) expect(read.has(id(`other:${i}`))).toBe(filter.has(id(`other:${i}`)));
  });

  it('refuses bytes that are not a filter', () => {
    const bytes = BloomFilter.sized(10, 1e-3, SALT).encode();
    expect(() => BloomFilter.decode(bytes.subarray(0, 20))).toThrow(/too short/);
    expect(() => BloomFilter.decode(Uint8Array.from([0, ...bytes.subarray(1)]))).toThrow(/magic/);
    expect(() => BloomFilter.decode(bytes.subarray(0, bytes.length - 1))).toThrow(/do not agree/);
  });

  it('places the same account elsewhere under another salt', () => {
    const a = BloomFilter.sized(1, 1e-6, SALT);
    const b = BloomFilter.sized(1, 1e-6, new Uint8Array(16).fill(9));
    a.add(id('member:0'));
    b.add(id('member:0'));
    expect(Buffer.from(a.encode().subarray(HEADER_BYTES))).not.toEqual(
      Buffer.from(b.encode().subarray(HEADER_BYTES)),
    );
  });
});
