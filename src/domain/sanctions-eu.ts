/**
 * The EU consolidated financial sanctions list (the FSF XML export): `<export generationDate=...>`
 * holding `<sanctionEntity logicalId=...>`, each with `<subjectType code=...>` and `<nameAlias>`
 * elements whose `wholeName` (or `firstName`, `middleName`, `lastName`) give its names.
 */
import { type ParsedSanctionsList, type SanctionsEntry, SanctionsListError } from './sanctions.js';
import { readXml } from './xml.js';

export function readEuList(xml: string): ParsedSanctionsList {
  const path: string[] = [];
  let generated: string | undefined;
  const entries: SanctionsEntry[] = [];
  let entry: SanctionsEntry | undefined;
  readXml(xml, {
    open(name, attributes) {
      if (path.length === 0) {
        if (name !== 'export') throw new SanctionsListError('the root element is not <export>');
        generated = attributes.generationDate;
      }
      path.push(name);
      const parent = path.at(-2);
      if (name === 'sanctionEntity' && parent === 'export') {
        const uid = attributes.logicalId?.trim();
        if (!uid)
          throw new SanctionsListError(`sanctionEntity number ${entries.length + 1} has no logicalId`);
        entry = { uid, kind: '', names: [] };
      } else if (entry && parent === 'sanctionEntity') {
        if (name === 'subjectType') entry.kind = attributes.code ?? '';
        if (name === 'nameAlias') {
          const whole = attributes.wholeName?.trim();
          const parts = [attributes.firstName, attributes.middleName, attributes.lastName]
            .map((part) => part?.trim() ?? '')
            .filter((part) => part !== '')
            .join(' ');
          const chosen = whole || parts;
          if (chosen && !entry.names.includes(chosen)) entry.names.push(chosen);
        }
      }
    },
    text() {},
    close(name) {
      path.pop();
      if (name === 'sanctionEntity' && entry && path.length === 1) {
        if (entry.names.length === 0)
          throw new SanctionsListError(`sanctionEntity ${entry.uid} has no named <nameAlias>`);
        entries.push(entry);
        entry = undefined;
      }
    },
  });
  const listDate = generated && /^\d{4}-\d{2}-\d{2}/.exec(generated)?.[0];
  if (!listDate) throw new SanctionsListError('the <export> has no generationDate (YYYY-MM-DD...)');
  if (entries.length === 0)
    throw new SanctionsListError('the list has no <sanctionEntity>: is the file cut short?');
  return { format: 'eu', listDate, entries };
}
