/**
 * Sanctions lists as the registrar keeps them: the official files read into entries (an id on the
 * list and every name it gives), one list per format, and the hits screening finds. A hit never
 * judges: it puts the field before the operator with the entry it matched.
 */
import type { Field } from './fields.js';

/** The largest list file taken, fetched or uploaded (the OFAC and EU XML files are well under it). */
export const MAX_SANCTIONS_FILE_BYTES = 64 * 1024 * 1024;

export const SANCTIONS_FORMATS = ['ofac', 'eu'] as const;
export type SanctionsFormat = (typeof SANCTIONS_FORMATS)[number];

/** One listed person, entity, vessel, ...: its id on the list and every name (aliases too). */
export interface SanctionsEntry {
  uid: string;
  /** The list's own word for what it is (Individual, Entity, person, enterprise, ...). */
  kind: string;
  names: string[];
}

/** What a file holds once read: the list's own date (ISO, YYYY-MM-DD) and its entries. */
export interface ParsedSanctionsList {
  format: SanctionsFormat;
  listDate: string;
  entries: SanctionsEntry[];
}

/** A list as kept: where it came from (a file name or URL) and when it was imported. */
export interface SanctionsList extends ParsedSanctionsList {
  source: string;
  importedAt: number;
}

/** A kept list without its entries: what `sanctions status` shows. */
export interface SanctionsListInfo extends Omit<SanctionsList, 'entries'> {
  entryCount: number;
}

/** The screened fields: the legal name, and the display name when the operator turns it on. */
export type ScreenedField = Extract<Field, 'legal' | 'display'>;

/** A name of an identity found like a listed one: an item of the operator's review queue. */
export interface SanctionsHit {
  /** One per account, field, identity, list format and entry: screening the same again adds nothing. */
  id: string;
  account: string;
  registrarIndex: number;
  field: ScreenedField;
  /** The identity whose name was screened (the request's snapshot, or the judged identity). */
  identityHash: string;
  list: { format: SanctionsFormat; source: string; listDate: string };
  uid: string;
  /** The listed name that matched (public list data, not the person's name). */
  name: string;
  /** 0 to 1: how much of the two names matched (name-match.ts). */
  score: number;
  /** What screened it: a request planned for review, or a new list against judged names. */
  reason: 'request' | 'import';
  at: number;
}

export class SanctionsListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SanctionsListError';
  }
}

/**
 * The hit's id: the same account, field, identity, list format and entry always make the same one,
 * whatever the list's date, so a list fetched again every day does not queue a known hit again.
 */
export function hitId(hit: Omit<SanctionsHit, 'id' | 'name' | 'score' | 'reason' | 'at'>): string {
  return [hit.account, hit.registrarIndex, hit.field, hit.identityHash, hit.list.format, hit.uid].join('|');
}
