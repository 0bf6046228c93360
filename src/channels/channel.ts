/** A channel proves one field by delivering a challenge link to the account the field names. */
import type { Field } from '../domain/fields.js';

export interface ChallengeMessage {
  /** The on-chain account that asked for the judgement. */
  account: string;
  field: Field;
  /** Where to deliver: the field's value (an email address, a Matrix ID, ...). */
  address: string;
  link: string;
  expiresAt: number;
  registrarIndex: number;
}

export interface Channel {
  readonly field: Field;
  /** Delivers the message; rejects with an error that names no personal data. */
  send(message: ChallengeMessage): Promise<void>;
  close?(): Promise<void>;
}
