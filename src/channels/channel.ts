/**
 * A channel proves one field. It delivers a challenge to the subject the field names (or, for pull
 * channels, tells the person what to publish), and reports every answer it hears through the one
 * entry into the registrar, `ProofSink`: "this challenge was answered by this subject". Adding a
 * channel is one file beside this one and one line in parts/channels.ts.
 */
import type { ChannelMeans } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import type { GraceNotice } from '../domain/grace-notice.js';
import type { OperatorInfo } from '../domain/operator.js';
import type { CheckAnswer } from '../domain/sweep.js';

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
  /** Who runs the registrar: every message says who asks and whom to ask. */
  operator: OperatorInfo;
}

/**
 * What a proof made on the registrar's site found: the subject it came from (the account that
 * signed in or posted, the host that published, the key that signed), which `Proofs.answer` holds
 * against the challenge's, or why it found nothing.
 */
export type PageProof =
  | { ok: true; subject: string; serviceId?: string; postUrl?: string }
  | { ok: false; message: string };

export type ProofOutcome = { ok: true; account: string; field: Field } | { ok: false; message: string };

/** A challenge that can still be answered, as a bot sees it: whom it answers, whose limits count. */
export interface LiveChallenge {
  id: string;
  account: string;
  expiresAt: number;
}

/**
 * How a code was heard. countsWrong: a wrong one counts towards voiding the subject's codes (it
 * was meant as a code; default true); serviceId: the service's own ID of the sender.
 */
export interface CodeSender {
  countsWrong?: boolean;
  serviceId?: string;
}

/** Whom a channel's message went to, where the service names the account by an ID of its own. */
export interface Delivery {
  serviceId?: string;
}

/** What a channel calls when it hears an answer. */
export interface ProofSink {
  /**
   * `subject` (as the service vouches for it: a message's sender) sent `code` for `field`. Wrong
   * codes from the subject itself count towards voiding its codes (a stranger cannot send them).
   */
  answerCode(field: Field, subject: string, code: string, sender?: CodeSender): Promise<ProofOutcome>;
  /** The challenges of `field` made for `subject` that can still be answered (a bot talks to no one else). */
  liveChallenges(field: Field, subject: string): Promise<LiveChallenge[]>;
  /**
   * `sender`, who is not `subject`, sent a code of `subject`'s: refused, never confirmed, and the
   * refusal is kept on the field for its status page. Undefined when the code is none of `subject`'s.
   */
  codeFromOther(
    field: Field,
    subject: string,
    sender: string,
    code: string,
  ): Promise<ProofOutcome | undefined>;
  /**
   * A bot wants to reply to `subject` about `account`'s challenge: true when the message limits
   * allow one more message today (the reply is then counted), false when they do not.
   */
  allowReply(account: string, field: Field, subject: string): Promise<boolean>;
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
  /**
   * Delivers the challenge, saying to which account by the service's ID where it found one by name;
   * rejects with an error that names no personal data.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: most channels deliver to the subject itself and resolve with nothing.
  send(message: ChallengeMessage): Promise<Delivery | void>;
  /**
   * Pull channels (the website): looks for what the person was asked to publish, when they press
   * "Check now" and again on the registrar's own schedule. Never throws.
   */
  check?(challenge: PageChallenge & { ok: true }): Promise<PageProof>;
  /**
   * The sweep (registrar/sweep.ts): does what was proven and judged still hold, read without the
   * person? `gone` only on the service's definite answer; `unknown` when it could not be asked.
   * Channels without it are not checked again. Never throws.
   */
  recheck?(proof: RecheckedProof): Promise<CheckAnswer>;
  /**
   * Tells the person at `notice.subject` (a value proven for the judged identity) that another
   * field's proof is gone (the sweep's grace). No link, no code. Rejects with an error that names no
   * personal data.
   */
  notify?(notice: GraceNotice): Promise<void>;
  /** Channels that hear answers (a bot) begin listening here; called once, before any send. */
  start?(sink: ProofSink): Promise<void>;
  /**
   * The retention of a request that named `subject` ran out: the channel forgets what it kept about
   * it (a bot's room with the person), unless it still has a live challenge. Never throws.
   */
  forget?(subject: string): Promise<void>;
  close?(): Promise<void>;
}

/** A judged proof as the sweep checks it again: whose, what was proven, and how to find it. */
export interface RecheckedProof {
  account: string;
  field: Field;
  subject: string;
  serviceId?: string;
  nonce?: string;
  postUrl?: string;
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
