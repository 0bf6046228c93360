/**
 * Challenges and proofs: a challenge is made for one field's subject, pinned to the request's
 * snapshot, and delivered by the field's channel. Every way of answering it (the link's Confirm
 * button, a code sent to a bot or typed on a page, a sign-in, a published line, a signature, a
 * review) ends in `answer`, which names the way: the field's channel must accept that way
 * (domain/answers.ts), the answer's subject must be the challenge's, the challenge is used once,
 * and the field is confirmed by compare-and-set against the request's current snapshot.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type {
  Channel,
  CodeSender,
  LiveChallenge,
  PageChallenge,
  ProofOutcome,
  ProofSink,
} from '../channels/channel.js';
import { type AnswerWay, accepts, deliversCode } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import {
  type Challenge,
  isLiveChallenge,
  isProving,
  type JudgementRequest,
  type ProofSource,
} from '../domain/request.js';
import { parseSubject } from '../domain/subjects.js';
import { confirmField, labelOf } from '../domain/verification.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import type { HandleGuard } from './handles.js';
import type { RegistrarMetrics } from './metrics.js';
import { clientOf, Throttle, throttleKey, WRONG_CODES } from './throttle.js';
import type { ChallengeTokens } from './tokens.js';
import { updateWithRetry } from './updates.js';

export interface ProofsOptions {
  store: Store;
  channels: ReadonlyMap<Field, Channel>;
  tokens: ChallengeTokens;
  registrarIndex: number;
  publicUrl: string;
  challengeTtlMs: number;
  log: Logger;
  now: () => number;
  /** Called with a request whose field was just confirmed. */
  confirmed: (request: JudgementRequest) => void;
  /** Called when challenges were queued for delivery (the outbox delivers them). */
  queued: () => void;
  /** Wrong codes from the subject itself (a bot's vouched sender) after which its challenges are voided. */
  codeAttempts: number;
  metrics: RegistrarMetrics;
  /** One account per handle: absent, no handle is compared. */
  handles?: HandleGuard;
}

export type LinkCheck =
  | {
      ok: true;
      account: string;
      field: Field;
      label: string;
      value: string;
      display?: string;
    }
  /** `account`: whose link it was, when the link itself says so (its signature checked). */
  | { ok: false; message: string; account?: string };

export const REFUSALS = {
  invalid: 'This link is not valid. Check that you opened the whole link from the message.',
  expired: 'This link has expired. Ask for a new one from the status page or request a judgement again.',
  unknown: 'This link is not known to this registrar.',
  used: 'This link was already used. Each link works once.',
  voided: 'This link is no longer valid: the request it belongs to was changed or ended.',
  stale:
    'This link was made for an earlier version of your identity. A new link was sent for the current one.',
  closed: 'The judgement request this link belongs to is no longer open.',
  'not-awaiting': 'This field does not need confirming (any more).',
  'other-subject': 'This answer came from an account other than the one set in the identity.',
  'other-member':
    'This code was sent from another Discord account than the one the message went to, so nothing was confirmed. Send it from the account that received it, or ask for a new message from the status page.',
  'other-sender': (label: string) =>
    `A code for this field was sent from another ${label.replace(/ account$/, ' ID')} than the one set in the identity, so nothing was confirmed. Send the code from the one in the identity, or open the link in the message.`,
  'wrong-code': 'This code is not valid for this field. Check the code in the latest message.',
  'wrong-way':
    'This field cannot be confirmed this way. Follow the steps its status page gives for it (a link or code sent to you, a sign-in, a published line or a signature).',
  'locked-out':
    'Too many wrong codes: the codes sent so far no longer work. Ask for a new message from your status page.',
} as const;

/** How often a person may ask for new links. */
export const RESEND_INTERVAL_MS = 5 * 60_000;

/** What the person saw of the field they confirm or reject: the identity's hash, or the value. */
export interface SeenByReviewer {
  identityHash?: string;
  value?: string;
}

/** A typed code refused because this client tried too many wrong ones: when it may try again. */
export type CodeOutcome = ProofOutcome | { ok: false; message: string; retryAt: number };

export type ResendOutcome =
  | { kind: 'sent'; fields: Field[] }
  | { kind: 'limited'; retryAt: number }
  | { kind: 'none' };

const hashOf = (code: string) => createHash('sha256').update(code).digest();

/** Whether `code` (as typed: any case, spaces and dashes ignored) is the challenge's, in constant time. */
function codeMatches(challenge: Challenge, code: string): boolean {
  if (!challenge.codeHash) return false;
  const typed = hashOf(code.replace(/[\s-]/g, '').toUpperCase());
  return timingSafeEqual(typed, Buffer.from(challenge.codeHash, 'hex'));
}

export class Proofs implements Omit<ProofSink, 'allowReply'> {
  /** When each account last asked for new links. */
  private readonly resent = new Map<string, number>();
  private readonly throttle: Throttle;

  constructor(private readonly o: ProofsOptions) {
    this.throttle = new Throttle(o.now, WRONG_CODES);
  }

  /** Whether `field`'s channel accepts an answer that came `way` (domain/answers.ts). */
  private accepts(field: Field, way: AnswerWay): boolean {
    const channel = this.o.channels.get(field);
    return channel !== undefined && accepts(channel.means, way);
  }

  /**
   * The person asks again for links that expired or never arrived. Only fields without a live
   * challenge get one, and at most once per RESEND_INTERVAL_MS per account; a request that sends
   * nothing does not count.
   */
  async resend(account: string): Promise<ResendOutcome> {
    const request = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (!request || !isProving(request.status)) return { kind: 'none' };
    const last = this.resent.get(account);
    if (last !== undefined && this.o.now() - last < RESEND_INTERVAL_MS) {
      return { kind: 'limited', retryAt: last + RESEND_INTERVAL_MS };
    }
    const fields = await this.fieldsWithoutLiveChallenge(request);
    // Asking when every link still works sends nothing, so it starts no wait either.
    if (fields.length === 0) return { kind: 'sent', fields };
    this.resent.set(account, this.o.now());
    await this.issue(request, fields);
    return { kind: 'sent', fields };
  }

  /**
   * An operator reviewed a field that only a person can check (legal name, image): confirmed, it is
   * proven like any other answer to its challenge; rejected, it fails with the operator's note.
   */
  async review(
    account: string,
    field: Field,
    decision: 'confirm' | 'reject',
    note: string,
    reviewer: string,
    seen: SeenByReviewer,
  ): Promise<ProofOutcome> {
    const request = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    // Who decided what, when, for which identity: the audit log keeps it beside the judgements.
    const audit = (identityHash: string) =>
      this.o.store.appendReview({
        account,
        registrarIndex: this.o.registrarIndex,
        field,
        decision,
        reviewer,
        identityHash,
        at: this.o.now(),
      });
    if (field === 'display') return this.allowDisplay(account, decision, reviewer, seen, audit);
    const state = request?.fields[field];
    if (!request || state?.status !== 'awaiting' || !this.accepts(field, 'review')) {
      return { ok: false, message: `the ${labelOf(field)} of this account is not waiting for a review` };
    }
    // What the operator looked at must be what is decided on: an edit since then is not theirs.
    const changed = changedSince(seen, request.snapshot.hash, state.value);
    if (changed) {
      return {
        ok: false,
        message: `${changed}; the ${labelOf(field)} is now "${state.value}" (identity ${request.snapshot.hash}). Look at it again and review that.`,
      };
    }
    if (decision === 'confirm') {
      const live = await this.liveChallenge(request, field);
      if (!live || live.snapshotHash !== request.snapshot.hash)
        return {
          ok: false,
          message: 'no review is open for this field; run `registrar rescan` and try again',
        };
      const answered = await this.answer(live.id, live.subject, 'review');
      if (answered.ok) await audit(live.snapshotHash);
      return answered;
    }
    const updated = await updateWithRetry(this.o.store, request.id, (current) => {
      const held = current.fields[field];
      if (!isProving(current.status) || held?.status !== 'awaiting') return undefined;
      // Rejected only as the operator saw it.
      if (current.snapshot.hash !== request.snapshot.hash) return undefined;
      return {
        ...current,
        fields: {
          ...current.fields,
          [field]: {
            status: 'failed',
            value: held.value,
            reason: `the registrar could not verify the ${labelOf(field)}${note ? `: ${note}` : ''}`,
            hint: `Correct the ${labelOf(field)} in your identity (the request is checked again), or contact the registrar.`,
          },
        },
        updatedAt: this.o.now(),
      };
    });
    if (!updated) return { ok: false, message: 'the request changed meanwhile; look again' };
    await this.o.store.voidChallenges(request.id, this.o.now(), [field]);
    await audit(updated.snapshot.hash);
    this.o.log.info({ account, field }, 'field rejected by the operator');
    return { ok: true, account, field };
  }

  /**
   * The operator allows a display name the guard flagged as like a judged name, for this account:
   * its name is honestly its own (an organisation's other account). The allowance is the field's
   * confirmation, kept while the display name stays as it is (verification.ts).
   */
  private async allowDisplay(
    account: string,
    decision: 'confirm' | 'reject',
    reviewer: string,
    seen: SeenByReviewer,
    audit: (identityHash: string) => Promise<void>,
  ): Promise<ProofOutcome> {
    const request = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    const state = request?.fields.display;
    if (!request || state?.status !== 'failed' || state.lookAlike !== true) {
      return { ok: false, message: 'the display name of this account was not flagged as a look-alike' };
    }
    if (decision !== 'confirm') {
      return { ok: false, message: 'a flagged display name is refused already: only --confirm allows it' };
    }
    const changed = changedSince(seen, request.snapshot.hash, state.value);
    if (changed) {
      return {
        ok: false,
        message: `${changed}; the display name is now "${state.value}" (identity ${request.snapshot.hash}). Look at it again and review that.`,
      };
    }
    const subject = parseSubject('display', state.value);
    if (!subject.ok) return { ok: false, message: subject.reason };
    const updated = await updateWithRetry(this.o.store, request.id, (current) => {
      const held = current.fields.display;
      if (!isProving(current.status) || current.snapshot.hash !== request.snapshot.hash) return undefined;
      if (held?.status !== 'failed' || held.lookAlike !== true) return undefined;
      return {
        ...current,
        fields: {
          ...current.fields,
          display: {
            status: 'confirmed',
            value: held.value,
            subject: subject.subject,
            confirmedAt: this.o.now(),
            allowedBy: reviewer,
          },
        },
        updatedAt: this.o.now(),
      };
    });
    if (!updated) return { ok: false, message: 'the request changed meanwhile; look again' };
    await audit(updated.snapshot.hash);
    this.o.log.info({ account, field: 'display' }, 'flagged display name allowed by the operator');
    this.o.confirmed(updated);
    return { ok: true, account, field: 'display' };
  }

  /**
   * A proof tried for challenge `challengeId` was refused: the reason is kept on its field (the last
   * one only, and written only when it changed), for the status page and its live stream.
   */
  async refused(challengeId: string, reason: string): Promise<void> {
    const challenge = await this.o.store.getChallenge(challengeId);
    if (!challenge) return;
    await updateWithRetry(this.o.store, challenge.requestId, (request) => {
      const state = request.fields[challenge.field];
      if (!isProving(request.status) || state?.status !== 'awaiting' || state.refusal?.reason === reason) {
        return undefined;
      }
      return {
        ...request,
        fields: { ...request.fields, [challenge.field]: { ...state, refusal: { reason, at: this.o.now() } } },
        updatedAt: this.o.now(),
      };
    });
  }

  private async liveChallenge(request: JudgementRequest, field: Field): Promise<Challenge | undefined> {
    const now = this.o.now();
    return (await this.o.store.listChallenges(request.id)).find(
      (c) => c.field === field && isLiveChallenge(c, now),
    );
  }

  /** Makes and stores a challenge for each of `fields` that awaits one; the outbox delivers it. */
  async issue(request: JudgementRequest, fields: readonly Field[]): Promise<void> {
    // Nothing is sent on behalf of an account the registrar refuses.
    if (request.conditions?.some((c) => c.refusedUntil !== undefined)) return;
    let queued = 0;
    for (const field of fields) {
      const state = request.fields[field];
      const channel = this.o.channels.get(field);
      if (!channel || state?.status !== 'awaiting') continue;
      const now = this.o.now();
      const id = randomUUID();
      await this.o.store.insertChallenge({
        id,
        requestId: request.id,
        account: request.account,
        field,
        snapshotHash: request.snapshot.hash,
        subject: state.subject,
        // Only a code delivered privately is a secret; a page's challenge has none to type.
        ...(deliversCode(channel.means)
          ? { codeHash: hashOf(this.o.tokens.codeFor(id)).toString('hex') }
          : {}),
        createdAt: now,
        expiresAt: now + this.o.challengeTtlMs,
        nextDeliveryAt: now,
      });
      queued += 1;
      this.o.log.info({ account: request.account, field, challenge: id }, 'challenge queued');
    }
    if (queued > 0) this.o.queued();
  }

  /**
   * Unconfirmed fields whose every challenge is used up, void or expired, or was never delivered
   * (the service was down): they get a new one.
   */
  async fieldsWithoutLiveChallenge(request: JudgementRequest): Promise<Field[]> {
    const now = this.o.now();
    const live = new Set(
      (await this.o.store.listChallenges(request.id))
        .filter((c) => isLiveChallenge(c, now))
        .map((c) => c.field),
    );
    return (Object.keys(request.fields) as Field[]).filter(
      (field) =>
        request.fields[field]?.status === 'awaiting' && this.o.channels.has(field) && !live.has(field),
    );
  }

  /** What the page behind a challenge link shows. Changes nothing. */
  async checkLink(token: string): Promise<LinkCheck> {
    const inspected = await this.inspectLink(token);
    return inspected.ok ? inspected.link : inspected;
  }

  /** The person pressed Confirm: the link was delivered to the challenge's subject. */
  async confirm(token: string): Promise<LinkCheck> {
    const inspected = await this.inspectLink(token);
    if (!inspected.ok) return inspected;
    const answered = await this.answer(inspected.challenge.id, inspected.challenge.subject, 'link');
    return answered.ok ? inspected.link : { ...answered, account: inspected.link.account };
  }

  /**
   * A channel heard `code` from `subject` (the service vouches for the sender). `countsWrong`: a wrong
   * code counts towards voiding the subject's codes only where the channel says it was meant as one
   * (its direct room with the bot, not a shared room where chat can look like a code). `serviceId`:
   * the service's own ID of the sender, kept with the proof (a Discord bot's DM).
   */
  async answerCode(
    field: Field,
    subject: string,
    code: string,
    { countsWrong = true, serviceId }: CodeSender = {},
  ): Promise<ProofOutcome> {
    if (!this.accepts(field, 'sender-code')) return { ok: false, message: REFUSALS['wrong-way'] };
    const live = await this.o.store.findLiveChallenges(field, subject, this.o.now());
    const challenge = live.find((c) => codeMatches(c, code));
    if (!challenge)
      return countsWrong ? this.wrongCode(live) : { ok: false, message: REFUSALS['wrong-code'] };
    // The handle passed to another account since the message went out: the code left the account
    // it was sent to, and the one sending it never received it. Refused, not counted as wrong.
    if (serviceId !== undefined && challenge.deliveredTo !== undefined && serviceId !== challenge.deliveredTo)
      return { ok: false, message: REFUSALS['other-member'] };
    return this.answer(challenge.id, subject, 'sender-code', serviceId === undefined ? {} : { serviceId });
  }

  async liveChallenges(field: Field, subject: string): Promise<LiveChallenge[]> {
    return (await this.o.store.findLiveChallenges(field, subject, this.o.now())).map((c) => ({
      id: c.id,
      account: c.account,
      expiresAt: c.expiresAt,
    }));
  }

  /**
   * `sender` sent one of `subject`'s codes: a code proves nothing from anyone but the subject, so it
   * is refused and the refusal kept on the field (the person learns why nothing happened). Voids
   * nothing: a stranger who saw the code cannot lock the person out by sending it.
   */
  async codeFromOther(
    field: Field,
    subject: string,
    sender: string,
    code: string,
  ): Promise<ProofOutcome | undefined> {
    if (sender === subject || !this.accepts(field, 'sender-code')) return undefined;
    const live = await this.o.store.findLiveChallenges(field, subject, this.o.now());
    const challenge = live.find((c) => codeMatches(c, code));
    if (!challenge) return undefined;
    const message = REFUSALS['other-sender'](labelOf(field));
    await this.refused(challenge.id, message);
    this.o.log.info({ account: challenge.account, field }, 'code refused: sent by another sender');
    return { ok: false, message };
  }

  /**
   * A wrong code counts against every challenge it could have been for; at the limit they are
   * voided, so guessing ends long before 40 bits are worn down.
   */
  private async wrongCode(live: readonly Challenge[]): Promise<ProofOutcome> {
    const count = await this.o.store.recordWrongCode(live.map((c) => c.id));
    if (count < this.o.codeAttempts) return { ok: false, message: REFUSALS['wrong-code'] };
    const now = this.o.now();
    for (const c of live) await this.o.store.voidChallenges(c.requestId, now, [c.field]);
    this.o.log.warn(
      { field: live[0]?.field, challenges: live.length },
      'too many wrong codes; challenges voided',
    );
    return { ok: false, message: REFUSALS['locked-out'] };
  }

  /**
   * Someone typed the code of `field` on the registrar's public form for `account`, from `client`
   * (an address). Only a field whose code was delivered privately takes one; a wrong code voids
   * nothing (anyone can type here) but makes that client (its IPv6 /64) wait longer before its next try.
   */
  async answerCodeOf(account: string, field: Field, code: string, client: string): Promise<CodeOutcome> {
    if (!this.accepts(field, 'typed-code')) return { ok: false, message: REFUSALS['wrong-way'] };
    const key = throttleKey(account, field, clientOf(client));
    const waitUntil = this.throttle.waitUntil(key);
    if (waitUntil !== undefined) return tooManyTries(waitUntil);
    // Counted before the store is asked, so that tries sent at once cannot all pass the check above.
    const next = this.throttle.count(key);
    const request = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    const now = this.o.now();
    const live = request
      ? (await this.o.store.listChallenges(request.id)).filter(
          (c) => c.field === field && isLiveChallenge(c, now),
        )
      : [];
    const challenge = live.find((c) => codeMatches(c, code));
    if (!challenge)
      return next === undefined ? { ok: false, message: REFUSALS['wrong-code'] } : tooManyTries(next);
    this.throttle.forget(key);
    return this.answer(challenge.id, challenge.subject, 'typed-code');
  }

  /**
   * The one entry for every proof: challenge `challengeId` was answered by `subject`. Checked
   * without writing first; then the challenge is used up (once) and the field confirmed
   * (compare-and-set against the current snapshot).
   */
  async answer(
    challengeId: string,
    subject: string,
    way: AnswerWay,
    given: ProofSource = {},
  ): Promise<ProofOutcome> {
    const checked = await this.inspectChallenge(challengeId, subject, way);
    if (!checked.ok) return checked;
    // A link or code delivered to an account the channel found by name answers as that account.
    const { deliveredTo } = checked.challenge;
    const source =
      given.serviceId === undefined && deliveredTo !== undefined
        ? { ...given, serviceId: deliveredTo }
        : given;
    // Before the challenge is used up: a refused proof leaves the field waiting, with the reason.
    const taken = await this.o.handles?.reserve(
      checked.request,
      checked.challenge.field,
      subject,
      source.serviceId,
    );
    if (taken) {
      await this.refused(challengeId, taken);
      return { ok: false, message: taken };
    }
    const consumed = await this.o.store.consumeChallenge(challengeId, this.o.now());
    if (!consumed.ok) {
      await this.o.handles?.withdraw(checked.request, checked.challenge.field);
      return { ok: false, message: REFUSALS[consumed.reason] };
    }
    const { challenge } = consumed;
    const updated = await updateWithRetry(this.o.store, challenge.requestId, (request) => {
      const verdict = confirmField(
        request,
        challenge.field,
        challenge.snapshotHash,
        subject,
        this.o.now(),
        source,
      );
      return verdict.ok ? verdict.request : undefined;
    });
    if (!updated) {
      await this.o.handles?.withdraw(checked.request, challenge.field);
      return { ok: false, message: REFUSALS.stale };
    }
    this.o.metrics.fieldConfirmed(challenge.field);
    this.o.log.info({ account: updated.account, field: challenge.field }, 'field confirmed');
    this.o.confirmed(updated);
    return { ok: true, account: updated.account, field: challenge.field };
  }

  /** `way`: how the answer came, which the field's channel must accept; absent, any way it takes. */
  private async inspectChallenge(
    challengeId: string,
    subject: string,
    way?: AnswerWay,
  ): Promise<{ ok: true; challenge: Challenge; request: JudgementRequest } | { ok: false; message: string }> {
    const challenge = await this.o.store.getChallenge(challengeId);
    if (!challenge) return { ok: false, message: REFUSALS.unknown };
    if (way !== undefined && !this.accepts(challenge.field, way)) {
      return { ok: false, message: REFUSALS['wrong-way'] };
    }
    if (challenge.usedAt !== undefined) return { ok: false, message: REFUSALS.used };
    if (challenge.voidedAt !== undefined) return { ok: false, message: REFUSALS.voided };
    if (challenge.expiresAt <= this.o.now()) return { ok: false, message: REFUSALS.expired };
    if (challenge.subject !== subject) return { ok: false, message: REFUSALS['other-subject'] };
    const request = await this.o.store.getRequest(challenge.requestId);
    if (!request) return { ok: false, message: REFUSALS.unknown };
    const verdict = confirmField(request, challenge.field, challenge.snapshotHash, subject, this.o.now());
    if (!verdict.ok) return { ok: false, message: REFUSALS[verdict.reason] };
    return { ok: true, challenge, request };
  }

  /**
   * The challenge a person answers on the registrar's own page (a sign-in, a signature, a published
   * code) for `account`'s `field`. Changes nothing.
   */
  async pageChallenge(account: string, field: Field): Promise<PageChallenge> {
    if (!this.o.channels.get(field)?.page) return { ok: false, message: REFUSALS['wrong-way'] };
    const request = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (request?.fields[field]?.status !== 'awaiting') {
      return { ok: false, message: REFUSALS['not-awaiting'] };
    }
    const live = await this.liveChallenge(request, field);
    if (!live) return { ok: false, message: REFUSALS.expired };
    return this.describe(live.id);
  }

  /** What a challenge is for, if it can still be answered. Changes nothing. */
  async describe(challengeId: string): Promise<PageChallenge> {
    const challenge = await this.o.store.getChallenge(challengeId);
    if (!challenge) return { ok: false, message: REFUSALS.unknown };
    const inspected = await this.inspectChallenge(challenge.id, challenge.subject);
    if (!inspected.ok) return inspected;
    const state = inspected.request.fields[challenge.field];
    // The page a person confirms on names the requester by a display name only once it is proven.
    const display = inspected.request.fields.display;
    return {
      ok: true,
      challengeId: challenge.id,
      account: challenge.account,
      field: challenge.field,
      label: labelOf(challenge.field),
      subject: challenge.subject,
      value: state && 'value' in state ? state.value : '',
      ...(display?.status === 'confirmed' ? { display: display.value } : {}),
      issuedAt: challenge.createdAt,
      nonce: this.o.tokens.nonceFor(challenge.id),
    };
  }

  /** Token, challenge and request, checked without writing anything. */
  private async inspectLink(
    token: string,
  ): Promise<
    | { ok: true; challenge: Challenge; link: LinkCheck & { ok: true } }
    | { ok: false; message: string; account?: string }
  > {
    const checked = this.o.tokens.check(token, this.o.now());
    // An expired link's signature still holds: its refusal can lead to its account's status page.
    if (!checked.ok) {
      return {
        ok: false,
        message: REFUSALS[checked.reason],
        ...('account' in checked && checked.account !== undefined ? { account: checked.account } : {}),
      };
    }
    const { claims } = checked;
    const refused = (message: string) => ({ ok: false as const, message, account: claims.account });
    const challenge = await this.o.store.getChallenge(claims.challengeId);
    if (!challenge) return refused(REFUSALS.unknown);
    if (!this.accepts(challenge.field, 'link')) return refused(REFUSALS.invalid);
    if (
      challenge.account !== claims.account ||
      challenge.field !== claims.field ||
      challenge.snapshotHash !== claims.snapshotHash
    ) {
      return refused(REFUSALS.invalid);
    }
    const described = await this.describe(challenge.id);
    if (!described.ok) return refused(described.message);
    const { account, field, label, value, display } = described;
    return {
      ok: true,
      challenge,
      link: { ok: true, account, field, label, value, ...(display === undefined ? {} : { display }) },
    };
  }
}

function tooManyTries(retryAt: number): CodeOutcome {
  return {
    ok: false,
    message: `Too many wrong codes from your address for this field. Try again after ${new Date(retryAt).toUTCString()}, or open the link in the message instead.`,
    retryAt,
  };
}

/** Why what a reviewer saw is no longer what the field holds, or undefined when it still is. */
function changedSince(seen: SeenByReviewer, identityHash: string, value: string): string | undefined {
  if (seen.identityHash === undefined && seen.value === undefined) {
    return 'say what you reviewed (the identity hash or the value)';
  }
  if (seen.identityHash !== undefined && seen.identityHash.toLowerCase() !== identityHash) {
    return `the identity changed since you looked (you saw ${seen.identityHash})`;
  }
  if (seen.value !== undefined && seen.value !== value) {
    return `the value changed since you looked (you saw "${seen.value}")`;
  }
  return undefined;
}
