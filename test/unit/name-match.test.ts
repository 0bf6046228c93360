import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { Skeletons } from '../../src/domain/look-alikes.js';
import { MATCH_THRESHOLD, NameMatcher, nameScore, nameTokens } from '../../src/domain/name-match.js';
import { parseSanctionsList } from '../../src/domain/sanctions-file.js';
import { transliterate } from '../../src/domain/transliteration.js';
import { loadConfusables } from '../../src/support/confusables.js';

const skeletons = new Skeletons(loadConfusables());
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/sanctions/${name}`, import.meta.url), 'utf8');
const entries = [
  ...parseSanctionsList(fixture('sdn.xml')).entries,
  ...parseSanctionsList(fixture('eu.xml')).entries,
];
const matcher = new NameMatcher(skeletons, entries);
const uids = (name: string) => matcher.matches(name).map((m) => m.uid);
const score = (a: string, b: string) => nameScore(nameTokens(skeletons, a), nameTokens(skeletons, b));

describe('the words compared', () => {
  it('writes Cyrillic, Greek and Arabic in Latin letters, and takes case, accents and punctuation off', () => {
    expect(transliterate('Дмитрий Островский')).toBe('dmitriy ostrovskiy');
    expect(transliterate('Νικόλαος Παπαδάκης')).toBe('nikolaos papadakis');
    expect(transliterate('كريم منصور')).toBe('krym mnswr');
    expect(nameTokens(skeletons, 'BRANDSTÄTTER, Jöhann')).toEqual(['brandstatter', 'johann']);
    expect(nameTokens(skeletons, 'Muhammad al-Haddad')).toEqual(['muhammad', 'haddad']);
    // Confusable letters from other scripts in a Latin name are the Latin letters.
    expect(nameTokens(skeletons, 'Еlеnа Vаsquеz')).toEqual(['elena', 'vasquez']);
    expect(nameTokens(skeletons, 'Straße')).toEqual(['strasse']);
  });
});

describe('a listed name is found', () => {
  it('in any word order and case, and with a patronymic left out', () => {
    expect(uids('Ivan Korsakov')).toEqual(['90001']);
    expect(uids('KORSAKOV Ivan Petrovich')).toEqual(['90001']);
    expect(uids('Anatoly Belogorov')).toEqual(['800001']);
  });

  it('written in another script, or transliterated another way', () => {
    expect(uids('Дмитрий Островский')).toEqual(['90005']);
    expect(uids('Dmitriy Ostrovskiy')).toEqual(['90005']);
    expect(uids('Анатолий Белогоров')).toEqual(['800001']);
    expect(uids('Νικόλαος Παπαδάκης')).toEqual(['800002']);
    expect(uids('Nikolaos Papadakis')).toEqual(['800002']);
    expect(uids('Mohammed Yousuf Haddad')).toEqual(['90002']);
    expect(uids('Karim Mansour')).toEqual(['800004']);
    expect(uids('كريم منصور')).toEqual(['800004']);
    expect(uids('Johann Brandstaetter')).toEqual(['90006']);
  });

  it('with initials for first names, a typo, or look-alike letters', () => {
    expect(uids('J. Brandstätter')).toEqual(['90006']);
    expect(uids('E. Vasquez Morales')).toEqual(['90004']);
    expect(uids('Johan Brandstatter')).toEqual(['90006']);
    expect(uids('Ivan Korsakoff')).toEqual(['90001']);
    expect(uids('Іvаn Коrsаkоv')).toEqual(['90001']);
    expect(uids('Northern Star Shipping')).toEqual(['90003']);
  });

  it('with the listed name and a score, best first', () => {
    const [match] = matcher.matches('Ivan Korsakov');
    expect(match?.name).toBe('Ivan Petrovich KORSAKOV');
    expect(match?.score).toBeGreaterThanOrEqual(MATCH_THRESHOLD);
    expect(match?.score).toBeLessThanOrEqual(1);
    expect(score('Ivan Petrovich Korsakov', 'Ivan Petrovich KORSAKOV')).toBe(1);
  });
});

describe('a different name is not a hit', () => {
  it('sharing one word, a first name, or initials alone', () => {
    for (const name of [
      'Ivan Petrov',
      'Korsakov',
      'Elena Garcia',
      'Dmitri Ivanov',
      'Johann Sebastian Bach',
      'J. B.',
      'Anatoly Karpov',
      'Star Shipping Ltd',
      'Maria Papadaki',
      'Karim Benzema',
      'Muhammad Ali',
      'Yusuf Islam',
    ]) {
      expect([name, uids(name)]).toEqual([name, []]);
    }
  });

  it('with more words of its own than the listed name', () => {
    expect(uids('Ivan Alexandrovich Mikhailov Korsakov Smirnov')).toEqual([]);
  });

  it('that is empty or punctuation only', () => {
    expect(uids('')).toEqual([]);
    expect(uids('...')).toEqual([]);
  });
});
