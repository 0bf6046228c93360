/**
 * A field that names an account on a service (X, GitHub, Discord), proven on the registrar's site:
 * by signing in with the service (sign-in.ts), or, where the operator turned it on, by a public post
 * of the code that the registrar reads back (an X post through oEmbed, a GitHub gist). Nothing is
 * sent to anyone.
 */
import type { ChannelMeans } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import type { CheckAnswer } from '../domain/sweep.js';
import type {
  ChallengeMessage,
  Channel,
  PageChallenge,
  PageProof,
  ProofSink,
  RecheckedProof,
} from './channel.js';
import type { SignInService } from './sign-in.js';

/** A public post of the challenge's line, checked by reading it back from the service. */
export interface PostedProof {
  /** For the page: where to post, e.g. "a public post on X". */
  readonly where: string;
  /** For the page: what to paste, e.g. "the post's address". */
  readonly what: string;
  /** Reads the post at `url` (as pasted); never throws. */
  check(challenge: PageChallenge & { ok: true }, url: string): Promise<PageProof>;
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
  send(message: ChallengeMessage): Promise<void>;
  close(): Promise<void>;
}

export class AccountChannel implements Channel {
  readonly means: readonly ChannelMeans[];
  /** Proven on the site when there is a sign-in or a post to check; a bot alone messages only. */
  readonly page: 'account' | undefined;
  /** With a bot, messages go out and count against the message limits; without, nothing is sent. */
  readonly messages: false | undefined;
  /**
   * The sweep, where the service says by numeric ID who an account is now (GitHub): the judged
   * handle still belongs to the account that signed in. Gone when the account is deleted or renamed.
   */
  readonly recheck: ((proof: RecheckedProof) => Promise<CheckAnswer>) | undefined;

  constructor(
    readonly field: Field,
    readonly signIn: SignInService | undefined,
    readonly post: PostedProof | undefined,
    private readonly messenger?: Messenger,
  ) {
    if (!signIn && !post && !messenger) throw new Error(`no way to prove the ${field} field was configured`);
    this.means = [
      ...(signIn ? (['sign-in'] as const) : []),
      ...(post ? (['post'] as const) : []),
      ...(messenger ? (['message', 'bot'] as const) : []),
    ];
    this.messages = messenger ? undefined : false;
    this.page = signIn || post ? 'account' : undefined;
    const byId = signIn?.accountById?.bind(signIn);
    this.recheck = byId && signIn ? (proof) => recheckById(signIn.name, byId, proof) : undefined;
  }

  async send(message: ChallengeMessage): Promise<void> {
    await this.messenger?.send(message);
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
  service: string,
  byId: NonNullable<SignInService['accountById']>,
  proof: RecheckedProof,
): Promise<CheckAnswer> {
  if (proof.serviceId === undefined)
    return { kind: 'unknown', reason: `no ${service} ID was kept for this proof` };
  const account = await byId(proof.serviceId);
  if (account.kind === 'unknown') return { kind: 'unknown', reason: account.reason };
  if (account.kind === 'none')
    return { kind: 'gone', reason: `the ${service} account that was proven no longer exists` };
  if (account.subject !== proof.subject) {
    return {
      kind: 'gone',
      reason: `the ${service} account that was proven no longer has the handle ${proof.subject}`,
    };
  }
  return { kind: 'holds' };
}
