/**
 * The outbox: a challenge is stored first and delivered by this loop, apart from the chain's
 * events and the pages. Each channel has its own lane (its own pass over its own due messages), so
 * a mail server that never answers holds up nothing but its own mail: chat goes out meanwhile.
 * A challenge is delivered or tried again (with backoff) until it expires; after a crash the loop
 * finds it in the store. Message limits keep strangers from using the registrar to flood an address
 * they wrote into an identity: so many per target (one mailbox however it is spelled) and per
 * account a day, so many per mail domain a day, and a cooldown between two messages to one target.
 * A held-back message is due again when the limit allows it. A message carries no text the
 * requester chose that was not proven: the display name only once the guard confirmed it.
 */

import {
  type ChallengeMessage,
  type Channel,
  type Delivery,
  UndeliverableError,
} from '../channels/channel.js';
import { FIELDS, type Field } from '../domain/fields.js';
import type { OperatorInfo } from '../domain/operator.js';
import { type Challenge, isProving, type JudgementRequest } from '../domain/request.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import { TimeoutError, withTimeout } from '../support/timeout.js';
import type { RegistrarMetrics } from './metrics.js';
import type { ChallengeTokens } from './tokens.js';
import { errorText } from './updates.js';

const DAY_MS = 86_400_000;
/** Failed deliveries are tried again after 30 s, 1 min, 2 min, ... at most every 30 min. */
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 30 * 60_000;
/** How many due messages one pass takes; the next pass follows at once when there were more. */
const PASS_SIZE = 50;

export interface MessageLimits {
  perTargetPerDay: number;
  perAccountPerDay: number;
  /** Messages to one mail domain a day, whatever the mailbox: variants of one address cannot add up. */
  perDomainPerDay: number;
  /** Least time between two messages to one target. */
  cooldownMs: number;
  /** How long one delivery may take before it counts as failed. */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: MessageLimits = {
  perTargetPerDay: 3,
  perAccountPerDay: 10,
  perDomainPerDay: 1_000,
  cooldownMs: 10 * 60_000,
  timeoutMs: 30_000,
};

export interface OutboxOptions {
  store: Store;
  channels: ReadonlyMap<Field, Channel>;
  tokens: ChallengeTokens;
  registrarIndex: number;
  /** Who runs the registrar: every message names it. */
  operator: OperatorInfo;
  publicUrl: string;
  limits: MessageLimits;
  /** How long a link works, counted from its delivery. */
  challengeTtlMs: number;
  log: Logger;
  now: () => number;
  metrics: RegistrarMetrics;
  /** Whether a channel can deliver now (a bot that has started); its messages wait until it can. */
  ready?: (channel: Channel) => boolean;
}

/** One channel's queue: its fields, and its own pass so that nothing else waits on it. */
interface Lane {
  readonly fields: readonly Field[];
  running: Promise<void> | undefined;
  again: boolean;
}

export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private readonly lanes: readonly Lane[];
  /** Messages checked against the limits and not yet recorded, per limit: what other lanes count too. */
  private readonly unrecorded = new Map<string, number>();
  /** Between start and stop: kicks and ticks work the outbox. */
  private active = false;
  private closing = false;

  constructor(private readonly o: OutboxOptions) {
    const byChannel = new Map<Channel, Field[]>();
    for (const [field, channel] of o.channels)
      byChannel.set(channel, [...(byChannel.get(channel) ?? []), field]);
    // Challenges of a field no channel serves any more lapse in a lane of their own.
    const unserved = FIELDS.filter((field) => !o.channels.has(field));
    this.lanes = [...byChannel.values(), ...(unserved.length > 0 ? [unserved] : [])].map((fields) => ({
      fields,
      running: undefined,
      again: false,
    }));
  }

  /**
   * Works the outbox now and every `intervalMs` (held-back and failed messages come due). The first
   * pass tries every undelivered message whatever its backoff: a restart is when a mail server's
   * settings were fixed. The limits are checked again as always.
   */
  start(intervalMs = 5_000): void {
    if (this.active) return;
    this.active = true;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    for (const lane of this.lanes) {
      lane.running = this.pass(lane, true, true).finally(() => {
        lane.running = undefined;
        if (lane.again) this.kickLane(lane);
      });
    }
  }

  /** Something was queued: work every lane soon. Kicks during a lane's pass merge into one more pass. */
  kick(): void {
    for (const lane of this.lanes) this.kickLane(lane);
  }

  /** Waits for the passes under way, if any, to finish. */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.lanes.flatMap((lane) => (lane.running ? [lane.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Delivers everything due now and resolves when done (`Registrar.settle`, tests). */
  async flush(): Promise<void> {
    await this.idle();
    await Promise.all(this.lanes.map((lane) => this.pass(lane, false)));
  }

  async stop(): Promise<void> {
    this.active = false;
    this.closing = true;
    clearInterval(this.timer);
    await this.idle();
  }

  /**
   * A bot's reply to `subject` (about `account`'s challenge): sent only while the day's limits allow
   * one more message, and counted like a delivery. No cooldown: it answers what the person just
   * sent, which the challenge before it always is.
   */
  async allowReply(account: string, field: Field, subject: string): Promise<boolean> {
    const held = await this.limit(account, field, subject, false, true);
    try {
      if (held.at > this.o.now()) return false;
      const now = this.o.now();
      await this.o.store.recordMessage(this.o.tokens.targetKey(field, subject), account, now);
      const domain = this.o.tokens.domainKey(field, subject);
      if (domain !== undefined) await this.o.store.recordMessage(domain, '', now);
      return true;
    } finally {
      held.release();
    }
  }

  /** When the next message to this target and account may go: now, or later under the limits. */
  async allowedAt(account: string, field: Field, subject: string, cooldown = true): Promise<number> {
    return (await this.limit(account, field, subject, cooldown, false)).at;
  }

  /**
   * When the next message may go and, with `hold` when that is now, a hold on one message under
   * each of its limits until it is recorded or given up (`release`). Lanes check at the same
   * moment, each before the other's message is recorded: the holds make them count each other.
   */
  private async limit(
    account: string,
    field: Field,
    subject: string,
    cooldown: boolean,
    hold: boolean,
  ): Promise<{ at: number; release: () => void }> {
    const { limits } = this.o;
    const target = this.o.tokens.targetKey(field, subject);
    const domain = this.o.tokens.domainKey(field, subject);
    const since = this.o.now() - DAY_MS;
    const toTarget = await this.o.store.deliveryTimes({ target }, since);
    const toAccount = await this.o.store.deliveryTimes({ account }, since);
    const toDomain = domain === undefined ? [] : await this.o.store.deliveryTimes({ target: domain }, since);
    // From here on nothing is awaited: the check and the hold are one step.
    const now = this.o.now();
    const keys = [
      `target:${target}`,
      `account:${account}`,
      ...(domain === undefined ? [] : [`domain:${domain}`]),
    ];
    const [heldTarget = 0, heldAccount = 0, heldDomain = 0] = keys.map(
      (key) => this.unrecorded.get(key) ?? 0,
    );
    /** The deliveries of the day, and those held and not yet recorded as if sent now. */
    const withHeld = (times: readonly number[], held: number) => [...times, ...Array<number>(held).fill(now)];
    const targetTimes = withHeld(toTarget, heldTarget);
    let at = now;
    const last = targetTimes.at(-1);
    if (last !== undefined && cooldown) at = Math.max(at, last + limits.cooldownMs);
    /** When the oldest of the last `limit` deliveries leaves the day's window, if `limit` are there. */
    const freedAt = (times: readonly number[], limit: number) =>
      times.length >= limit ? (times[times.length - limit] ?? now) + DAY_MS : now;
    at = Math.max(
      at,
      freedAt(targetTimes, limits.perTargetPerDay),
      freedAt(withHeld(toAccount, heldAccount), limits.perAccountPerDay),
      freedAt(withHeld(toDomain, heldDomain), limits.perDomainPerDay),
    );
    if (!hold || at > now) return { at, release: () => undefined };
    for (const key of keys) this.unrecorded.set(key, (this.unrecorded.get(key) ?? 0) + 1);
    let released = false;
    return {
      at,
      release: () => {
        if (released) return;
        released = true;
        for (const key of keys) {
          const left = (this.unrecorded.get(key) ?? 1) - 1;
          if (left > 0) this.unrecorded.set(key, left);
          else this.unrecorded.delete(key);
        }
      },
    };
  }

  private kickLane(lane: Lane): void {
    if (!this.active) return;
    if (lane.running) {
      lane.again = true;
      return;
    }
    lane.running = this.work(lane).finally(() => {
      lane.running = undefined;
    });
  }

  private async work(lane: Lane): Promise<void> {
    do {
      lane.again = false;
      await this.pass(lane, true);
    } while (lane.again && this.active);
  }

  /** Delivers what is due in one lane, batch by batch, until nothing due is left. */
  private async pass(lane: Lane, stopWhenClosing = true, all = false): Promise<void> {
    const seen = new Set<string>();
    try {
      for (;;) {
        const due = (await this.o.store.dueDeliveries(this.o.now(), PASS_SIZE, all, lane.fields)).filter(
          (c) => !seen.has(c.id),
        );
        for (const c of due) seen.add(c.id);
        for (const challenge of due) {
          if (stopWhenClosing && this.closing) return;
          await this.deliver(challenge);
        }
        if (due.length === 0) return;
      }
    } catch (error) {
      // The store is unreachable: the next tick tries again; nothing was marked delivered.
      this.o.log.error({ err: errorText(error) }, 'outbox pass failed');
    }
  }

  private async deliver(challenge: Challenge): Promise<void> {
    const { store } = this.o;
    const channel = this.o.channels.get(challenge.field);
    const request = await store.getRequest(challenge.requestId);
    const state = request?.fields[challenge.field];
    if (
      !channel ||
      !request ||
      !isProving(request.status) ||
      request.snapshot.hash !== challenge.snapshotHash ||
      state?.status !== 'awaiting'
    ) {
      // Nothing to send any more (the request moved on, the channel is gone): let it lapse.
      await store.recordDelivery(challenge.id, {
        retryAt: challenge.expiresAt,
        attempts: challenge.deliveryAttempts ?? 0,
        expiresAt: challenge.expiresAt,
      });
      return;
    }
    // A bot still starting: its message stays due, not failed, and goes once the bot is up.
    if (this.o.ready && !this.o.ready(channel)) return;
    // A channel that messages nobody (a review, a proof on the site) needs no limit against spam.
    const held =
      channel.messages === false
        ? { at: 0, release: () => undefined }
        : await this.limit(challenge.account, challenge.field, challenge.subject, true, true);
    try {
      await this.send(challenge, request, channel, held.at);
    } finally {
      held.release();
    }
  }

  /** Sends `challenge`'s message if the limits allow it at once (`allowedAt`), and records how it went. */
  private async send(
    challenge: Challenge,
    request: JudgementRequest,
    channel: Channel,
    allowedAt: number,
  ): Promise<void> {
    const { store, log } = this.o;
    if (allowedAt > this.o.now()) {
      await store.recordDelivery(challenge.id, {
        retryAt: allowedAt,
        attempts: challenge.deliveryAttempts ?? 0,
        expiresAt: allowedAt + this.o.challengeTtlMs,
      });
      log.info(
        { account: challenge.account, field: challenge.field, at: new Date(allowedAt).toISOString() },
        'message held back by the message limits',
      );
      return;
    }
    // The link works for its full time from now, whatever time it spent waiting.
    const expiresAt = this.o.now() + this.o.challengeTtlMs;
    // A stranger's address gets no words the requester chose: the name only once it is confirmed.
    const display = request.fields.display;
    const message: ChallengeMessage = {
      account: challenge.account,
      ...(display?.status === 'confirmed' ? { display: display.value } : {}),
      field: challenge.field,
      subject: challenge.subject,
      link: `${this.o.publicUrl}/confirm/${this.o.tokens.issue({
        challengeId: challenge.id,
        account: challenge.account,
        field: challenge.field,
        snapshotHash: challenge.snapshotHash,
        expiresAt,
      })}`,
      code: this.o.tokens.codeFor(challenge.id),
      expiresAt,
      registrarIndex: this.o.registrarIndex,
      operator: this.o.operator,
    };
    let delivery: Delivery | undefined;
    try {
      delivery = (await withTimeout(channel.send(message), this.o.limits.timeoutMs)) ?? undefined;
    } catch (error) {
      const attempts = (challenge.deliveryAttempts ?? 0) + 1;
      const retryAt = this.o.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempts - 1));
      await store.recordDelivery(challenge.id, {
        retryAt,
        attempts,
        expiresAt: Math.max(challenge.expiresAt, retryAt + this.o.challengeTtlMs),
        ...(error instanceof UndeliverableError ? { problem: error.hint } : {}),
        ...(error instanceof TimeoutError ? { uncertain: true as const } : {}),
      });
      this.o.metrics.challengeUndelivered(challenge.field);
      log.error(
        { account: challenge.account, field: challenge.field, attempts, err: errorText(error) },
        'challenge could not be delivered; trying again later',
      );
      return;
    }
    const domain = this.o.tokens.domainKey(challenge.field, challenge.subject);
    await store.recordDelivery(challenge.id, {
      deliveredAt: this.o.now(),
      target: this.o.tokens.targetKey(challenge.field, challenge.subject),
      expiresAt,
      ...(domain === undefined ? {} : { also: [domain] }),
      // Whom it reached, unless an earlier try that timed out may have reached someone else.
      ...(delivery?.serviceId === undefined || challenge.deliveryUncertain
        ? {}
        : { deliveredTo: delivery.serviceId }),
    });
    this.o.metrics.challengeSent(challenge.field);
    log.info(
      { account: challenge.account, field: challenge.field, challenge: challenge.id },
      'challenge sent',
    );
  }
}
