/**
 * Judging: a request whose every required field is proven is judged through the proxy, pinned to
 * its snapshot's hash. Judging takes a block or more, so it runs beside the caller (the watcher's
 * queue, a page request), and judgements that become ready together share one batch.
 */
import type { GivenJudgement, Judge, JudgeOutcome } from '../chain/judge.js';
import type { JudgementRequest } from '../domain/request.js';
import { isReadyForJudgement, withStatus } from '../domain/verification.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import type { RegistrarMetrics } from './metrics.js';
import { errorText, updateWithRetry } from './updates.js';

/** A judgement that failed (no connection, a full pool) is tried again after 2 s, 4 s, ... 60 s. */
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 60_000;
/** Failed submissions in a row after which judging counts as failing (/readyz, an error log). */
const FAILING_AFTER = 3;

export interface JudgingOptions {
  store: Store;
  judge: Judge;
  registrarIndex: number;
  log: Logger;
  now: () => number;
  /** Whether the chain still shows the request pending with this snapshot: 'pending', 'gone' or 'changed'. */
  chainState: (request: JudgementRequest) => Promise<'pending' | 'gone' | 'changed'>;
  /** The identity changed since the snapshot: verify it again. */
  reverify: (account: string) => Promise<void>;
  /** Accounts not to be judged yet, whatever their fields say. */
  held?: (account: string) => boolean;
  metrics: RegistrarMetrics;
}

export class Judging {
  /** Accounts with a judgement step under way; their requests are left alone meanwhile. */
  readonly inFlight = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  /** Submissions that failed in a row, and the last error: what /readyz reports. */
  private failures = { streak: 0, error: '' };

  constructor(private readonly o: JudgingOptions) {}

  /**
   * Failing, after FAILING_AFTER submissions in a row failed (no funds for fees, a proxy the
   * chain refuses): retrying cannot help, an operator must act.
   */
  health(): { failing: boolean; streak: number; error?: string } {
    const { streak, error } = this.failures;
    return streak >= FAILING_AFTER ? { failing: true, streak, error } : { failing: false, streak };
  }

  /**
   * An operator's judgement by hand, for the identity with `identityHash`, recorded in the audit
   * log once included (it belongs to no request that could wait for finality). The sweep's
   * OutOfDate comes this way too, `by` "sweep", with the `reason` the audit log keeps.
   */
  async judgeByHand(
    account: string,
    identityHash: string,
    judgement: GivenJudgement,
    by: string,
    reason?: string,
  ): Promise<JudgeOutcome> {
    const outcome = await this.o.judge.giveJudgement(account, identityHash, judgement);
    this.o.log.info({ account, judgement, by, outcome: outcome.kind }, 'operator judgement');
    if (outcome.kind === 'included') await this.record(account, judgement, identityHash, outcome, by, reason);
    return outcome;
  }

  /**
   * `seenPending`: the caller has just read the chain and found this request pending with this
   * snapshot (an opening, a reconciliation pass), so it is not read again here. A pass resumes
   * thousands at once, and a read each would trickle them to the judge over several blocks; the
   * judge reads the whole batch once more right before signing in any case.
   */
  whenReady(request: JudgementRequest, seenPending = false): void {
    // One waiting for its retry keeps its backoff.
    if (isReadyForJudgement(request) && !this.retries.has(request.id)) {
      this.inBackground(this.maybeJudge(request, 0, seenPending));
    }
  }

  /** Waits for the background work under way (judgement submissions) without stopping anything. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** Stops retrying and waits for background work (judgement submissions) to finish. */
  async drain(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** The audit log entry of a judgement the chain included. */
  private async record(
    account: string,
    judgement: GivenJudgement,
    identityHash: string,
    outcome: { blockHash: string; extrinsicHash: string },
    by?: string,
    reason?: string,
  ): Promise<void> {
    await this.o.store.appendJudgement({
      ...(by === undefined ? {} : { by }),
      ...(reason === undefined ? {} : { reason }),
      account,
      registrarIndex: this.o.registrarIndex,
      judgement,
      identityHash,
      blockHash: outcome.blockHash,
      extrinsicHash: outcome.extrinsicHash,
      at: this.o.now(),
    });
  }

  private inBackground(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => {
        this.o.log.error({ err: errorText(error) }, 'background step failed');
      })
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private scheduleRetry(requestId: string, attempt: number): void {
    if (this.stopped || this.retries.has(requestId)) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** attempt);
    const timer = setTimeout(() => {
      this.retries.delete(requestId);
      this.inBackground(
        this.o.store
          .getRequest(requestId)
          .then((request) => request && this.maybeJudge(request, attempt + 1)),
      );
    }, delay);
    timer.unref();
    this.retries.set(requestId, timer);
  }

  private async maybeJudge(request: JudgementRequest, attempt = 0, seenPending = false): Promise<void> {
    // Held: its plan is provisional (see Registrar.openFound), whatever its fields say now.
    if (
      !isReadyForJudgement(request) ||
      this.inFlight.has(request.account) ||
      this.o.held?.(request.account)
    ) {
      return;
    }
    this.inFlight.add(request.account);
    try {
      // The chain decides: a request that is no longer FeePaid there (judged by an earlier attempt
      // whose confirmation we lost, or cancelled) is not judged again; the watcher closes it.
      const state = seenPending ? 'pending' : await this.o.chainState(request);
      if (state === 'gone') return;
      if (state === 'changed') {
        this.inFlight.delete(request.account);
        return this.o.reverify(request.account);
      }
      const claimed = await this.o.store.updateRequest(withStatus(request, 'judging', this.o.now()));
      if (!claimed) return; // Another writer moved it; whoever did decides what comes next.
      const outcome = await this.o.judge.giveJudgement(claimed.account, claimed.snapshot.hash);
      this.o.metrics.judgement(outcome.kind, (this.o.now() - claimed.createdAt) / 1000);
      if (outcome.kind === 'included') {
        this.failures = { streak: 0, error: '' };
        // Kept on the request, not yet in the audit log: the block may still be retracted. The
        // request closes, and the entry is written, when the chain shows JudgementGiven final.
        const submission = {
          judgement: 'Reasonable',
          identityHash: claimed.snapshot.hash,
          blockHash: outcome.blockHash,
          extrinsicHash: outcome.extrinsicHash,
          at: this.o.now(),
        };
        await updateWithRetry(this.o.store, claimed.id, (r) =>
          r.status === 'judging' ? { ...r, submission, updatedAt: this.o.now() } : undefined,
        );
        this.o.log.info({ account: claimed.account, block: outcome.blockHash }, 'judgement included');
        return;
      }
      await updateWithRetry(this.o.store, claimed.id, (r) =>
        r.status === 'judging' ? withStatus(r, 'open', this.o.now()) : undefined,
      );
      if (outcome.kind === 'different-identity') {
        this.o.log.warn({ account: claimed.account }, 'identity changed since the snapshot; re-verifying');
        this.inFlight.delete(claimed.account);
        await this.o.reverify(claimed.account);
      } else if (outcome.kind === 'not-pending') {
        // Cancelled (or judged) in the moment before signing: nothing was submitted for it.
        this.o.log.info({ account: claimed.account }, 'request no longer pending at submission; not judged');
      } else {
        this.failures = { streak: this.failures.streak + 1, error: outcome.error };
        this.o.log.error(
          { account: claimed.account, err: outcome.error, attempt },
          this.failures.streak >= FAILING_AFTER
            ? 'judgements keep failing; the operator must act (funds for fees? the proxy?)'
            : 'judgement failed; will retry',
        );
        this.scheduleRetry(claimed.id, attempt);
      }
    } catch (error) {
      // Reading the chain or the store failed (a dropped connection): try again later.
      this.o.log.error(
        { account: request.account, err: errorText(error), attempt },
        'judgement step failed; will retry',
      );
      this.scheduleRetry(request.id, attempt);
    } finally {
      this.inFlight.delete(request.account);
    }
  }
}
