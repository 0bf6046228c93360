/**
 * An official sanctions file read: its format found by its root element (or as the operator says),
 * then the OFAC or EU reader; any fault is one SanctionsListError, and nothing half-read comes out.
 */

import { type ParsedSanctionsList, type SanctionsFormat, SanctionsListError } from './sanctions.js';
import { readEuList } from './sanctions-eu.js';
import { readOfacList } from './sanctions-ofac.js';
import { XmlError } from './xml.js';

/** The format of a file, by its root element; undefined when it is neither. */
export function detectSanctionsFormat(xml: string): SanctionsFormat | undefined {
  const head = xml.slice(0, 4096).replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, '');
  const root = /<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(head)?.[2];
  if (root === 'sdnList') return 'ofac';
  if (root === 'export') return 'eu';
  return undefined;
}

/**
 * Reads an official file: the OFAC SDN list (sdn.xml) or the EU consolidated financial sanctions
 * list. Throws SanctionsListError saying what is wrong: nothing half-read is ever returned.
 */
export function parseSanctionsList(xml: string, format?: SanctionsFormat): ParsedSanctionsList {
  const detected = detectSanctionsFormat(xml);
  const chosen = format ?? detected;
  if (!chosen) {
    throw new SanctionsListError(
      'not a sanctions list this registrar reads: expected the OFAC SDN XML (<sdnList>) or the EU consolidated list XML (<export>)',
    );
  }
  if (detected !== chosen) {
    throw new SanctionsListError(
      `the file is not in the ${chosen} format (its root element says ${detected ?? 'neither'})`,
    );
  }
  try {
    return chosen === 'ofac' ? readOfacList(xml) : readEuList(xml);
  } catch (error) {
    if (error instanceof XmlError)
      throw new SanctionsListError(`the file is not well-formed XML: ${error.message}`);
    throw error;
  }
}
