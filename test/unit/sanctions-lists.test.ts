import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { SanctionsListError } from '../../src/domain/sanctions.js';
import { detectSanctionsFormat, parseSanctionsList } from '../../src/domain/sanctions-file.js';
import { readXml, XmlError } from '../../src/domain/xml.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/sanctions/${name}`, import.meta.url), 'utf8');
const sdn = fixture('sdn.xml');
const eu = fixture('eu.xml');

describe('the OFAC SDN XML', () => {
  it('reads the publish date, every entry, its type and its aliases', () => {
    const list = parseSanctionsList(sdn);
    expect(list.format).toBe('ofac');
    expect(list.listDate).toBe('2026-11-28');
    expect(list.entries).toHaveLength(6);
    expect(list.entries[0]).toEqual({
      uid: '90001',
      kind: 'Individual',
      names: ['Ivan Petrovich KORSAKOV', 'Ivan KORSAKOFF'],
    });
    // An alias without a first name, and an entity with only a last name.
    expect(list.entries[1]?.names).toEqual(['Muhammad Yusuf AL-HADDAD', 'ABU YUSUF']);
    expect(list.entries[2]).toEqual({ uid: '90003', kind: 'Entity', names: ['NORTHERN STAR SHIPPING LLC'] });
    // Entities decoded; the uid of an alias or a date of birth is not the entry's.
    expect(list.entries[3]?.names).toEqual(['Elena VASQUEZ & MORALES']);
    expect(list.entries[4]?.names[1]).toBe('Дмитрий ОСТРОВСКИЙ');
  });

  it('refuses a file without its date, cut short, or with an entry without uid or name', () => {
    expect(() => parseSanctionsList(sdn.replace(/<Publish_Date>.*<\/Publish_Date>/, ''))).toThrow(
      /no <publshInformation><Publish_Date>/,
    );
    expect(() => parseSanctionsList(sdn.replace('11/28/2026', '28/11/2026'))).toThrow(/MM\/DD\/YYYY/);
    expect(() => parseSanctionsList(sdn.slice(0, sdn.indexOf('<sdnEntry>', 2000)))).toThrow(
      /not well-formed XML: the document ends inside <sdnList>/,
    );
    expect(() => parseSanctionsList(sdn.replace('<uid>90003</uid>', ''))).toThrow(
      /sdnEntry number 3 has no <uid>/,
    );
    expect(() => parseSanctionsList(sdn.replace('<lastName>OSTROVSKY</lastName>', ''))).toThrow(
      /90005 has no <lastName>/,
    );
    const empty = sdn.replace(/<sdnEntry>[\s\S]*<\/sdnEntry>/, '');
    expect(() => parseSanctionsList(empty)).toThrow(/no <sdnEntry>/);
  });
});

describe('the EU consolidated list XML', () => {
  it('reads the generation date, every entity, its subject type and every name alias once', () => {
    const list = parseSanctionsList(eu);
    expect(list.format).toBe('eu');
    expect(list.listDate).toBe('2026-12-01');
    expect(list.entries.map((e) => e.uid)).toEqual(['800001', '800002', '800003', '800004']);
    expect(list.entries[0]).toEqual({
      uid: '800001',
      kind: 'person',
      names: ['Anatoly Sergeyevich Belogorov', 'Анатолий Сергеевич Белогоров'],
    });
    // No wholeName: first, middle and last name make it.
    expect(list.entries[1]?.names).toEqual(['Nikolaos Papadakis', 'Νικόλαος Παπαδάκης']);
    expect(list.entries[2]).toEqual({
      uid: '800003',
      kind: 'enterprise',
      names: ['Joint Stock Company "Volga Precision Instruments"'],
    });
  });

  it('refuses a file without its date, an entity without id or name, or one cut short', () => {
    expect(() => parseSanctionsList(eu.replace(/generationDate="[^"]*"/, ''))).toThrow(/no generationDate/);
    expect(() => parseSanctionsList(eu.replace('logicalId="800002"', ''))).toThrow(
      /sanctionEntity number 2 has no logicalId/,
    );
    expect(() => parseSanctionsList(eu.replace(/<nameAlias[^>]*Joint Stock[^>]*\/>/, ''))).toThrow(
      /800003 has no named <nameAlias>/,
    );
    expect(() => parseSanctionsList(eu.replace('</export>', ''))).toThrow(/ends inside <export>/);
  });
});

describe('the file as a whole', () => {
  it('finds the format by the root element, and holds a named format to it', () => {
    expect(detectSanctionsFormat(sdn)).toBe('ofac');
    expect(detectSanctionsFormat(eu)).toBe('eu');
    expect(detectSanctionsFormat('<html><body>Not found</body></html>')).toBeUndefined();
    expect(() => parseSanctionsList('<html><body>Not found</body></html>')).toThrow(SanctionsListError);
    expect(() => parseSanctionsList('{"entries": []}')).toThrow(/expected the OFAC SDN XML/);
    expect(() => parseSanctionsList(sdn, 'eu')).toThrow(
      /not in the eu format \(its root element says ofac\)/,
    );
  });

  it('refuses a DOCTYPE, so that no entity expands (billion laughs, external entities)', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE sdnList [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>${sdn.slice(sdn.indexOf('<sdnList'))}`;
    expect(() => parseSanctionsList(laughs)).toThrow(/DOCTYPE/);
    expect(() => parseSanctionsList(sdn.replace('KORSAKOV', '&xxe;'))).toThrow(/unknown entity &xxe;/);
  });
});

describe('the XML reader', () => {
  const events = (xml: string) => {
    const seen: string[] = [];
    readXml(xml, {
      open: (name, attributes) => seen.push(`<${name}${JSON.stringify(attributes)}`),
      close: (name) => seen.push(`</${name}`),
      text: (text) => seen.push(text),
    });
    return seen;
  };

  it('reads local names, attributes in either quote, entities, character references and CDATA', () => {
    expect(events(`<a:r x:k='1' v="&lt;&#65;&#x42;"><b/><![CDATA[<&>]]>t&amp;</a:r>`)).toEqual([
      '<r{"k":"1","v":"<AB"}',
      '<b{}',
      '</b',
      '<&>',
      't&',
      '</r',
    ]);
  });

  it('says where a malformed document goes wrong', () => {
    expect(() => events('<a>\n<b></a>')).toThrow(
      new XmlError('a closing tag </a> that matches no open element at line 2'),
    );
    expect(() => events('<a></a><b/>')).toThrow(/second root element/);
    expect(() => events('junk<a/>')).toThrow(/text outside the root element/);
    expect(() => events('<a x=1/>')).toThrow(/malformed tag/);
    expect(() => events('<a>&</a>')).toThrow(/bare "&"/);
    expect(() => events('')).toThrow(/no XML element/);
  });
});
