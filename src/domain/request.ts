/** What the registrar keeps about one judgement request. Pure data; transitions live beside it. */
import type { Field } from './fields.js';

/** The identity as it was when the challenges were made: the SCALE bytes of `info` and their hash. */
export interface Snapshot {
  /** 0x-prefixed SCALE encoding of the identity `info`. */
  infoHex: string;
  /** 0x-prefixed blake2_256 of `infoHex`; the judgement is pinned to it. */
  hash: string;
}

/**
 * awaiting: a challenge is out; confirmed: proven (`subject` is what the proof came from); failed:
 * cannot be proven as it is set; missing: the policy requires it and it is not set; ignored: set, but
 * outside what this registrar verifies (it neither blocks nor is attested).
 */
export type FieldState =
  | {
      status: 'awaiting';
      value: string;
      subject: string;
      /** The last proof tried for it and refused: why, and when; kept until the field moves on. */
      refusal?: Refusal;
    }
  | {
      status: 'confirmed';
      value: string;
      subject: string;
      confirmedAt: number;
      /** The service's own ID of the account that signed in or posted, kept with the proof. */
      serviceId?: string;
      /** The address of the public post (a gist, a post on X) the proof was read from, to read it again. */
      postUrl?: string;
      /** A display name the guard flagged, allowed for this account by this operator while it stays. */
      allowedBy?: string;
    }
  | {
      status: 'failed';
      value: string;
      reason: string;
      hint: string;
      /** The display-name guard found it like a judged name: the operator may allow it (a review). */
      lookAlike?: true;
      /** Held for the operator's review (a sanctions list hit): the person waits, nothing to change. */
      held?: true;
    }
  | { status: 'missing'; reason: string; hint: string }
  | { status: 'ignored'; value: string; reason: string };

/**
 * What a proof came from, kept with the confirmed field so that it can be checked again later
 * without the person: the service's numeric ID of the account, the address of the post.
 */
export interface ProofSource {
  serviceId?: string;
  postUrl?: string;
}

/** A proof tried and refused (a published line not found, another account signed in, ...). */
export interface Refusal {
  reason: string;
  at: number;
}

/** Why a request cannot be judged as it stands; `field` when one field is the cause. */
export interface Blocker {
  field?: Field;
  reason: string;
  hint: string;
  /** wait: the person has only to answer a challenge; change: the identity must change first. */
  kind: 'wait' | 'change';
  /** Set on the condition that refuses an account (our recent Erroneous judgement): until when. */
  refusedUntil?: number;
}

/**
 * prepared: fields are being proven before the person requested a judgement on chain (nothing paid,
 * never judged); open: fields are being proven; judging: a judgement is being submitted; judged: the
 * chain showed JudgementGiven; cancelled / cleared: the person withdrew the request or the identity
 * is gone.
 */
export type RequestStatus = 'prepared' | 'open' | 'judging' | 'judged' | 'cancelled' | 'cleared';

/**
 * Statuses under which a request still counts as open (at most one per account and registrar): a
 * prepared one too, so that the chain's request, when it comes, takes it over instead of a second.
 */
export function isOpenStatus(status: RequestStatus): boolean {
  return status === 'prepared' || status === 'open' || status === 'judging';
}

/** Statuses under which fields are proven: a prepared request's proofs count like an open one's. */
export function isProving(status: RequestStatus): boolean {
  return status === 'prepared' || status === 'open';
}

export interface JudgementRequest {
  id: string;
  account: string;
  registrarIndex: number;
  status: RequestStatus;
  snapshot: Snapshot;
  fields: Partial<Record<Field, FieldState>>;
  /**
   * Entries this registrar can never verify by construction (legacy `additional` pairs, fields
   * this code does not know): listed, never attested.
   */
  unverifiable?: string[];
  /** What the policy requires of the request as a whole (not of one field), unmet. */
  conditions?: Blocker[];
  /** When it was requested on chain (for a prepared request, when it was prepared). */
  createdAt: number;
  /** Set on a request that was prepared before it was requested: when it was prepared. */
  preparedAt?: number;
  updatedAt: number;
  /** Bumped by every write; a write names the version it read (compare-and-set). */
  version: number;
  /** Set when the personal data of this closed request was deleted (retention). */
  forgottenAt?: number;
  /**
   * The judgement submitted for it, as included in a best block: written to the audit log once the
   * chain shows it final (a best block can be retracted, and the judgement with it).
   */
  submission?: Omit<JudgementRecord, 'account' | 'registrarIndex'>;
}

/**
 * A closed request past its retention time keeps only states: every value, subject and the
 * identity's bytes go; the snapshot's hash (in the audit log too) stays.
 */
export function forget(request: JudgementRequest, now: number): JudgementRequest {
  const fields: JudgementRequest['fields'] = {};
  for (const [field, state] of Object.entries(request.fields) as [Field, FieldState][]) {
    fields[field] =
      state.status === 'awaiting'
        ? { status: 'awaiting', value: '', subject: '' }
        : state.status === 'confirmed'
          ? { status: 'confirmed', value: '', subject: '', confirmedAt: state.confirmedAt }
          : state.status === 'failed'
            ? { status: 'failed', value: '', reason: '', hint: '' }
            : state.status === 'missing'
              ? state
              : { status: 'ignored', value: '', reason: state.reason };
  }
  return {
    ...request,
    snapshot: { infoHex: '', hash: request.snapshot.hash },
    fields,
    unverifiable: [],
    conditions: [],
    forgottenAt: now,
    updatedAt: now,
  };
}

/** A single-use proof link sent through a channel. */
export interface Challenge {
  id: string;
  requestId: string;
  account: string;
  field: Field;
  snapshotHash: string;
  /** The canonical subject the challenge was made for; a proof from any other subject is refused. */
  subject: string;
  /** sha256 of the short code the person may send back or type instead of opening the link. */
  codeHash?: string;
  createdAt: number;
  expiresAt: number;
  usedAt?: number;
  voidedAt?: number;
  /** When the channel took the message; until then the challenge waits in the outbox. */
  deliveredAt?: number;
  /**
   * The service's own ID of the account the message went to, where the channel found it by name (a
   * Discord member): whoever answers with the message's link or code answers as that account.
   */
  deliveredTo?: string;
  /**
   * A send gave up waiting (a timeout): that message may have reached someone all the same, so a
   * later delivery cannot say for sure whom the link and code reached, and no `deliveredTo` is kept.
   */
  deliveryUncertain?: true;
  /** When the outbox tries (again) to deliver it; absent once delivered. */
  nextDeliveryAt?: number;
  /** Failed delivery attempts so far. */
  deliveryAttempts?: number;
  /** Why the last delivery could not succeed until the person acts (closed DMs): a hint for them. */
  deliveryProblem?: string;
  /** Wrong codes typed or sent for it; at the limit it is voided. */
  wrongCodes?: number;
}

/** Whether a challenge can still be answered: not used, not voided, not expired. */
export function isLiveChallenge(challenge: Challenge, now: number): boolean {
  return challenge.usedAt === undefined && challenge.voidedAt === undefined && challenge.expiresAt > now;
}

/**
 * One operator review of a field only a person can check, for the audit log: who decided what,
 * when, for which identity. The note goes to the person (and is deleted with the request's values).
 */
export interface ReviewRecord {
  account: string;
  registrarIndex: number;
  field: string;
  decision: 'confirm' | 'reject';
  /** The operator who reviewed, as the admin command or API named them. */
  reviewer: string;
  identityHash: string;
  at: number;
}

/** One judgement the registrar gave, for the audit log. */
export interface JudgementRecord {
  account: string;
  registrarIndex: number;
  judgement: string;
  identityHash: string;
  blockHash: string;
  extrinsicHash: string;
  at: number;
  /**
   * The operator who gave it by hand (`registrar judge`), or "sweep" for an OutOfDate the sweep gave;
   * absent for the judgements proofs earned.
   */
  by?: string;
  /** Why a judgement not earned by proofs was given (the sweep: which proof is gone, and how). */
  reason?: string;
  /** When the request it closed was made, first challenged and last proven: the public figures' source. */
  timing?: JudgementTiming;
}

/** The moments of a request that the public figures measure from (ms since the epoch). */
export interface JudgementTiming {
  requestedAt: number;
  /** The first challenge delivered to the person; absent when no field needed one. */
  challengedAt?: number;
  /** The last field proven; absent when none was. */
  provenAt?: number;
}

/** The timing of `request`, judged now, given the challenges it was sent. */
export function timingOf(
  request: Pick<JudgementRequest, 'createdAt' | 'fields'>,
  challenges: readonly Pick<Challenge, 'deliveredAt'>[],
): JudgementTiming {
  const delivered = challenges.flatMap((c) => (c.deliveredAt === undefined ? [] : [c.deliveredAt]));
  const proven = Object.values(request.fields).flatMap((state) =>
    state?.status === 'confirmed' ? [state.confirmedAt] : [],
  );
  return {
    requestedAt: request.createdAt,
    ...(delivered.length > 0 ? { challengedAt: Math.min(...delivered) } : {}),
    ...(proven.length > 0 ? { provenAt: Math.max(...proven) } : {}),
  };
}
