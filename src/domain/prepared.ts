/** Proving before paying: which identities may be prepared, what a prepared request's proofs carry into the chain's request, masked targets. */
import { FIELDS, type Field } from './fields.js';
import { canonicalValue, type IdentityInfo } from './identity.js';
import type { JudgementRequest } from './request.js';

/** A registrar's slot in an identity's judgements, as the chain shows it. */
export interface Slot {
  registrarIndex: number;
  judgement: string;
}

/**
 * Why the identity cannot be prepared with registrar `index`, or undefined when it can: a request
 * to us is pending already (it is proven as a request), or we judged it (any judgement of ours
 * still on chain is for this very identity: an edit drops all but the sticky ones).
 */
export function notPreparable(judgements: readonly Slot[], index: number): 'pending' | 'judged' | undefined {
  const ours = judgements.find((slot) => slot.registrarIndex === index);
  if (!ours) return undefined;
  return ours.judgement === 'FeePaid' ? 'pending' : 'judged';
}

/**
 * The proofs of a prepared request that still hold for `info`, an identity edited since: a
 * confirmed field whose proven value is exactly the value now on chain, and nothing else (not a
 * value that only reads the same, like another case of an address). Every other field starts again.
 */
export function exactlyProven(
  fields: JudgementRequest['fields'],
  info: IdentityInfo,
): JudgementRequest['fields'] {
  const kept: JudgementRequest['fields'] = {};
  for (const field of FIELDS) {
    const state = fields[field];
    const now = info.values[field];
    if (state?.status === 'confirmed' && now && canonicalValue(now) === state.value) kept[field] = state;
  }
  return kept;
}

/** `text` with all but its first character hidden: enough to recognise one's own, not to read another's. */
function hide(text: string): string {
  const first = [...text][0] ?? '';
  return `${first}***`;
}

/**
 * Where a message went, masked for a page anyone can open: `a***@e***.com` for a mailbox,
 * `@a***:m***.org` for a Matrix ID, `a***` for a handle.
 */
export function maskedTarget(field: Field, subject: string): string {
  const split = field === 'email' ? subject.lastIndexOf('@') : field === 'matrix' ? subject.indexOf(':') : -1;
  if (split <= 0) return hide(subject);
  const local = subject.slice(0, split);
  const host = subject.slice(split + 1);
  const dot = host.lastIndexOf('.');
  const maskedHost = dot > 0 ? `${hide(host.slice(0, dot))}${host.slice(dot)}` : hide(host);
  const sigil = field === 'matrix' && local.startsWith('@') ? '@' : '';
  return `${sigil}${hide(local.slice(sigil.length))}${subject.charAt(split)}${maskedHost}`;
}
