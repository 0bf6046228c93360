/**
 * One account per handle: an email address, Matrix ID, X / Discord / GitHub account, website or
 * PGP key proven for one account is not proven for another person's. This names what a proof holds:
 * the canonical handle (an email address as its message limits count it, so `Alice+x@Example.org`
 * is `alice@example.org`), and for the account services also the service's own numeric ID when the
 * proof came with one (a handle can be renamed away and claimed by someone else; the ID stays).
 * Both are held, so a proof by a gist (no ID) still meets a sign-in's claim of the same handle.
 */
import type { Field } from './fields.js';
import { limitSubject } from './subjects.js';

/** refuse (the default): the second account's proof is refused; warn: let through and logged; off. */
export type HandleRule = 'refuse' | 'warn' | 'off';
export const HANDLE_RULES: readonly HandleRule[] = ['refuse', 'warn', 'off'];

/** The fields that name something one person controls (not a name, which many may share). */
const HANDLE_FIELDS: ReadonlySet<Field> = new Set([
  'email',
  'matrix',
  'twitter',
  'github',
  'discord',
  'web',
  'pgpFingerprint',
]);

/** The services whose proofs can carry the account's numeric ID. */
const SERVICE_ID_FIELDS: ReadonlySet<Field> = new Set(['twitter', 'github', 'discord']);

/** The names a proof of `field` from `subject` (and the service's `serviceId`) holds; none for a name field. */
export function handleNames(field: Field, subject: string, serviceId?: string): string[] {
  if (!HANDLE_FIELDS.has(field) || subject === '') return [];
  const names = [`${field}:${limitSubject(field, subject)}`];
  if (serviceId !== undefined && serviceId !== '' && SERVICE_ID_FIELDS.has(field)) {
    names.push(`${field}#id:${serviceId}`);
  }
  return names;
}

/**
 * Who an account is, for this rule: its parent when it is a sub-identity, else itself. A parent
 * and its sub-identities (and two subs of one parent) are one person.
 */
export function personOf(account: string, parent: string | undefined): string {
  return parent ?? account;
}
