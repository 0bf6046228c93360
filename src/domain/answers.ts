/**
 * The one table of which ways of answering a challenge each kind of channel accepts. A field is
 * confirmed only by the proof its own channel defines: what was delivered privately (a link, a
 * code), or the channel's own check (a sign-in, a published line read back by the registrar, a
 * signature, the operator's review). A line or text shown on a public page is never a secret, so no
 * page channel accepts a code, and no messaging channel accepts what a page shows.
 */

/** What a channel is built from; an account channel may combine several (a bot and a sign-in). */
export type ChannelMeans =
  /** Delivers a link and a code privately to the subject (email, Matrix, a Discord bot). */
  | 'message'
  /** Hears the delivered code back from the subject itself, the service vouching for the sender. */
  | 'bot'
  /** Signing in with the service as the subject (OAuth). */
  | 'sign-in'
  /** A public post by the subject holding the line, read back from the service (a gist, an X post). */
  | 'post'
  /** A line published at the subject (a website's file or DNS record), fetched by the registrar. */
  | 'published'
  /** A text signed by the subject's key (PGP). */
  | 'signature'
  /** The operator looks (legal name, image). */
  | 'review';

/** How an answer reached the registrar: each route and listener names its own. */
export type AnswerWay =
  /** The Confirm button behind a delivered link. */
  | 'link'
  /** A delivered code typed on the registrar's public code form. */
  | 'typed-code'
  /** A delivered code sent back by the subject, the service vouching for the sender. */
  | 'sender-code'
  | 'sign-in'
  | 'post'
  | 'published'
  | 'signature'
  | 'review';

const ACCEPTED: Record<ChannelMeans, readonly AnswerWay[]> = {
  message: ['link', 'typed-code'],
  bot: ['sender-code'],
  'sign-in': ['sign-in'],
  post: ['post'],
  published: ['published'],
  signature: ['signature'],
  review: ['review'],
};

/** Whether a channel built from `means` accepts an answer that came `way`. */
export function accepts(means: readonly ChannelMeans[], way: AnswerWay): boolean {
  return means.some((m) => ACCEPTED[m].includes(way));
}

/** Whether challenges of such a channel carry a code: only one that delivers it privately. */
export function deliversCode(means: readonly ChannelMeans[]): boolean {
  return accepts(means, 'typed-code') || accepts(means, 'sender-code');
}

const HOW: Record<ChannelMeans, string> = {
  message: 'a link and a code sent privately to it, which the person opens or types',
  bot: 'the code sent back by the account itself, the service vouching for the sender',
  'sign-in': 'signing in with the service as that account',
  post: 'a public post by that account holding a line that names the identity, read by the registrar',
  published: 'a line naming the identity published at it (a file or a DNS record), fetched by the registrar',
  signature: 'a text signed by that key',
  review: 'the operator’s own review of the value',
};

/** How a channel built from `means` proves its field, in words for the public policy. */
export function howProven(means: readonly ChannelMeans[]): string[] {
  return means.map((m) => HOW[m]);
}
