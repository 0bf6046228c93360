/**
 * The OFAC SDN list in its XML form (sdn.xml): `<sdnList>`, its `<publshInformation><Publish_Date>`
 * (MM/DD/YYYY, OFAC's spelling), and `<sdnEntry>` with `<uid>`, `<firstName>`, `<lastName>`,
 * `<sdnType>` and `<akaList><aka>` names. Other elements (programs, addresses, ids) are skipped.
 */
import { type ParsedSanctionsList, type SanctionsEntry, SanctionsListError } from './sanctions.js';
import { readXml } from './xml.js';

const joinName = (first: string | undefined, last: string | undefined) =>
  [first, last]
    .map((part) => part?.trim() ?? '')
    .filter((part) => part !== '')
    .join(' ');

/** MM/DD/YYYY to YYYY-MM-DD; undefined when it is not such a date. */
function isoDate(text: string): string | undefined {
  const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text.trim());
  if (!match) return undefined;
  const [, month, day, year] = match as unknown as [string, string, string, string];
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined;
  return date.toISOString().slice(0, 10);
}

export function readOfacList(xml: string): ParsedSanctionsList {
  const path: string[] = [];
  let text = '';
  let rawDate: string | undefined;
  const entries: SanctionsEntry[] = [];
  let entry: { uid?: string; kind?: string; first?: string; last?: string; names: string[] } | undefined;
  let aka: { first?: string; last?: string } | undefined;
  readXml(xml, {
    open(name) {
      if (path.length === 0 && name !== 'sdnList')
        throw new SanctionsListError('the root element is not <sdnList>');
      path.push(name);
      text = '';
      if (name === 'sdnEntry' && path.length === 2) entry = { names: [] };
      if (name === 'aka' && entry) aka = {};
    },
    text(chunk) {
      text += chunk;
    },
    close(name) {
      const parent = path.at(-2);
      path.pop();
      if (name === 'Publish_Date' && parent === 'publshInformation') rawDate = text.trim();
      else if (aka && parent === 'aka') {
        if (name === 'firstName') aka.first = text;
        if (name === 'lastName') aka.last = text;
      } else if (name === 'aka' && entry && aka) {
        const full = joinName(aka.first, aka.last);
        if (full) entry.names.push(full);
        aka = undefined;
      } else if (entry && parent === 'sdnEntry') {
        if (name === 'uid') entry.uid = text.trim();
        if (name === 'firstName') entry.first = text;
        if (name === 'lastName') entry.last = text;
        if (name === 'sdnType') entry.kind = text.trim();
      } else if (name === 'sdnEntry' && entry) {
        const position = entries.length + 1;
        if (!entry.uid) throw new SanctionsListError(`sdnEntry number ${position} has no <uid>`);
        const main = joinName(entry.first, entry.last);
        if (!entry.last?.trim()) throw new SanctionsListError(`sdnEntry ${entry.uid} has no <lastName>`);
        entries.push({ uid: entry.uid, kind: entry.kind ?? '', names: [main, ...entry.names] });
        entry = undefined;
      }
      text = '';
    },
  });
  if (rawDate === undefined)
    throw new SanctionsListError('the list has no <publshInformation><Publish_Date>');
  const listDate = isoDate(rawDate);
  if (!listDate) throw new SanctionsListError('the <Publish_Date> is not a date in MM/DD/YYYY');
  if (entries.length === 0)
    throw new SanctionsListError('the list has no <sdnEntry>: is the file cut short?');
  return { format: 'ofac', listDate, entries };
}
