/**
 * The notice the sweep sends when a judged proof is gone: which field of the judged identity no
 * longer proves itself, why, and until when it can be restored before the judgement becomes
 * OutOfDate. It carries no link to press and no code: nothing is confirmed from it, so a stranger
 * who reads it learns nothing they could use, and it asks the person to do only what they would do
 * anyway (put the proof back).
 */
import type { Field } from './fields.js';
import { contactLine, type OperatorInfo, registrarName } from './operator.js';
import { labelOf } from './verification.js';

export interface GraceNotice {
  /** The judged account. */
  account: string;
  /** Where this notice goes: a proven field's subject (an email address, a Matrix ID). */
  subject: string;
  /**
   * The service's ID of the account it goes to, when it goes to the gone field's own account (a
   * Discord member, by the ID proven: renamed, it is still the person's).
   */
  serviceId?: string;
  /** The field whose proof is gone. */
  field: Field;
  /** What the check found. */
  reason: string;
  /** When the grace ends and OutOfDate is given if the proof is still gone. */
  until: number;
  /** The account's status page, where the grace is shown. */
  statusUrl: string;
  operator: OperatorInfo;
}

/** The notice's title and plain text, the same on every channel. */
export function graceNoticeText(n: GraceNotice): { title: string; text: string } {
  const label = labelOf(n.field);
  const who = registrarName(n.operator);
  const contact = contactLine(n.operator);
  return {
    title: `Your on-chain identity's ${label} is no longer proven (${who})`,
    text: [
      `${who} judged the on-chain identity of the Polkadot/Kusama account ${n.account} and checks its proofs again from time to time.`,
      '',
      `The proof of its ${label} is gone: ${n.reason}.`,
      '',
      `Restore it before ${new Date(n.until).toUTCString()} and nothing changes. If it is still gone then, the judgement becomes OutOfDate on chain.`,
      `The state of each field: ${n.statusUrl}`,
      ...(contact ? ['', contact] : []),
    ].join('\n'),
  };
}
