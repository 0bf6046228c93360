/**
 * Re-verification of judged proofs (the sweep), as pure decisions: when a judged proof is due, how
 * many checks a tick may make so that they are spread evenly over the period, and what a check's
 * answer means (still holds, gone for good, or unknown), with the grace period before OutOfDate.
 * Only a definite "gone", still gone when the grace ends, leads to OutOfDate: never an unreachable
 * service.
 */
import type { Field } from './fields.js';

/**
 * What is kept of one judged field so that it can be checked again without the person, for as
 * long as the judgement stands: the subject (handle, host, fingerprint), the service's numeric ID
 * where the proof came with one, and the published line's public nonce. Deleted when the
 * judgement is replaced, cleared or given OutOfDate.
 */
export interface JudgedProof {
  account: string;
  registrarIndex: number;
  field: Field;
  subject: string;
  /** The service's own ID of the account proven by a sign-in (GitHub, Discord, X). */
  serviceId?: string;
  /** The public nonce of the published line (`polkadot-registrar=<account>:<nonce>`). */
  nonce?: string;
  /** Where the line was posted (a gist, a post on X), for a proof by a post. */
  postUrl?: string;
  /** The identity the judgement was pinned to: an OutOfDate is given only while it is still this. */
  identityHash: string;
  judgedAt: number;
  /** When the proof is to be checked next. */
  nextCheckAt: number;
  /** When it was last checked, whatever the answer. */
  checkedAt?: number;
  /** Set while the proof is gone and the person has time to restore it. */
  grace?: Grace;
}

export interface Grace {
  since: number;
  until: number;
  /** What the check found (no personal data beyond the proven subject's own field). */
  reason: string;
}

/**
 * A check's answer. gone: the service answered, and the proof is not there (a definite answer);
 * unknown: the service could not be asked or gave no clear answer: nothing changes.
 */
export type CheckAnswer =
  | { kind: 'holds' }
  | { kind: 'gone'; reason: string }
  | { kind: 'unknown'; reason: string };

export interface SweepTimes {
  /** How often each judged proof is checked (REGISTRAR_RECHECK_JUDGED_DAYS). */
  periodMs: number;
  /** How long a gone proof has to come back before OutOfDate (REGISTRAR_GRACE_DAYS). */
  graceMs: number;
}

/** What a check led to. The proof is as it is to be kept (out-of-date: as it was, to be deleted). */
export type SweepStep =
  | { kind: 'holds'; proof: JudgedProof }
  | { kind: 'restored'; proof: JudgedProof }
  | { kind: 'grace-started'; proof: JudgedProof }
  | { kind: 'still-gone'; proof: JudgedProof }
  | { kind: 'out-of-date'; proof: JudgedProof; reason: string }
  | { kind: 'unknown'; proof: JudgedProof; reason: string };

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The first check of a proof judged at `judgedAt`: a period later, so judgements spread the checks. */
export function firstCheckAt(judgedAt: number, times: Pick<SweepTimes, 'periodMs'>): number {
  return judgedAt + times.periodMs;
}

/** An unknown answer is asked again this much later (an hour, or the period if shorter). */
export function retryAfter(times: Pick<SweepTimes, 'periodMs'>): number {
  return Math.min(times.periodMs, HOUR_MS);
}

/**
 * The most checks one tick of `tickMs` may make so that `count` judged proofs are each checked
 * once per period: the even rate, rounded up, at least one. A backlog (after downtime, or many
 * judged at once) is worked off at this rate, never in a burst.
 */
export function checksPerTick(count: number, tickMs: number, times: Pick<SweepTimes, 'periodMs'>): number {
  return Math.max(1, Math.ceil((count * tickMs) / times.periodMs));
}

/** How often the sweep ticks: a hundredth of the period, between a second and a minute. */
export function sweepTick(times: Pick<SweepTimes, 'periodMs'>): number {
  return Math.min(60_000, Math.max(1_000, Math.round(times.periodMs / 100)));
}

/** The checks per second the configured period allows for `count` proofs (metrics, the bench). */
export function evenRate(count: number, times: Pick<SweepTimes, 'periodMs'>): number {
  return (count * 1000) / times.periodMs;
}

/** What the answer of a check made at `now` does to `proof`. */
export function afterCheck(
  proof: JudgedProof,
  answer: CheckAnswer,
  now: number,
  times: SweepTimes,
): SweepStep {
  const checked = { ...proof, checkedAt: now };
  if (answer.kind === 'unknown') {
    // No change: a grace that ran out waits for a definite answer, and a proof is never given
    // OutOfDate because its service could not be reached.
    return {
      kind: 'unknown',
      proof: { ...checked, nextCheckAt: now + retryAfter(times) },
      reason: answer.reason,
    };
  }
  if (answer.kind === 'holds') {
    const { grace, ...rest } = checked;
    return {
      kind: grace ? 'restored' : 'holds',
      proof: { ...rest, nextCheckAt: now + times.periodMs },
    };
  }
  if (!proof.grace) {
    const grace: Grace = { since: now, until: now + times.graceMs, reason: answer.reason };
    return {
      kind: 'grace-started',
      proof: { ...checked, grace, nextCheckAt: graceCheckAt(now, grace, times) },
    };
  }
  if (now >= proof.grace.until) return { kind: 'out-of-date', proof: checked, reason: answer.reason };
  return {
    kind: 'still-gone',
    proof: {
      ...checked,
      grace: { ...proof.grace, reason: answer.reason },
      nextCheckAt: graceCheckAt(now, proof.grace, times),
    },
  };
}

/** During a grace the proof is looked at daily (so a restored one ends it), and at its end. */
function graceCheckAt(now: number, grace: Grace, times: Pick<SweepTimes, 'periodMs'>): number {
  return Math.min(grace.until, now + Math.min(times.periodMs, DAY_MS));
}
