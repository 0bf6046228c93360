import { describe, expect, it } from '@jest/globals';
import { jaroWinkler, LookAlikeIndex, Skeletons } from '../../src/domain/look-alikes.js';
import { loadConfusables } from '../../src/support/confusables.js';

const points = (text: string) => Array.from(text, (c) => c.codePointAt(0) ?? 0);
const skeletons = new Skeletons(loadConfusables());

describe('Jaro-Winkler', () => {
  it.each([
    ['MARTHA', 'MARHTA', 0.961],
    ['DWAYNE', 'DUANE', 0.84],
    ['DIXON', 'DICKSONX', 0.813],
    ['same', 'same', 1],
    ['abc', 'xyz', 0],
  ])('%s ~ %s = %d', (a, b, expected) => {
    expect(jaroWinkler(points(a), points(b))).toBeCloseTo(expected, 3);
  });
});

describe('confusable skeletons', () => {
  it('maps Cyrillic, Greek and fullwidth look-alikes and case to one skeleton', () => {
    const plain = skeletons.of('Paypal Official');
    for (const twin of [
      'Рaypal Official',
      'Ｐａｙｐａｌ Ｏｆｆｉｃｉａｌ',
      'paypal official',
      'Ρaypal Οfficial',
    ]) {
      expect(skeletons.of(twin)).toBe(plain);
    }
    expect(skeletons.of('Paypal Unofficial')).not.toBe(plain);
    // Capital I is a prototype of l, so all capitals differ in skeleton; similarity still finds it.
    const index = new LookAlikeIndex(skeletons, 0.9);
    index.set('A', 'Paypal Official');
    expect(index.conflicts('PАYPAL OFFICIAL')).toEqual([{ account: 'A', display: 'Paypal Official' }]);
  });
});

describe('the judged-name index', () => {
  it('finds look-alikes, leaves out the excepted accounts, and forgets deleted names', () => {
    const index = new LookAlikeIndex(skeletons, 0.9);
    index.set('A', 'Gavin Wood');
    index.set('B', 'Web3 Foundation');
    expect(index.conflicts('Gаvin Wood')).toEqual([{ account: 'A', display: 'Gavin Wood' }]);
    expect(index.conflicts('Gavin Woods')).toEqual([{ account: 'A', display: 'Gavin Wood' }]);
    expect(index.conflicts('Gavin Wood', new Set(['A']))).toEqual([]);
    expect(index.conflicts('Alice Example')).toEqual([]);
    index.set('A', 'Someone Else');
    expect(index.conflicts('Gavin Wood')).toEqual([]);
    index.delete('B');
    expect(index.conflicts('Web3 Foundation')).toEqual([]);
    expect(index.size).toBe(1);
  });

  it('prunes nothing that a full comparison would find', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = 'abcdeilmnorstuvw ';
    const name = () =>
      Array.from(
        { length: 4 + Math.floor(random() * 10) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
    const index = new LookAlikeIndex(skeletons, 0.85);
    const corpus = Array.from({ length: 2_000 }, (_, i) => [`acct${i}`, name()] as const);
    for (const [account, display] of corpus) index.set(account, display);
    const corpusPoints = corpus.map(
      ([account, display]) => [account, points(skeletons.of(display))] as const,
    );
    for (let q = 0; q < 100; q++) {
      const query = name();
      const queryPoints = points(skeletons.of(query));
      const brute = corpusPoints
        .filter(([, display]) => jaroWinkler(queryPoints, display) >= 0.85)
        .map(([account]) => account);
      expect(index.conflicts(query).map((c) => c.account)).toEqual(brute);
    }
  });
});
