/**
 * The store port: everything the registrar keeps between restarts. The chain says who is pending;
 * the store says what was proven. Adapters: sqlite.ts (default, embedded) and mongodb.ts.
 */
import type { Field } from '../domain/fields.js';
import type {
  Challenge,
  JudgementRecord,
  JudgementRequest,
  ReviewRecord,
  Snapshot,
} from '../domain/request.js';
import type { SanctionsHit, SanctionsList, SanctionsListInfo } from '../domain/sanctions.js';
import type { JudgedProof } from '../domain/sweep.js';

export type ConsumeOutcome =
  | { ok: true; challenge: Challenge }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'voided'; challenge?: Challenge };

export interface Store {
  /**
   * Adds a request. Throws DuplicateError when the id exists or the account already has an open
   * request (status open or judging) with this registrar.
   */
  insertRequest(request: JudgementRequest): Promise<void>;
  getRequest(id: string): Promise<JudgementRequest | undefined>;
  findOpenRequest(account: string, registrarIndex: number): Promise<JudgementRequest | undefined>;
  /** The newest request of an account, open or not (for the status page). */
  latestRequest(account: string, registrarIndex: number): Promise<JudgementRequest | undefined>;
  listOpenRequests(registrarIndex: number): Promise<JudgementRequest[]>;
  /** How many requests are open, by status (open, judging): the metrics' gauge, read on every scrape. */
  countOpenRequests(registrarIndex: number): Promise<Record<string, number>>;
  /** The snapshot of every open request, by account: all a periodic pass compares the chain with. */
  listOpenSnapshots(registrarIndex: number): Promise<Map<string, Snapshot>>;
  /**
   * The open requests that may be ready for judgement (isReadyForJudgement): every one that is,
   * and only those, except requests last written before the store kept readiness, which come too.
   * Polled often, so it must not cost what listing every open request costs.
   */
  listReadyRequests(registrarIndex: number): Promise<JudgementRequest[]>;
  /**
   * Compare-and-set: stores `request` with version `request.version + 1` only if the stored version
   * is still `request.version`. Returns the stored request, or undefined when another writer won.
   */
  updateRequest(request: JudgementRequest): Promise<JudgementRequest | undefined>;

  /**
   * Deletes a prepared request (never requested on chain) with its challenges, only if it is still
   * prepared at `version` (the chain's request may be taking it over). Returns whether it was.
   */
  deletePreparedRequest(id: string, version: number): Promise<boolean>;

  /** Adds a challenge. Throws DuplicateError when its id exists. */
  insertChallenge(challenge: Challenge): Promise<void>;
  getChallenge(id: string): Promise<Challenge | undefined>;
  /** Every challenge of a request, oldest first. */
  listChallenges(requestId: string): Promise<Challenge[]>;
  /** The unused, unvoided, unexpired challenges of `field` made for `subject`, oldest first. */
  findLiveChallenges(field: Field, subject: string, now: number): Promise<Challenge[]>;
  /** Marks a challenge used, once: of two concurrent calls at most one gets ok. */
  consumeChallenge(id: string, now: number): Promise<ConsumeOutcome>;
  /** Voids the unused challenges of a request (of the given fields, or all). Returns how many. */
  voidChallenges(requestId: string, now: number, fields?: readonly Field[]): Promise<number>;
  /** Deletes challenges that expired before `before`. Returns how many. */
  deleteExpiredChallenges(before: number): Promise<number>;

  /**
   * The outbox: live challenges not yet delivered whose next attempt is due at `now` (with `all`,
   * whenever it is due), the soonest due first, at most `limit`; with `fields`, of those fields only
   * (one channel's lane).
   */
  dueDeliveries(now: number, limit: number, all?: boolean, fields?: readonly Field[]): Promise<Challenge[]>;
  /** Records a delivery attempt: delivered, or failed and due again at `retryAt`. */
  recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void>;
  /**
   * When messages were delivered since `since` to a target (an opaque key the caller makes from
   * the field and subject, so it outlives the subject's retention; or one of a delivery's `also`
   * keys) or for an account, oldest first.
   */
  deliveryTimes(to: DeliveryTarget, since: number): Promise<number[]>;
  /**
   * Counts a message that is no challenge's delivery (a bot's reply) against `target`'s and
   * `account`'s limits, as deliveryTimes reads them.
   */
  recordMessage(target: string, account: string, at: number): Promise<void>;
  /** Counts a wrong code against each of the challenges; returns the highest count now. */
  recordWrongCode(ids: readonly string[]): Promise<number>;

  /** Closed requests updated before `before` whose personal data is still kept, at most `limit`. */
  listClosedRequests(before: number, limit: number): Promise<JudgementRequest[]>;
  /** Deletes every challenge of a request (they name its subjects); delivery counts stay. */
  deleteChallenges(requestId: string): Promise<number>;

  /**
   * Takes or renews the lease `name` for `owner` until `until`: granted when it is free, expired
   * (at `now`) or already `owner`'s. Of two owners at most one holds it at a time.
   */
  claimLease(name: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;

  appendJudgement(record: JudgementRecord): Promise<void>;
  listJudgements(account?: string): Promise<JudgementRecord[]>;
  /** The judgements of registrar `registrarIndex` given at or after `since`, in write order (the public figures). */
  judgementsSince(registrarIndex: number, since: number): Promise<JudgementRecord[]>;
  /**
   * How many requests were made to registrar `registrarIndex` at or after `since`, open or closed
   * (prepared ones, not requested on chain, are not counted).
   */
  countRequestsSince(registrarIndex: number, since: number): Promise<number>;
  appendReview(record: ReviewRecord): Promise<void>;
  listReviews(account?: string): Promise<ReviewRecord[]>;

  /**
   * One account per handle: records that `claims`' requests proved their handles (a claim per key
   * and request; writing one again changes nothing). Keys are HMACs of canonical handles, never
   * the handles.
   */
  claimHandles(claims: readonly HandleClaim[]): Promise<void>;
  /** The accounts holding any of `keys`, each once. */
  handleHolders(keys: readonly string[]): Promise<string[]>;
  /** Drops the claims of a request (of the given fields, or all): it closed unjudged or lost them. Returns how many. */
  releaseHandles(requestId: string, fields?: readonly Field[]): Promise<number>;
  /**
   * The lagging-node guard's memory: the highest finalized block number seen on the chain whose
   * genesis hash is `chain`. `raiseFinalized` keeps the higher of the stored and the given number
   * (two instances may write at once; neither lowers it) and returns the number now stored.
   */
  raiseFinalized(chain: string, number: number): Promise<number>;
  highestFinalized(chain: string): Promise<number | undefined>;

  /**
   * Sanctions screening: keeps `list` in place of the kept list of its format (one write: a reader
   * sees the old list or the new one, never part of either).
   */
  replaceSanctionsList(list: SanctionsList): Promise<void>;
  /** Every kept list with its entries, by format. */
  sanctionsLists(): Promise<SanctionsList[]>;
  /** Every kept list without its entries (what `sanctions status` shows, and whether a list changed). */
  sanctionsListInfo(): Promise<SanctionsListInfo[]>;
  /**
   * Records screening hits (the operator's review queue); a hit whose id is kept already is not
   * written again. Returns the hits that were new.
   */
  recordSanctionsHits(hits: readonly SanctionsHit[]): Promise<SanctionsHit[]>;
  /** The hits (of `account`), oldest first. */
  listSanctionsHits(account?: string): Promise<SanctionsHit[]>;
  /**
   * The sweep (domain/sweep.ts): keeps a judged proof, one per account, registrar and field,
   * replacing the one there.
   */
  saveJudgedProof(proof: JudgedProof): Promise<void>;
  /** The judged proofs of registrar `registrarIndex` due at `now`, the longest due first, at most `limit`. */
  dueJudgedProofs(registrarIndex: number, now: number, limit: number): Promise<JudgedProof[]>;
  /** The judged proofs of one account, by field. */
  listJudgedProofs(account: string, registrarIndex: number): Promise<JudgedProof[]>;
  /** Deletes an account's judged proofs (its judgement was replaced, cleared or given OutOfDate). Returns how many. */
  deleteJudgedProofs(account: string, registrarIndex: number): Promise<number>;
  /** How many judged proofs registrar `registrarIndex` keeps, and how many of them are in a grace period. */
  countJudgedProofs(registrarIndex: number): Promise<{ proofs: number; inGrace: number }>;

  getCheckpoint(key: string): Promise<string | undefined>;
  /** Keeps `value` under `key`; with `expiresAt`, until then only (deleteExpiredCheckpoints). */
  setCheckpoint(key: string, value: string, expiresAt?: number): Promise<void>;
  deleteCheckpoint(key: string): Promise<void>;
  /** Deletes the checkpoints whose time ran out at `now`. Returns how many. */
  deleteExpiredCheckpoints(now: number): Promise<number>;

  close(): Promise<void>;
}

/** A handle proven by a request's field: `key` is the HMAC of the canonical handle (domain/handles.ts). */
export interface HandleClaim {
  key: string;
  account: string;
  requestId: string;
  field: Field;
  at: number;
}

export type DeliveryTarget = { target: string } | { account: string };

/**
 * Delivered (counted against `target`'s limits), or failed or held back and due again at
 * `retryAt`. Either way the challenge now expires at `expiresAt`: its time runs from delivery.
 */
export type DeliveryOutcome =
  | {
      deliveredAt: number;
      target: string;
      expiresAt: number;
      /** More targets the delivery counts against, not for the account (the mailbox's domain). */
      also?: readonly string[];
      /** The service's own ID of the account the message went to (a Discord member). */
      deliveredTo?: string;
    }
  | {
      retryAt: number;
      attempts: number;
      expiresAt: number;
      problem?: string;
      /** The send gave up waiting: the message may have gone out all the same. Kept once set. */
      uncertain?: true;
    };

export class DuplicateError extends Error {
  constructor(what: string) {
    super(`duplicate ${what}`);
    this.name = 'DuplicateError';
  }
}

/** Why a challenge that could not be consumed was refused. */
export function refusal(challenge: Challenge | undefined, now: number): ConsumeOutcome {
  if (!challenge) return { ok: false, reason: 'unknown' };
  if (challenge.usedAt !== undefined) return { ok: false, reason: 'used', challenge };
  if (challenge.voidedAt !== undefined) return { ok: false, reason: 'voided', challenge };
  if (challenge.expiresAt <= now) return { ok: false, reason: 'expired', challenge };
  return { ok: false, reason: 'used', challenge };
}
