/**
 * A field that names an account on a service (X, GitHub, Discord), proven on the registrar's site:
 * by signing in with the service (sign-in.ts), or, where the operator turned it on, by a public post
 * of the code that the registrar reads back (an X post through oEmbed, a GitHub gist). Nothing is
 * sent to anyone.
 */
import type { ChannelMeans } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import type { GraceNotice } from '../domain/grace-notice.js';
import type { CheckAnswer } from '../domain/sweep.js';
import type {
  ChallengeMessage,
  Channel,
  Delivery,
  PageChallenge,
  PageProof,
  ProofSink,
  RecheckedProof,
} from './channel.js';
import type { SignInService } from './sign-in.js';

/** What a post is checked for: the line for `account` and `nonce`, posted by `subject`. */
export interface PostedLine {
  account: string;
  nonce: string;
  subject: string;
  /** The handle as the identity writes it, for the person's messages. */
  value: string;
}

/**
 * What reading a post found. holds: the line is there, posted by the account (its canonical
 * address kept to read it again); gone: the service answered, and it is not (no such post: 404 or
 * 410, another author, no line); unknown: the service could not be asked or gave no clear answer
 * (failed, limited, refused our token, or the address is not one of a post).
 */
export type PostReading =
  | { kind: 'holds'; subject: string; serviceId?: string; postUrl: string }
  | { kind: 'gone' | 'unknown'; message: string };

/** A public post of the challenge's line, checked by reading it back from the service. */
export interface PostedProof {
  /** For the page: where to post, e.g. "a public post on X". */
  readonly where: string;
  /** For the page: what to paste, e.g. "the post's address". */
  readonly what: string;
  /** Reads the post at `url` (as pasted, or as kept); never throws. */
  read(line: PostedLine, url: string): Promise<PostReading>;
}

/** Who an account is now, by the service's numeric ID, read without the person (the sweep). */
export type AccountById =
  | { kind: 'found'; subject: string }
  | { kind: 'none'; reason: string }
  | { kind: 'unknown'; reason: string };

/** A service's API that says who an account is by its numeric ID (GitHub, Discord with a bot, X with an app). */
export interface AccountLookup {
  /** As people know the service: "GitHub". */
  readonly service: string;
  /** none: the service says there is no such account (deleted, or suspended); never throws. */
  accountById(id: string): Promise<AccountById>;
}

/**
 * The line a post or a published file must hold: the account it proves the field for and the
 * challenge's nonce, so it can be read again later without the person and never proves the field
 * for another account. Public by design: it is no secret and never works as a code.
 */
export const proofLine = (c: { account: string; nonce: string }) =>
  `polkadot-registrar=${c.account}:${c.nonce}`;

/** A bot that also messages the account (Discord, for registrars that run a community server). */
export interface Messenger {
  start(sink: ProofSink): Promise<void>;
  send(message: ChallengeMessage): Promise<Delivery>;
  /** Tells the account with the notice's `serviceId` of a grace (the field's own account). */
  notify?(notice: GraceNotice): Promise<void>;
  close(): Promise<void>;
}

/** The ways one account field can be proven and checked again; at least one way to prove it. */
export interface AccountWays {
  signIn?: SignInService | undefined;
  post?: PostedProof | undefined;
  messenger?: Messenger | undefined;
  /** Where the sweep reads the account again by the service's ID. */
  accounts?: AccountLookup | undefined;
}

export class AccountChannel implements Channel {
  readonly means: readonly ChannelMeans[];
  /** Proven on the site when there is a sign-in or a post to check; a bot alone messages only. */
  readonly page: 'account' | undefined;
  /** With a bot, messages go out and count against the message limits; without, nothing is sent. */
  readonly messages: false | undefined;
  readonly signIn: SignInService | undefined;
  readonly post: PostedProof | undefined;
  /**
   * The sweep: a proof by a post is read again at its kept address; an account proven otherwise
   * is looked up by the service's numeric ID, where the operator gave a way to (`accounts`): the
   * judged handle must still belong to the account that signed in. Gone when the post or the line
   * is gone, or the account deleted, suspended or renamed.
   */
  readonly recheck: ((proof: RecheckedProof) => Promise<CheckAnswer>) | undefined;
  /** With a bot that can write to an account by its ID: the grace's notice, to the judged account. */
  readonly notify: ((notice: GraceNotice) => Promise<void>) | undefined;
  private readonly messenger: Messenger | undefined;

  constructor(
    readonly field: Field,
    ways: AccountWays,
  ) {
    const { signIn, post, messenger, accounts } = ways;
    if (!signIn && !post && !messenger) throw new Error(`no way to prove the ${field} field was configured`);
    this.signIn = signIn;
    this.post = post;
    this.messenger = messenger;
    this.means = [
      ...(signIn ? (['sign-in'] as const) : []),
      ...(post ? (['post'] as const) : []),
      ...(messenger ? (['message', 'bot'] as const) : []),
    ];
    this.messages = messenger ? undefined : false;
    this.page = signIn || post ? 'account' : undefined;
    this.recheck = post || accounts ? (proof) => this.checkAgain(proof, accounts) : undefined;
    this.notify = messenger?.notify?.bind(messenger);
  }

  /** A post pasted on the field's page: the proof, with the post's address kept, or why not. */
  async checkPost(c: PageChallenge & { ok: true }, url: string): Promise<PageProof> {
    if (!this.post) return { ok: false, message: 'This registrar does not read posts for this field.' };
    const reading = await this.post.read(c, url);
    if (reading.kind !== 'holds') return { ok: false, message: reading.message };
    const { subject, serviceId, postUrl } = reading;
    return { ok: true, subject, postUrl, ...(serviceId === undefined ? {} : { serviceId }) };
  }

  private async checkAgain(proof: RecheckedProof, accounts: AccountLookup | undefined): Promise<CheckAnswer> {
    const { postUrl, nonce, serviceId } = proof;
    if (postUrl !== undefined && nonce !== undefined && this.post) {
      const line = { account: proof.account, nonce, subject: proof.subject, value: proof.subject };
      const reading = await this.post.read(line, postUrl);
      if (reading.kind === 'holds') return { kind: 'holds' };
      return { kind: reading.kind, reason: reading.message };
    }
    if (serviceId !== undefined && accounts) return recheckById(accounts, { ...proof, serviceId });
    return { kind: 'unknown', reason: `nothing configured checks this ${this.field} proof again` };
  }

  async send(message: ChallengeMessage): Promise<Delivery | undefined> {
    return this.messenger?.send(message);
  }

  async start(sink: ProofSink): Promise<void> {
    await this.messenger?.start(sink);
  }

  async close(): Promise<void> {
    await this.messenger?.close();
  }
}

/** Whether the account behind the judged handle (by the service's numeric ID) still holds it. */
async function recheckById(
  accounts: AccountLookup,
  proof: RecheckedProof & { serviceId: string },
): Promise<CheckAnswer> {
  const service = accounts.service;
  const account = await accounts.accountById(proof.serviceId);
  if (account.kind === 'none') return { kind: 'gone', reason: account.reason };
  if (account.kind === 'unknown') return account;
  if (account.subject !== proof.subject) {
    return {
      kind: 'gone',
      reason: `the ${service} account that was proven no longer has the handle ${proof.subject}`,
    };
  }
  return { kind: 'holds' };
}
