/**
 * A channel proves one field. It delivers a challenge to the subject the field names (or, for pull
 * channels, tells the person what to publish), and reports every answer it hears through the one
 * entry into the registrar, `ProofSink`: "this challenge was answered by this subject". Adding a
 * channel is one file beside this one and one line in parts/channels.ts.
 */
import type { ChannelMeans } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';

/**
 * A challenge answered on the registrar's page. `nonce` goes into what is published or signed:
 * public, so it is no code and is derived apart from the codes that messages deliver.
 */
export type PageChallenge =
  | {
      ok: true;
      challengeId: string;
      account: string;
      field: Field;
      label: string;
      subject: string;
      value: string;
      display?: string;
      issuedAt: number;
      nonce: string;
    }
  | { ok: false; message: string };

export interface ChallengeMessage {
  /** The on-chain account that asked for the judgement. */
  account: string;
  /** Its display name as set on chain, when it has one. */
  display?: string;
  field: Field;
  /** Where to deliver: the field's canonical subject (an email address, a Matrix ID, ...). */
  subject: string;
  /** The challenge page: GET shows it, only its Confirm button (a POST) confirms. */
  link: string;
  /** A short single-use code the person may send back or type in instead of opening the link. */
  code: string;
  expiresAt: number;
  registrarIndex: number;
}

/**
 * What a proof made on the registrar's site found: the subject it came from (the account that
 * signed in or posted, the host that published, the key that signed), which `Proofs.answer` holds
 * against the challenge's, or why it found nothing.
 */
export type PageProof = { ok: true; subject: string; serviceId?: string } | { ok: false; message: string };

export type ProofOutcome = { ok: true; account: string; field: Field } | { ok: false; message: string };

/** What a channel calls when it hears an answer. */
export interface ProofSink {
  /**
   * `subject` (as the service vouches for it: a message's sender) sent `code` for `field`. Wrong
   * codes from the subject itself count towards voiding its codes (a stranger cannot send them).
   */
  answerCode(field: Field, subject: string, code: string, countsWrong?: boolean): Promise<ProofOutcome>;
}

export interface Channel {
  readonly field: Field;
  /** What it proves with; which ways of answering that accepts is domain/answers.ts's one table. */
  readonly means: readonly ChannelMeans[];
  /** false: the channel sends nothing to anyone (a review, a proof made on the registrar's site), so no message limit applies. */
  readonly messages?: false;
  /** The operator decides (legal name, image): the person has nothing to do but wait. */
  readonly review?: true;
  /** Proven on the registrar's site at /prove/<account>/<field>: by signing in or a post, a signature, or a published code. */
  readonly page?: 'account' | 'pgp' | 'web';
  /** Delivers the challenge; rejects with an error that names no personal data. */
  send(message: ChallengeMessage): Promise<void>;
  /**
   * Pull channels (the website): looks for what the person was asked to publish, when they press
   * "Check now" and again on the registrar's own schedule. Never throws.
   */
  check?(challenge: PageChallenge & { ok: true }): Promise<PageProof>;
  /** Channels that hear answers (a bot) begin listening here; called once, before any send. */
  start?(sink: ProofSink): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A delivery that cannot succeed until the person does something (open their direct messages, join
 * a server): it is retried like any failure, and `hint` tells the person on the status page.
 */
export class UndeliverableError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'UndeliverableError';
  }
}
