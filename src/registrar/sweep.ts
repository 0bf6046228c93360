/**
 * The sweep: judged proofs checked again without the person, on a schedule spread evenly over the
 * period (domain/sweep.ts decides; this file reads, checks and writes). A judgement's proofs are
 * kept when the chain shows it final and deleted when it no longer stands; a proof definitely gone
 * gets a grace, and one still gone at its end gets OutOfDate through the operator's path (pinned to
 * the identity hash judged, written to the audit log with the reason). An unreachable service or
 * chain changes nothing.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { Channel } from '../channels/channel.js';
import type { Field } from '../domain/fields.js';
import type { GraceNotice } from '../domain/grace-notice.js';
import type { OperatorInfo } from '../domain/operator.js';
import type { JudgementRequest } from '../domain/request.js';
import {
  afterCheck,
  type CheckAnswer,
  checksPerTick,
  firstCheckAt,
  type JudgedProof,
  retryAfter,
  type SweepStep,
  type SweepTimes,
} from '../domain/sweep.js';
import type { Store } from '../store/store.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import { withTimeout } from '../support/timeout.js';
import type { Judging } from './judging.js';
import type { ChainReader } from './lifecycle.js';
import type { RegistrarMetrics } from './metrics.js';
import type { ChallengeTokens } from './tokens.js';

/** The judgements a sweep keeps proofs for: the ones proofs earned. */
const STANDING = new Set(['Reasonable', 'KnownGood']);

/** Most proofs one pass by hand (`registrar sweep`) checks. */
export const PASS_LIMIT = 1_000;

/**
 * What one check found, as `registrar sweep` prints it. `outcome`: the step (domain/sweep.ts), or
 * dropped (the judgement no longer stands on chain), or out-of-date-failed (the judgement could
 * not be given; tried again later).
 */
export interface SweepFinding {
  account: string;
  field: Field;
  outcome: SweepStep['kind'] | 'dropped' | 'out-of-date-failed';
  reason?: string;
  graceUntil?: number;
}

export interface SweepOptions {
  store: Store;
  chain: Pick<ChainReader, 'identity'>;
  channels: ReadonlyMap<Field, Channel>;
  registrarIndex: number;
  times: SweepTimes;
  judging: Pick<Judging, 'judgeByHand'>;
  tokens: Pick<ChallengeTokens, 'nonceFor'>;
  metrics: RegistrarMetrics;
  log: Logger;
  now: () => number;
  /** For the notice of a grace: the status page's address and who runs the registrar. */
  publicUrl: string;
  operator: OperatorInfo;
  /** Bounds each notice's delivery (the outbox's send timeout). */
  sendTimeoutMs: number;
}

/** The fields whose channel can tell the person of a grace, in the order they are tried. */
const TOLD_BY: readonly Field[] = ['email', 'matrix'];

export class Sweep {
  /** The pass under way: one at a time, whether from the timer or by hand. */
  private running: Promise<SweepFinding[]> | undefined;
  /** When the checks of the last second began (performance.now()), oldest first. */
  private readonly starts: number[] = [];

  constructor(private readonly o: SweepOptions) {}

  /**
   * Our judgement of `request` is final: keep what each of its proven fields needs to be checked
   * again (only fields a channel can check again), replacing what an earlier judgement left.
   */
  async judged(request: JudgementRequest, judgement: string): Promise<void> {
    await this.o.store.deleteJudgedProofs(request.account, this.o.registrarIndex);
    if (!STANDING.has(judgement)) return;
    const at = this.o.now();
    const challenges = await this.o.store.listChallenges(request.id);
    for (const [field, state] of Object.entries(request.fields) as [
      Field,
      NonNullable<JudgementRequest['fields'][Field]>,
    ][]) {
      if (state.status !== 'confirmed' || !this.o.channels.get(field)?.recheck) continue;
      // A published line (a website's, a post's) names the account and the nonce of the challenge
      // it answered, and a post is read again where it was found; an account proven by signing in
      // is found again by the service's ID; a key by its fingerprint, the subject itself.
      const used = challenges.filter((c) => c.field === field && c.usedAt !== undefined).at(-1);
      const published = field === 'web' || state.postUrl !== undefined;
      if (published ? !used : field !== 'pgpFingerprint' && state.serviceId === undefined) continue;
      await this.o.store.saveJudgedProof({
        account: request.account,
        registrarIndex: this.o.registrarIndex,
        field,
        subject: state.subject,
        ...(state.serviceId === undefined ? {} : { serviceId: state.serviceId }),
        ...(published && used ? { nonce: this.o.tokens.nonceFor(used.id) } : {}),
        ...(state.postUrl === undefined ? {} : { postUrl: state.postUrl }),
        identityHash: request.snapshot.hash,
        judgedAt: at,
        nextCheckAt: firstCheckAt(at, this.o.times),
      });
    }
  }

  /**
   * Something happened to the account on chain (an edit, a clear, a new request, a judgement):
   * its judged proofs go if the judgement they came from no longer stands. Reads the chain only
   * for accounts with judged proofs.
   */
  async changed(account: string): Promise<void> {
    const [proof] = await this.o.store.listJudgedProofs(account, this.o.registrarIndex);
    if (proof && (await this.stillStands(proof)) === false) await this.forget(account);
  }

  /** The account's judgement no longer stands (edited, cleared, asked again): its proofs go. */
  private async forget(account: string): Promise<void> {
    const deleted = await this.o.store.deleteJudgedProofs(account, this.o.registrarIndex);
    if (deleted > 0) this.o.log.info({ account, proofs: deleted }, 'judged proofs no longer kept');
  }

  /**
   * One tick of the schedule: at most the tick's even share of the period, spaced evenly across
   * the tick, so a backlog never becomes a burst.
   */
  tick(tickMs: number, signal?: AbortSignal): Promise<SweepFinding[]> {
    return this.once(async () => {
      const { proofs } = await this.o.store.countJudgedProofs(this.o.registrarIndex);
      const limit = checksPerTick(proofs, tickMs, this.o.times);
      return this.checkDue(
        limit,
        { perSecond: Math.ceil((limit * 1000) / tickMs), spacingMs: tickMs / limit },
        signal,
      );
    });
  }

  /** A pass by hand (`registrar sweep`): what is due now, up to PASS_LIMIT, one check at a time. */
  pass(): Promise<SweepFinding[]> {
    return this.once(() => this.checkDue(PASS_LIMIT));
  }

  private async once(work: () => Promise<SweepFinding[]>): Promise<SweepFinding[]> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = work();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** `pace`: the rate the checks keep to (the timer's ticks); none for a pass by hand, one check at a time. */
  private async checkDue(
    limit: number,
    pace?: { perSecond: number; spacingMs: number },
    signal?: AbortSignal,
  ): Promise<SweepFinding[]> {
    const due = await this.o.store.dueJudgedProofs(this.o.registrarIndex, this.o.now(), limit);
    const findings: SweepFinding[] = [];
    /** Accounts given OutOfDate or dropped in this pass: their other proofs are gone with them. */
    const done = new Set<string>();
    for (const proof of due) {
      if (signal?.aborted) break;
      if (pace) await this.paced(pace, signal);
      if (signal?.aborted) break;
      if (done.has(proof.account)) continue;
      const finding = await this.check(proof).catch((error: unknown) => {
        this.o.log.error(
          { account: proof.account, field: proof.field, err: errorText(error) },
          'sweep check failed',
        );
        return undefined;
      });
      if (!finding) continue;
      findings.push(finding);
      if (finding.outcome === 'dropped' || finding.outcome === 'out-of-date') done.add(proof.account);
    }
    return findings;
  }

  /**
   * Waits until a check may begin: never more than `perSecond` begun in any second, from one tick
   * to the next too (a tick that ran late and the next one must not add up to a burst), and half a
   * spacing apart at least, so a second's share is spread over it rather than sent at its start.
   */
  private async paced(pace: { perSecond: number; spacingMs: number }, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = performance.now();
      while ((this.starts[0] ?? now) <= now - 1000) this.starts.shift();
      const last = this.starts.at(-1) ?? Number.NEGATIVE_INFINITY;
      const first = this.starts[0] ?? now;
      const early = Math.max(
        last + pace.spacingMs / 2 - now,
        this.starts.length >= pace.perSecond ? first + 1000 - now : 0,
      );
      if (early <= 0 || signal?.aborted) break;
      await wait(Math.ceil(early), undefined, { signal }).catch(() => undefined);
    }
    this.starts.push(performance.now());
  }

  /** Checks one judged proof again and acts on the answer. */
  private async check(proof: JudgedProof): Promise<SweepFinding> {
    const { account, field } = proof;
    const standing = await this.stillStands(proof);
    if (standing === 'unknown')
      return this.keep(proof, { kind: 'unknown', reason: 'the chain could not be read' });
    if (!standing) {
      await this.forget(account);
      return { account, field, outcome: 'dropped', reason: 'the judgement no longer stands on chain' };
    }
    const channel = this.o.channels.get(field);
    // A channel no longer configured to check: asked again a period later, when it may be.
    const answer: CheckAnswer = channel?.recheck
      ? await channel.recheck({
          account,
          field,
          subject: proof.subject,
          ...(proof.serviceId === undefined ? {} : { serviceId: proof.serviceId }),
          ...(proof.nonce === undefined ? {} : { nonce: proof.nonce }),
          ...(proof.postUrl === undefined ? {} : { postUrl: proof.postUrl }),
        })
      : { kind: 'unknown', reason: 'no channel checks this field again now' };
    this.o.metrics.judgedProofChecked(field, answer.kind);
    return this.keep(proof, answer);
  }

  /** Applies a check's answer: writes the proof's next state, or gives OutOfDate at a grace's end. */
  private async keep(proof: JudgedProof, answer: CheckAnswer): Promise<SweepFinding> {
    const now = this.o.now();
    const step = afterCheck(proof, answer, now, this.o.times);
    const { account, field } = proof;
    const finding = (outcome: SweepFinding['outcome'], p: JudgedProof, reason?: string): SweepFinding => ({
      account,
      field,
      outcome,
      ...(reason === undefined ? {} : { reason }),
      ...(p.grace ? { graceUntil: p.grace.until } : {}),
    });
    if (step.kind !== 'out-of-date') {
      await this.o.store.saveJudgedProof(step.proof);
      if (step.kind === 'grace-started' || step.kind === 'restored') {
        this.o.metrics.sweepOutcome(step.kind);
        this.o.log.info(
          { account, field, outcome: step.kind, until: step.proof.grace?.until },
          'judged proof',
        );
      }
      if (step.kind === 'grace-started') await this.tell(step.proof);
      const reason = step.kind === 'unknown' ? step.reason : step.proof.grace?.reason;
      return finding(step.kind, step.proof, reason);
    }
    const reason = `the ${field} proof is gone: ${step.reason}`;
    const outcome = await this.o.judging.judgeByHand(
      account,
      proof.identityHash,
      'OutOfDate',
      'sweep',
      reason,
    );
    if (outcome.kind !== 'included') {
      // Not given (the chain refused or could not be reached): the grace stays, tried again later.
      await this.o.store.saveJudgedProof({ ...step.proof, nextCheckAt: now + retryAfter(this.o.times) });
      const why = outcome.kind === 'failed' ? outcome.error : outcome.kind;
      this.o.log.warn({ account, field, outcome: outcome.kind }, 'OutOfDate not given; tried again later');
      return finding('out-of-date-failed', step.proof, why);
    }
    this.o.metrics.sweepOutcome('out-of-date');
    await this.forget(account);
    return finding('out-of-date', step.proof, reason);
  }

  /**
   * Tells the person that a proof of theirs is gone and until when it can be restored, once, when
   * the grace starts: at the gone field's own account where its channel writes to the ID proven (a
   * Discord member by DM), and at the email address and Matrix ID proven for the same judgement. A
   * value the judgement did not prove is never written to. Nobody to tell, or a delivery that
   * fails, changes nothing: the status page shows the grace, and OutOfDate still waits for its end.
   */
  private async tell(proof: JudgedProof): Promise<void> {
    const grace = proof.grace;
    if (!grace) return;
    const request = await this.o.store
      .latestRequest(proof.account, this.o.registrarIndex)
      .catch(() => undefined);
    // The request judged (kept for the retention): its values are the ones proven.
    if (request?.status !== 'judged' || request.snapshot.hash !== proof.identityHash) return;
    const notice = {
      account: proof.account,
      field: proof.field,
      reason: grace.reason,
      until: grace.until,
      statusUrl: `${this.o.publicUrl}/status/${proof.account}`,
      operator: this.o.operator,
    };
    // Who is told: the gone field's own account, where its channel can write to it by the ID
    // proven (a Discord bot); the email address and Matrix ID proven with the same judgement.
    const to: [Field, Channel, GraceNotice][] = [];
    const own = this.o.channels.get(proof.field);
    if (own?.notify && proof.serviceId !== undefined)
      to.push([proof.field, own, { ...notice, subject: proof.subject, serviceId: proof.serviceId }]);
    for (const field of TOLD_BY) {
      const state = request.fields[field];
      const channel = this.o.channels.get(field);
      if (field === proof.field || state?.status !== 'confirmed' || !channel?.notify) continue;
      to.push([field, channel, { ...notice, subject: state.subject }]);
    }
    const told: Field[] = [];
    for (const [field, channel, message] of to) {
      try {
        if (channel.notify) await withTimeout(channel.notify(message), this.o.sendTimeoutMs);
        told.push(field);
      } catch (error) {
        this.o.log.warn(
          { account: proof.account, field: proof.field, by: field, err: errorText(error) },
          'grace notice not delivered',
        );
      }
    }
    this.o.log.info({ account: proof.account, field: proof.field, told }, 'grace notice');
  }

  /**
   * Whether our judgement that kept this proof still stands: the identity is the one judged and our
   * slot holds a judgement proofs earned. 'unknown' when the chain cannot be read now.
   */
  private async stillStands(proof: JudgedProof): Promise<boolean | 'unknown'> {
    try {
      const identity = await this.o.chain.identity(proof.account);
      if (!identity || identity.snapshot.hash !== proof.identityHash) return false;
      const slot = identity.judgements.find((j) => j.registrarIndex === this.o.registrarIndex);
      return slot !== undefined && STANDING.has(slot.judgement);
    } catch {
      return 'unknown';
    }
  }
}
