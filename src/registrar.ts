/**
 * The orchestrator: turns chain events, storage reconciliation and confirmed challenges into store
 * updates, challenges sent and judgements given. The chain says who is pending; the store says what
 * was proven. Every request write is compare-and-set, retried from a fresh read on conflict.
 */
import { randomUUID } from 'node:crypto';
import type { ChainIdentity, RegistrarEntry } from './chain/identity.js';
import type { Judge } from './chain/judge.js';
import type { RegistrarEvent, WatcherHandler } from './chain/watcher.js';
import type { ChallengeTokens } from './challenges/tokens.js';
import type { Channel } from './channels/channel.js';
import type { Field } from './domain/fields.js';
import type { JudgementRequest } from './domain/request.js';
import {
  applyEdit,
  type Blocker,
  blockers,
  type Capabilities,
  confirmField,
  isReadyForJudgement,
  labelOf,
  newRequest,
  planFields,
  withStatus,
} from './domain/verification.js';
import type { Logger } from './log.js';
import type { Store } from './store/store.js';

/** What the registrar reads from the chain. */
export interface ChainReader {
  identity(account: string): Promise<ChainIdentity | undefined>;
  registrar(): Promise<RegistrarEntry | undefined>;
  /** The address in the chain's own SS58 format (people paste other formats), or undefined. */
  accountId(address: string): string | undefined;
}

export interface RegistrarOptions {
  store: Store;
  chain: ChainReader;
  judge: Judge;
  channels: readonly Channel[];
  tokens: ChallengeTokens;
  registrarIndex: number;
  publicUrl: string;
  challengeTtlMs: number;
  log: Logger;
  now?: () => number;
}

export type LinkCheck =
  | { ok: true; account: string; field: Field; label: string; value: string }
  | { ok: false; message: string };

export interface RequestStatusView {
  account: string;
  registrarIndex: number;
  status: JudgementRequest['status'] | 'none';
  fields: Partial<Record<Field, { status: string; value: string; reason?: string; hint?: string }>>;
  blockers: Blocker[];
}

/** A judgement that failed (no connection, a full pool) is tried again after 2 s, 4 s, ... 60 s. */
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 60_000;

/** Kept for a week after expiry so that a late click still gets "expired", not "unknown". */
const EXPIRED_CHALLENGE_RETENTION_MS = 7 * 86_400_000;

const REFUSALS = {
  invalid: 'This link is not valid. Check that you opened the whole link from the message.',
  expired: 'This link has expired. Ask for a new one from the status page or request a judgement again.',
  unknown: 'This link is not known to this registrar.',
  used: 'This link was already used. Each link works once.',
  voided: 'This link is no longer valid: the request it belongs to was changed or ended.',
  stale:
    'This link was made for an earlier version of your identity. A new link was sent for the current one.',
  closed: 'The judgement request this link belongs to is no longer open.',
  'not-awaiting': 'This field does not need confirming (any more).',
} as const;

export class Registrar implements WatcherHandler {
  private readonly channels: Map<Field, Channel>;
  private readonly inFlight = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: RegistrarOptions) {
    this.channels = new Map(o.channels.map((channel) => [channel.field, channel]));
    this.now = o.now ?? Date.now;
  }

  async onEvent(event: RegistrarEvent): Promise<void> {
    const { account } = event;
    this.o.log.info({ account, kind: event.kind, block: event.blockNumber }, 'chain event');
    switch (event.kind) {
      case 'requested':
        return this.openRequest(account);
      case 'identity-set':
        return this.reverify(account);
      case 'unrequested':
        return this.end(account, 'cancelled');
      case 'identity-cleared':
      case 'identity-killed':
        return this.end(account, 'cleared');
      case 'judgement-given':
        return this.end(account, 'judged');
    }
  }

  async reconcile(pending: string[]): Promise<void> {
    const pendingSet = new Set(pending);
    const open = await this.o.store.listOpenRequests(this.o.registrarIndex);
    const openAccounts = new Set(open.map((r) => r.account));
    for (const account of pending) {
      if (!openAccounts.has(account)) await this.openRequest(account);
    }
    for (const request of open) {
      if (!pendingSet.has(request.account)) await this.closeMissing(request);
      else await this.resume(request);
    }
    await this.o.store.deleteExpiredChallenges(this.now() - EXPIRED_CHALLENGE_RETENTION_MS);
  }

  /** What the page behind a challenge link shows. Changes nothing. */
  async checkLink(token: string): Promise<LinkCheck> {
    const inspected = await this.inspect(token);
    return inspected.ok ? inspected.link : inspected;
  }

  /** The person pressed Confirm. The challenge is used up only when it confirms something. */
  async confirm(token: string): Promise<LinkCheck> {
    const inspected = await this.inspect(token);
    if (!inspected.ok) return inspected;
    const consumed = await this.o.store.consumeChallenge(inspected.challengeId, this.now());
    if (!consumed.ok) return { ok: false, message: REFUSALS[consumed.reason] };
    const { challenge } = consumed;
    const updated = await this.updateWithRetry(challenge.requestId, (request) => {
      const verdict = confirmField(request, challenge.field, challenge.snapshotHash, this.now());
      return verdict.ok ? verdict.request : undefined;
    });
    if (!updated) return { ok: false, message: REFUSALS.stale };
    this.o.log.info({ account: updated.account, field: challenge.field }, 'field confirmed');
    this.judgeWhenReady(updated);
    return inspected.link;
  }

  /** Token, challenge and request, checked without writing anything. */
  private async inspect(
    token: string,
  ): Promise<
    { ok: true; challengeId: string; link: LinkCheck & { ok: true } } | { ok: false; message: string }
  > {
    const checked = this.o.tokens.check(token, this.now());
    if (!checked.ok) return { ok: false, message: REFUSALS[checked.reason] };
    const { claims } = checked;
    const challenge = await this.o.store.getChallenge(claims.challengeId);
    if (!challenge) return { ok: false, message: REFUSALS.unknown };
    if (challenge.account !== claims.account || challenge.field !== claims.field) {
      return { ok: false, message: REFUSALS.invalid };
    }
    if (challenge.usedAt !== undefined) return { ok: false, message: REFUSALS.used };
    if (challenge.voidedAt !== undefined) return { ok: false, message: REFUSALS.voided };
    const request = await this.o.store.getRequest(challenge.requestId);
    if (!request) return { ok: false, message: REFUSALS.unknown };
    const verdict = confirmField(request, claims.field, claims.snapshotHash, this.now());
    if (!verdict.ok) return { ok: false, message: REFUSALS[verdict.reason] };
    const value = request.fields[claims.field]?.value ?? '';
    return {
      ok: true,
      challengeId: challenge.id,
      link: { ok: true, account: claims.account, field: claims.field, label: labelOf(claims.field), value },
    };
  }

  /** The request of `address` as the status endpoint shows it; undefined when it is no address. */
  async status(address: string): Promise<RequestStatusView | undefined> {
    const account = this.o.chain.accountId(address);
    if (!account) return undefined;
    const request = await this.o.store.latestRequest(account, this.o.registrarIndex);
    if (!request) {
      return {
        account,
        registrarIndex: this.o.registrarIndex,
        status: 'none',
        fields: {},
        blockers: [
          {
            reason: 'no judgement request from this account is known',
            hint: `Request a judgement from registrar #${this.o.registrarIndex}.`,
          },
        ],
      };
    }
    const fields: RequestStatusView['fields'] = {};
    for (const [field, state] of Object.entries(request.fields) as [
      Field,
      NonNullable<JudgementRequest['fields'][Field]>,
    ][]) {
      fields[field] =
        state.status === 'failed'
          ? { status: state.status, value: state.value, reason: state.reason, hint: state.hint }
          : { status: state.status, value: state.value };
    }
    return {
      account,
      registrarIndex: request.registrarIndex,
      status: request.status,
      fields,
      blockers: request.status === 'open' ? blockers(request) : [],
    };
  }

  /** Stops retrying and waits for background work (judgement submissions) to finish. */
  async drain(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private inBackground(work: Promise<unknown>): void {
    const tracked = work
      .catch((error: unknown) => {
        this.o.log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'background step failed',
        );
      })
      .finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  private async capabilities(): Promise<Capabilities> {
    const entry = await this.o.chain.registrar();
    if (!entry) throw new Error(`registrar #${this.o.registrarIndex} does not exist on this chain`);
    return { mask: entry.fields, channels: new Set(this.channels.keys()) };
  }

  private isPendingOnChain(identity: ChainIdentity): boolean {
    return identity.judgements.some(
      (j) => j.registrarIndex === this.o.registrarIndex && j.judgement === 'FeePaid',
    );
  }

  private async openRequest(account: string): Promise<void> {
    if (await this.o.store.findOpenRequest(account, this.o.registrarIndex)) return;
    const identity = await this.o.chain.identity(account);
    if (!identity || !this.isPendingOnChain(identity)) return;
    const now = this.now();
    const plan = planFields(identity.info, await this.capabilities(), now);
    const request = newRequest(randomUUID(), account, this.o.registrarIndex, identity.snapshot, plan, now);
    try {
      await this.o.store.insertRequest(request);
    } catch (error) {
      if ((error as Error).name === 'DuplicateError') return;
      throw error;
    }
    this.o.log.info({ account, request: request.id, fields: Object.keys(plan.fields) }, 'request opened');
    await this.sendChallenges(request, plan.toChallenge);
    this.judgeWhenReady(request);
  }

  /** The identity may have changed: compare the snapshot and start again what changed. */
  private async reverify(account: string): Promise<void> {
    const open = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (!open) return;
    const identity = await this.o.chain.identity(account);
    if (!identity) return this.end(account, 'cleared');
    if (identity.snapshot.hash === open.snapshot.hash) return;
    const can = await this.capabilities();
    let plan: ReturnType<typeof planFields> | undefined;
    const updated = await this.updateWithRetry(open.id, (request) => {
      if (request.snapshot.hash === identity.snapshot.hash) return undefined;
      plan = planFields(identity.info, can, this.now(), request.fields);
      return applyEdit(request, identity.snapshot, plan, this.now());
    });
    if (!updated || !plan) return;
    this.o.log.info(
      { account, request: updated.id, rechallenged: plan.toChallenge },
      'identity edited; re-verifying',
    );
    await this.o.store.voidChallenges(updated.id, this.now(), plan.toVoid);
    await this.sendChallenges(updated, plan.toChallenge);
    this.judgeWhenReady(updated);
  }

  /** Closes the open request of `account`: judged, cancelled, or its identity cleared or killed. */
  private async end(account: string, status: 'judged' | 'cancelled' | 'cleared'): Promise<void> {
    const open = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (!open) return;
    const ended = await this.updateWithRetry(open.id, (request) => withStatus(request, status, this.now()));
    await this.o.store.voidChallenges(open.id, this.now());
    if (ended) this.o.log.info({ account, request: open.id, status }, 'request closed');
  }

  /** An open request whose slot is no longer FeePaid on chain: find out why and close it. */
  private async closeMissing(request: JudgementRequest): Promise<void> {
    if (this.inFlight.has(request.account)) return;
    const identity = await this.o.chain.identity(request.account);
    if (!identity) return this.end(request.account, 'cleared');
    const slot = identity.judgements.find((j) => j.registrarIndex === this.o.registrarIndex);
    if (slot && slot.judgement !== 'FeePaid') return this.end(request.account, 'judged');
    return this.end(request.account, 'cancelled');
  }

  /** A request still pending on chain, after a restart or a gap: catch up on what was missed. */
  private async resume(request: JudgementRequest): Promise<void> {
    if (this.inFlight.has(request.account)) return;
    let current = request;
    if (request.status === 'judging') {
      // A submission was cut short (crash or stop); the chain still shows FeePaid, so go again.
      const reopened = await this.updateWithRetry(request.id, (r) =>
        r.status === 'judging' ? withStatus(r, 'open', this.now()) : undefined,
      );
      if (!reopened) return;
      current = reopened;
    }
    const identity = await this.o.chain.identity(current.account);
    if (identity && identity.snapshot.hash !== current.snapshot.hash) return this.reverify(current.account);
    await this.sendChallenges(current, await this.fieldsWithoutLiveChallenge(current));
    this.judgeWhenReady(current);
  }

  /**
   * Unconfirmed fields whose every link is used up, void or expired, or was never delivered (the
   * mail server was down): they get a new link.
   */
  private async fieldsWithoutLiveChallenge(request: JudgementRequest): Promise<Field[]> {
    const now = this.now();
    const live = new Set(
      (await this.o.store.listChallenges(request.id))
        .filter((c) => c.usedAt === undefined && c.voidedAt === undefined && c.expiresAt > now)
        .map((c) => c.field),
    );
    return (Object.keys(request.fields) as Field[]).filter(
      (field) => request.fields[field]?.status === 'awaiting' && this.channels.has(field) && !live.has(field),
    );
  }

  private async sendChallenges(request: JudgementRequest, fields: readonly Field[]): Promise<void> {
    for (const field of fields) {
      const channel = this.channels.get(field);
      const state = request.fields[field];
      if (!channel || state?.status !== 'awaiting') continue;
      const now = this.now();
      const challenge = {
        id: randomUUID(),
        requestId: request.id,
        account: request.account,
        field,
        snapshotHash: request.snapshot.hash,
        createdAt: now,
        expiresAt: now + this.o.challengeTtlMs,
      };
      await this.o.store.insertChallenge(challenge);
      const token = this.o.tokens.issue({
        challengeId: challenge.id,
        account: request.account,
        field,
        snapshotHash: challenge.snapshotHash,
        expiresAt: challenge.expiresAt,
      });
      try {
        await channel.send({
          account: request.account,
          field,
          address: state.value,
          link: `${this.o.publicUrl}/confirm/${token}`,
          expiresAt: challenge.expiresAt,
          registrarIndex: this.o.registrarIndex,
        });
        this.o.log.info({ account: request.account, field, challenge: challenge.id }, 'challenge sent');
      } catch (error) {
        // Void it, so that the next reconciliation sends a new one.
        await this.o.store.voidChallenges(request.id, this.now(), [field]);
        this.o.log.error(
          { account: request.account, field, err: error instanceof Error ? error.message : String(error) },
          'challenge could not be delivered; a new one is sent at the next reconciliation',
        );
      }
    }
  }

  /**
   * Judging takes a block or more; it runs beside the caller (the watcher's queue, a page request),
   * and judgements that become ready together share one batch.
   */
  private judgeWhenReady(request: JudgementRequest): void {
    if (isReadyForJudgement(request)) this.inBackground(this.maybeJudge(request));
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

  private async maybeJudge(request: JudgementRequest, attempt = 0): Promise<void> {
    if (!isReadyForJudgement(request) || this.inFlight.has(request.account)) return;
    this.inFlight.add(request.account);
    try {
      // The chain decides: a request that is no longer FeePaid there (judged by an earlier attempt
      // whose confirmation we lost, or cancelled) is not judged again; the watcher closes it.
      const identity = await this.o.chain.identity(request.account);
      if (!identity || !this.isPendingOnChain(identity)) return;
      if (identity.snapshot.hash !== request.snapshot.hash) {
        this.inFlight.delete(request.account);
        return this.reverify(request.account);
      }
      const claimed = await this.o.store.updateRequest(withStatus(request, 'judging', this.now()));
      if (!claimed) return; // Another writer moved it; whoever did decides what comes next.
      const outcome = await this.o.judge.giveJudgement(claimed.account, claimed.snapshot.hash);
      if (outcome.kind === 'included') {
        await this.o.store.appendJudgement({
          account: claimed.account,
          registrarIndex: this.o.registrarIndex,
          judgement: 'Reasonable',
          identityHash: claimed.snapshot.hash,
          blockHash: outcome.blockHash,
          extrinsicHash: outcome.extrinsicHash,
          at: this.now(),
        });
        this.o.log.info({ account: claimed.account, block: outcome.blockHash }, 'judgement included');
        return; // The request closes when the watcher sees JudgementGiven.
      }
      await this.updateWithRetry(claimed.id, (r) =>
        r.status === 'judging' ? withStatus(r, 'open', this.now()) : undefined,
      );
      if (outcome.kind === 'different-identity') {
        this.o.log.warn({ account: claimed.account }, 'identity changed since the snapshot; re-verifying');
        this.inFlight.delete(claimed.account);
        await this.reverify(claimed.account);
      } else {
        this.o.log.error(
          { account: claimed.account, err: outcome.error, attempt },
          'judgement failed; will retry',
        );
        this.scheduleRetry(claimed.id, attempt);
      }
    } catch (error) {
      // Reading the chain or the store failed (a dropped connection): try again later.
      this.o.log.error(
        { account: request.account, err: error instanceof Error ? error.message : String(error), attempt },
        'judgement step failed; will retry',
      );
      this.scheduleRetry(request.id, attempt);
    } finally {
      this.inFlight.delete(request.account);
    }
  }

  /** Applies `change` to the stored request, rereading and retrying when another writer won. */
  private async updateWithRetry(
    id: string,
    change: (request: JudgementRequest) => JudgementRequest | undefined,
  ): Promise<JudgementRequest | undefined> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.o.store.getRequest(id);
      if (!current) return undefined;
      const next = change(current);
      if (!next) return undefined;
      const written = await this.o.store.updateRequest(next);
      if (written) return written;
    }
    throw new Error(`request ${id} kept changing under us`);
  }
}
