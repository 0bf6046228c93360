import { describe, expect, it } from '@jest/globals';
import { LookAlikeIndex, oneTypoApart, Skeletons } from '../../src/domain/look-alikes.js';
import { loadConfusables } from '../../src/support/confusables.js';

const points = (text: string) => Uint32Array.from(text, (c) => c.codePointAt(0) ?? 0);
const skeletons = new Skeletons(loadConfusables());
const folded = (name: string) => skeletons.fold(name).folded;

describe('the folded form', () => {
  it('makes confusable letters, case, width, spacing and dots one name', () => {
    const plain = folded('Paypal Official');
    for (const twin of [
      'Рaypal Official',
      'Ｐａｙｐａｌ Ｏｆｆｉｃｉａｌ',
      'paypal official',
      'PAYPAL OFFICIAL',
      'Ρaypal Οfficial',
      'Pay.pal-Offi_cial',
      'P a y p a l   O f f i c i a l',
    ]) {
      expect(folded(twin)).toBe(plain);
    }
    expect(folded('Paypal Unofficial')).not.toBe(plain);
  });

  it('folds capitals with an i the same as the word (capital I is a prototype of l)', () => {
    expect(folded('KIWI')).toBe(folded('Kiwi'));
    expect(folded('LIBERLAND')).toBe(folded('Liberland'));
  });

  it('drops variation selectors, combining marks and other invisible characters', () => {
    for (const hidden of [
      'Gav\ufe0fin',
      'Gav\u180bin',
      'Gav\u{e0100}in',
      'Gávin',
      'Ga\u0301vin',
      'Gav\u200bin',
    ]) {
      expect(folded(hidden)).toBe(folded('Gavin'));
    }
  });

  it('makes look-alike letters and digits one: l/1/I, O/0, rn/m', () => {
    expect(folded('Po1kad0t')).toBe(folded('Polkadot'));
    expect(folded('Iron')).toBe(folded('lron'));
    expect(folded('Kusarna')).toBe(folded('Kusama'));
  });

  it('gives the forms left without generic words and numbers at the ends, each with a real word or two', () => {
    expect(skeletons.fold('The Gavin Wood Foundation').variants).toContain(folded('Gavin Wood'));
    expect(skeletons.fold('DragonStake 3').variants).toContain(folded('DragonStake'));
    expect(skeletons.fold('Real staking-lab').variants).toContain(folded('staking lab'));
    expect(skeletons.fold('Official Team').variants).toEqual([folded('Official Team')]);
    // Only the ends: a generic word inside a name stays.
    expect(skeletons.fold('Bank of Kusama').variants).toEqual([folded('Bank of Kusama')]);
  });
});

describe('one typo apart', () => {
  it.each([
    ['gavinwoods', 'gavinwood', false, true],
    ['gavinwood', 'gavinwoods', false, true],
    ['gavnwood', 'gavinwood', false, true],
    ['gavinwoad', 'gavinwood', false, true],
    ['gaivnwood', 'gavinwood', false, true],
    ['gavinwood', 'gavinwood', false, false],
    ['stakeland', 'stakely', false, false],
    // A short new name: a letter of the judged one dropped, doubled or swapped is a copy ...
    ['kate', 'katie', true, true],
    ['agve', 'agave', true, true],
    ['kaate', 'kate', true, true],
    ['kaet', 'kate', true, true],
    ['kat', 'kate', true, true],
    // ... a letter added or changed makes another name.
    ['katie', 'kate', true, false],
    ['logan', 'loan', true, false],
    ['kane', 'kate', true, false],
  ])('%s after %s (short: %s): %s', (name, judged, short, expected) => {
    expect(oneTypoApart(points(name), points(judged), short)).toBe(expected);
  });
});

describe('the judged-name index', () => {
  it('finds look-alikes, leaves out the excepted accounts, and forgets deleted names', () => {
    const index = new LookAlikeIndex(skeletons);
    index.set('A', 'Gavin Wood');
    index.set('B', 'Web3 Foundation');
    const gavin = [{ account: 'A', display: 'Gavin Wood' }];
    for (const twin of [
      'Gаvin Wood',
      'Gavin Woods',
      'GAVIN WOOD',
      'The Gavin Wood',
      'Gavin Wood Support',
      'G.a.v.i.n W.o.o.d',
    ]) {
      expect(index.conflicts(twin)).toEqual(gavin);
    }
    expect(index.conflicts('Gavin Wood', new Set(['A']))).toEqual([]);
    expect(index.conflicts('Alice Example')).toEqual([]);
    index.set('A', 'Someone Else');
    expect(index.conflicts('Gavin Wood')).toEqual([]);
    index.delete('B');
    expect(index.conflicts('Web3 Foundation')).toEqual([]);
    expect(index.size).toBe(1);
  });

  it('lets different names through that share a beginning, or a short name one letter apart', () => {
    const index = new LookAlikeIndex(skeletons);
    index.set('A', 'Stakely');
    index.set('B', 'Statute');
    index.set('C', 'Acme Lane');
    index.set('D', 'Kate');
    for (const other of ['Stakeland', 'Statutory', 'Acme Labs', 'Katie']) {
      expect(index.conflicts(other)).toEqual([]);
    }
    // The other way round, the short name is the judged one less a letter: a copy.
    index.set('E', 'Annabel');
    expect(index.conflicts('Anabel')).toEqual([{ account: 'E', display: 'Annabel' }]);
    index.set('F', 'Katie');
    expect(index.conflicts('Kate', new Set(['D']))).toEqual([{ account: 'F', display: 'Katie' }]);
  });

  it('prunes nothing that comparing every name would find', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = 'abcdeilmnorstuvw ';
    const name = () =>
      Array.from(
        { length: 2 + Math.floor(random() * 10) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
    const index = new LookAlikeIndex(skeletons);
    const corpus = Array.from({ length: 2_000 }, (_, i) => [`acct${i}`, name()] as const);
    for (const [account, display] of corpus) index.set(account, display);
    const looksLike = (a: string, b: string) => {
      const [x, y] = [skeletons.fold(a), skeletons.fold(b)];
      if (x.variants.some((v) => y.variants.includes(v))) return true;
      const short = Math.max(x.letters.length, y.letters.length) < 6;
      return oneTypoApart(points(x.letters), points(y.letters), short);
    };
    let found = 0;
    for (let q = 0; q < 200; q++) {
      const query = name();
      if (folded(query) === '') continue;
      const brute = corpus.filter(([, display]) => looksLike(query, display)).map(([account]) => account);
      found += brute.length;
      expect(index.conflicts(query).map((c) => c.account)).toEqual(brute);
    }
    expect(found).toBeGreaterThan(0);
  });
});
