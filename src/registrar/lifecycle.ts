/**
 * The request lifecycle: turns chain events and storage reconciliation into requests opened,
 * re-verified after edits, resumed after restarts and closed. Proving fields is `Proofs`' job
 * (proofs.ts), giving judgements `Judging`'s (judging.ts). The chain says who is pending; the store
 * says what was proven. Every request write is compare-and-set, retried from a fresh read on conflict.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type ChainIdentity, pendingFor, type RegistrarEntry } from '../chain/identity.js';
import type { ReconcileScope, RegistrarEvent, WatcherHandler } from '../chain/watcher.js';
import type { Channel } from '../channels/channel.js';
import { FIELDS, type Field } from '../domain/fields.js';
import { exactlyProven } from '../domain/prepared.js';
import {
  forget,
  isOpenStatus,
  type JudgementRecord,
  type JudgementRequest,
  type Snapshot,
  timingOf,
} from '../domain/request.js';
import {
  applyEdit,
  type Capabilities,
  DEFAULT_POLICY,
  type FieldPlan,
  type LookAlike,
  newRequest,
  type Policy,
  planFields,
  replan,
  withStatus,
} from '../domain/verification.js';
import type { Store } from '../store/store.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import type { HandleGuard } from './handles.js';
import type { Judging } from './judging.js';
import type { Proofs } from './proofs.js';
import type { Screening } from './sanctions.js';
import { updateWithRetry } from './updates.js';

/** What the registrar reads from the chain. */
export interface ChainReader {
  identity(account: string): Promise<ChainIdentity | undefined>;
  registrar(): Promise<RegistrarEntry | undefined>;
  /** The address in the chain's own SS58 format (people paste other formats), or undefined. */
  accountId(address: string): string | undefined;
}

/** The display-name guard's view of the chain's judged names. */
export interface LookAlikeFinder {
  /** Judged names that `name` could pass for, leaving out `account` and its sub-identities. */
  lookAlikes(account: string): Promise<(name: string) => LookAlike[]>;
  /**
   * Reads at once what `lookAlikes` will need for these accounts, checked one after another next
   * (a page of a full scan): one chain read for the page instead of one each.
   */
  readAhead?(accounts: readonly string[]): Promise<void>;
}

export interface LifecycleOptions {
  store: Store;
  chain: ChainReader;
  channels: ReadonlyMap<Field, Channel>;
  registrarIndex: number;
  log: Logger;
  policy?: Policy;
  names?: LookAlikeFinder;
  /** How long after our Erroneous judgement an account's requests are refused (0 or absent: never). */
  refusalMs?: number;
  /** How long a closed request's personal data is kept (absent: for ever). */
  retentionMs?: number;
  /** How long a prepared request waits for the chain's request before it is deleted (absent: for ever). */
  preparedMs?: number;
  now: () => number;
  proofs: Proofs;
  judging: Judging;
  /** Starts, in the background, the channels that listen for answers not started yet (listening.ts). */
  startChannels: () => void;
  /** One account per handle: claims dropped with the proofs they came from. */
  handles?: HandleGuard;
  /** Sanctions screening (sanctions.ts): absent, names are not screened. */
  screening?: Pick<Screening, 'screenRequest' | 'displayHeld'>;
  /**
   * The sweep (sweep.ts): told of each judgement of ours the chain shows final, and of every event
   * that may end one (an edit, a clear, a new request), so that judged proofs are kept exactly as
   * long as their judgement stands.
   */
  sweep?: {
    judged(request: JudgementRequest, judgement: string): Promise<void>;
    changed(account: string): Promise<void>;
  };
}

/** Where the chain shows a judgement final: its block, and the extrinsic that gave it when known. */
interface GivenIn {
  block: string;
  extrinsic?: string;
}

/** Open requests resumed per read of their sub-identities (a reconciliation pass). */
const RESUME_PAGE = 500;

/** Kept for a week after expiry so that a late click still gets "expired", not "unknown". */
const EXPIRED_CHALLENGE_RETENTION_MS = 7 * 86_400_000;

export class RequestLifecycle implements WatcherHandler {
  private readonly channels: ReadonlyMap<Field, Channel>;
  private readonly now: () => number;
  private readonly proofs: Proofs;
  private readonly judging: Judging;
  /** The registrar entry read last, and when. */
  private entry: { entry: RegistrarEntry; at: number } | undefined;
  /** The entry a page of a scan's openings is planned under, read once with the page (`openFound`). */
  private pageEntry: RegistrarEntry | undefined;
  /** The mask, policy and channels the open requests were last planned under. */
  private plannedUnder: string | undefined;
  /** Requests opened before the look-alike corpus was complete: held from judgement (`openFound`). */
  private readonly provisional = new Set<string>();

  constructor(private readonly o: LifecycleOptions) {
    this.channels = o.channels;
    this.now = o.now;
    this.proofs = o.proofs;
    this.judging = o.judging;
  }

  /** Whether `account`'s request is held from judgement until a full scan has read every judged name. */
  held(account: string): boolean {
    return this.provisional.has(account);
  }

  private startChannels(): void {
    this.o.startChannels();
  }

  async onEvent(event: RegistrarEvent): Promise<void> {
    const { account } = event;
    this.o.log.info({ account, kind: event.kind, block: event.blockNumber }, 'chain event');
    // An edit, a clear, a new request or another judgement may end a judgement of ours (a
    // cancellation happens only while the slot is FeePaid, with none of ours in it).
    if (event.kind !== 'unrequested') await this.o.sweep?.changed(account);
    switch (event.kind) {
      case 'requested':
        await this.openRequest(account);
        return;
      case 'identity-set':
        return this.reverify(account);
      case 'unrequested':
        return this.end(account, 'cancelled');
      case 'identity-cleared':
      case 'identity-killed':
        return this.end(account, 'cleared');
      case 'judgement-given':
        return this.end(account, 'judged', { block: event.blockHash, extrinsic: event.extrinsicHash });
    }
  }

  async openSnapshots(): Promise<ReadonlyMap<string, Snapshot>> {
    return this.o.store.listOpenSnapshots(this.o.registrarIndex);
  }

  /**
   * Pending requests found by a full scan still under way: opened now, their challenges sent.
   * `provisional`: the look-alike corpus is still being read by that scan, so a display name
   * checked now could pass for a judged name on a page still to come. Those requests are held
   * from judgement and planned again at the end of the scan. Returns the accounts opened for good.
   */
  async openFound(found: ReadonlyMap<string, ChainIdentity>, provisional: boolean): Promise<string[]> {
    this.startChannels();
    // The node is listing the scan's next pages meanwhile, and each read waits behind one of them:
    // what the openings read of the chain is read now, at once, and the entry kept for the page.
    const [, entry] = await Promise.all([
      this.o.names?.readAhead?.([...found.keys()]),
      this.registrarEntry(),
    ]);
    this.pageEntry = entry;
    const opened: string[] = [];
    try {
      for (const [account, identity] of found) {
        // The embedded store answers at once, so a page of openings would hold the event loop: the
        // scan's next page would be asked for only after them, and the node would wait on us.
        await nextTurn();
        // Held before it opens (opening may find it ready), until the end of a full pass even if
        // opening fails on the way; one held by an earlier scan that failed stays held.
        const heldBefore = this.provisional.has(account);
        if (provisional) this.provisional.add(account);
        const isNew = await this.openRequest(account, identity);
        if (isNew && !provisional) opened.push(account);
        if (!isNew && provisional && !heldBefore) this.provisional.delete(account);
      }
    } finally {
      this.pageEntry = undefined;
    }
    return opened;
  }

  /**
   * Brings the store in line with what the chain says is pending. `pending` holds the accounts of
   * `scope` that are pending, with their identities as read; with scope 'all', every pending
   * account on chain, so a pending account without an open request is opened. `leaveAlone`:
   * requests this pass already opened from the same read (`openFound`, current by construction),
   * and those whose stored value did not decode (not known to be gone, nor changed).
   */
  async reconcile(
    pending: ReadonlyMap<string, ChainIdentity>,
    scope: ReconcileScope,
    leaveAlone: ReadonlySet<string> = new Set(),
  ): Promise<void> {
    this.startChannels();
    const listed = await this.o.store.listOpenRequests(this.o.registrarIndex);
    // Prepared requests are no chain's requests: one whose account is pending now is taken over
    // below (openRequest), the others wait for theirs until they expire.
    const open = listed.filter((r) => r.status !== 'prepared');
    const openByAccount = new Map(open.map((r) => [r.account, r]));
    const inScope = scope === 'all' ? undefined : new Set(scope);
    // One read of the registrar entry for the pass; the plans of open requests are redone only
    // when the mask, the policy or the channels changed since the last pass that redid them.
    const plannedUnder = await this.planningFingerprint();
    const replanning = plannedUnder !== this.plannedUnder;
    for (const [account, identity] of pending) {
      if (!openByAccount.has(account)) await this.openRequest(account, identity);
    }
    const resumed = open.filter((r) => (!inScope || inScope.has(r.account)) && !leaveAlone.has(r.account));
    for (let start = 0; start < resumed.length; start += RESUME_PAGE) {
      const page = resumed.slice(start, start + RESUME_PAGE);
      // A plan made again checks the display name against look-alikes, which reads the account's
      // sub-identities: read for the whole page at once, not one round trip per request.
      const replanned = page
        .filter(
          (r) => pending.has(r.account) && (replanning || (!inScope && this.provisional.has(r.account))),
        )
        .map((r) => r.account);
      if (replanned.length > 0) await this.o.names?.readAhead?.(replanned);
      for (const request of page) {
        // A full pass has read the whole corpus: a provisional plan is made again against it.
        const recheck = !inScope && this.provisional.delete(request.account);
        const identity = pending.get(request.account);
        if (!identity) await this.closeMissing(request);
        else
          await this.resume(
            request,
            identity,
            replanning ? 'policy, mask or channels changed' : recheck ? 'every judged name read' : undefined,
          );
      }
    }
    await this.expirePrepared(listed.filter((r) => r.status === 'prepared' && !pending.has(r.account)));
    if (!inScope) this.provisional.clear();
    // Only a pass over every open request can say they all follow the current plan.
    if (!inScope || open.every((r) => inScope.has(r.account))) this.plannedUnder = plannedUnder;
    await this.o.store.deleteExpiredChallenges(this.now() - EXPIRED_CHALLENGE_RETENTION_MS);
    await this.o.store.deleteExpiredCheckpoints(this.now());
    await this.forgetClosed();
  }

  /** What plans depend on besides the identity: the on-chain mask, the policy, the channels. */
  private async planningFingerprint(): Promise<string> {
    this.entry = undefined;
    const entry = await this.registrarEntry();
    return JSON.stringify([entry.fields, [...this.channels.keys()].sort(), this.o.policy ?? DEFAULT_POLICY]);
  }

  /** The registrar's on-chain entry, read at most once a second (a pass opens many requests). */
  private async registrarEntry(): Promise<RegistrarEntry> {
    if (this.pageEntry) return this.pageEntry;
    const now = this.now();
    if (!this.entry || now - this.entry.at > 1_000) {
      const entry = await this.o.chain.registrar();
      if (!entry) throw new Error(`registrar #${this.o.registrarIndex} does not exist on this chain`);
      // Fresh from when it was answered: the answer can wait behind a page of a scan.
      this.entry = { entry, at: this.now() };
    }
    return this.entry.entry;
  }

  /**
   * Judges what is ready: requests whose last field was proven by another instance (which serves
   * pages but does not judge) are found here.
   */
  async judgeReady(): Promise<void> {
    for (const request of await this.o.store.listReadyRequests(this.o.registrarIndex)) {
      this.judging.whenReady(request);
    }
  }

  /**
   * Looks again, for every open request, at what pull channels were asked to find (a website's
   * published line); a proof found is answered like a "Check now". Returns how many were proven.
   */
  async recheckPublished(): Promise<number> {
    let proven = 0;
    for (const request of await this.o.store.listOpenRequests(this.o.registrarIndex)) {
      for (const [field, state] of Object.entries(request.fields)) {
        const channel = this.channels.get(field as Field);
        if (!channel?.check || state?.status !== 'awaiting') continue;
        const challenge = await this.proofs.pageChallenge(request.account, field as Field);
        if (!challenge.ok) continue;
        const found = await channel.check(challenge);
        if (!found.ok) {
          // A site that went on not holding the line says so on the status page, not nowhere.
          await this.proofs.refused(challenge.challengeId, found.message);
          continue;
        }
        const answered = await this.proofs.answer(challenge.challengeId, found.subject, 'published');
        if (answered.ok) proven += 1;
      }
    }
    return proven;
  }

  /**
   * Deletes, with their challenges, the prepared requests the chain's request did not take over in
   * time: nothing is kept long for an identity that never requests.
   */
  private async expirePrepared(prepared: readonly JudgementRequest[]): Promise<void> {
    if (this.o.preparedMs === undefined) return;
    const before = this.now() - this.o.preparedMs;
    for (const request of prepared) {
      if (request.createdAt > before) continue;
      if (!(await this.o.store.deletePreparedRequest(request.id, request.version))) continue;
      await this.o.handles?.release(request.id);
      await this.forgetSubjects(request);
      this.o.log.info(
        { account: request.account, request: request.id },
        'prepared request expired and deleted',
      );
    }
  }

  /** What channels kept about a request's subjects (a bot's room with the person) goes too. */
  private async forgetSubjects(request: JudgementRequest): Promise<void> {
    for (const [field, state] of Object.entries(request.fields)) {
      const subject = state && 'subject' in state ? state.subject : undefined;
      const channel = this.o.channels.get(field as Field);
      if (subject !== undefined && channel?.forget) await channel.forget(subject);
    }
  }

  /** Deletes the personal data of requests closed longer ago than the retention time. */
  async forgetClosed(): Promise<number> {
    if (this.o.retentionMs === undefined) return 0;
    const before = this.now() - this.o.retentionMs + 1;
    let forgotten = 0;
    for (;;) {
      const closed = await this.o.store.listClosedRequests(before, 100);
      for (const request of closed) {
        await this.o.store.deleteChallenges(request.id);
        await this.forgetSubjects(request);
        const done = await updateWithRetry(this.o.store, request.id, (current) =>
          current.forgottenAt === undefined && !isOpenStatus(current.status)
            ? forget(current, this.now())
            : undefined,
        );
        if (done) forgotten += 1;
      }
      if (closed.length < 100) break;
    }
    if (forgotten > 0) this.o.log.info({ requests: forgotten }, 'personal data of closed requests deleted');
    return forgotten;
  }

  private async capabilities(account: string): Promise<Capabilities> {
    const entry = await this.registrarEntry();
    const refusedUntil = await this.refusedUntil(account);
    const sanctionsHeld = await this.o.screening?.displayHeld();
    return {
      mask: entry.fields,
      channels: new Set(this.channels.keys()),
      policy: this.o.policy ?? DEFAULT_POLICY,
      ...(this.o.names ? { lookAlikes: await this.o.names.lookAlikes(account) } : {}),
      ...(sanctionsHeld ? { sanctionsHeld } : {}),
      ...(refusedUntil !== undefined ? { refusedUntil } : {}),
    };
  }

  /**
   * Screens the names of a request just planned; a hit only goes to the operator's review queue,
   * and a screening that fails (the store) is logged and leaves the request as it is.
   */
  private async screen(request: JudgementRequest): Promise<void> {
    await this.o.screening?.screenRequest(request).catch((error: unknown) => {
      this.o.log.error({ account: request.account, err: errorText(error) }, 'sanctions screening failed');
    });
  }

  /** Until when the account is refused: our last Erroneous judgement of it, plus the refusal time. */
  private async refusedUntil(account: string): Promise<number | undefined> {
    if (!this.o.refusalMs) return undefined;
    const erroneous = (await this.o.store.listJudgements(account)).filter(
      (j) => j.judgement === 'Erroneous' && j.registrarIndex === this.o.registrarIndex,
    );
    const last = erroneous.at(-1);
    if (!last) return undefined;
    const until = last.at + this.o.refusalMs;
    return until > this.now() ? until : undefined;
  }

  isPendingOnChain(identity: ChainIdentity): boolean {
    return pendingFor(identity.judgements, this.o.registrarIndex);
  }

  /**
   * `read`: the identity as a reconciliation just read it; otherwise it is read now. Returns
   * whether a request was opened.
   */
  private async openRequest(account: string, read?: ChainIdentity): Promise<boolean> {
    const existing = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (existing && existing.status !== 'prepared') return false;
    const identity = read ?? (await this.o.chain.identity(account));
    if (!identity || !this.isPendingOnChain(identity)) return false;
    if (existing) return this.takeOver(existing, identity);
    if (await this.insert(account, identity, 'open')) return true;
    // A request was prepared in the same moment (the start page's form): this one takes it over.
    const raced = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    return raced?.status === 'prepared' ? this.takeOver(raced, identity) : false;
  }

  /**
   * Proving before paying: a prepared request for `identity`, planned and challenged exactly as
   * the chain's request would be, never judged. Already pending on chain: opened as the request.
   * Whether the identity may be prepared at all is the caller's question (prepare.ts).
   */
  async prepare(account: string, identity: ChainIdentity): Promise<'prepared' | 'exists' | 'requested'> {
    if (this.isPendingOnChain(identity)) {
      await this.openRequest(account, identity);
      return 'requested';
    }
    return (await this.insert(account, identity, 'prepared')) ? 'prepared' : 'exists';
  }

  /** A new request planned for `identity`, its challenges queued; undefined when one exists. */
  private async insert(
    account: string,
    identity: ChainIdentity,
    status: 'open' | 'prepared',
  ): Promise<JudgementRequest | undefined> {
    const now = this.now();
    const plan = planFields(identity.info, await this.capabilities(account), now);
    const request = newRequest(
      randomUUID(),
      account,
      this.o.registrarIndex,
      identity.snapshot,
      plan,
      now,
      status,
    );
    try {
      await this.o.store.insertRequest(request);
    } catch (error) {
      if ((error as Error).name === 'DuplicateError') return undefined;
      throw error;
    }
    this.o.log.info(
      { account, request: request.id, fields: Object.keys(plan.fields) },
      status === 'open' ? 'request opened' : 'request prepared',
    );
    await this.proofs.issue(request, plan.toChallenge);
    await this.screen(request);
    if (status === 'open') this.judging.whenReady(request, true);
    return request;
  }

  /**
   * The chain's request came for an account whose request was prepared: the prepared one becomes
   * it. The same identity keeps every proof, and one proven in full is judged at once. An identity
   * edited since keeps only the proofs of exactly the values now on chain; the rest starts again,
   * pinned to the new snapshot (nothing is certified that was not proven).
   */
  private async takeOver(prepared: JudgementRequest, identity: ChainIdentity): Promise<boolean> {
    const can = await this.capabilities(prepared.account);
    let plan: FieldPlan | undefined;
    const taken = await updateWithRetry(this.o.store, prepared.id, (current) => {
      if (current.status !== 'prepared') return undefined;
      const now = this.now();
      const requested: JudgementRequest = {
        ...current,
        status: 'open',
        createdAt: now,
        preparedAt: current.createdAt,
        updatedAt: now,
      };
      if (current.snapshot.hash === identity.snapshot.hash) {
        plan = undefined;
        return requested;
      }
      plan = planFields(identity.info, can, now, exactlyProven(current.fields, identity.info));
      return applyEdit(requested, identity.snapshot, plan, now);
    });
    if (!taken) return false;
    this.o.log.info(
      { account: taken.account, request: taken.id, edited: plan !== undefined },
      'prepared request taken over by the request on chain',
    );
    if (!plan) {
      await this.resume(taken, identity, 'requested on chain after it was prepared');
      return true;
    }
    // Every challenge out was made for the old snapshot.
    await this.o.store.voidChallenges(taken.id, this.now());
    await this.o.handles?.release(taken.id, unproven(taken));
    await this.proofs.issue(taken, plan.toChallenge);
    // The names on chain now are not the ones screened when it was prepared.
    await this.screen(taken);
    this.judging.whenReady(taken, true);
    return true;
  }

  /** The identity may have changed: compare the snapshot and start again what changed. */
  async reverify(account: string): Promise<void> {
    const open = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (!open) return;
    const identity = await this.o.chain.identity(account);
    if (!identity) return this.end(account, 'cleared');
    if (identity.snapshot.hash === open.snapshot.hash) return;
    const can = await this.capabilities(account);
    let plan: ReturnType<typeof planFields> | undefined;
    const updated = await updateWithRetry(this.o.store, open.id, (request) => {
      if (request.snapshot.hash === identity.snapshot.hash) return undefined;
      // A prepared request keeps only proofs of exactly the values now on chain (takeOver's rule).
      const previous =
        request.status === 'prepared' ? exactlyProven(request.fields, identity.info) : request.fields;
      plan = planFields(identity.info, can, this.now(), previous);
      return applyEdit(request, identity.snapshot, plan, this.now());
    });
    if (!updated || !plan) return;
    this.o.log.info(
      { account, request: updated.id, rechallenged: plan.toChallenge },
      'identity edited; re-verifying',
    );
    // A prepared request's awaiting fields are not in its plan's previous fields: void them all.
    await this.o.store.voidChallenges(
      updated.id,
      this.now(),
      updated.status === 'prepared' ? undefined : plan.toVoid,
    );
    await this.o.handles?.release(updated.id, unproven(updated));
    await this.proofs.issue(updated, plan.toChallenge);
    await this.screen(updated);
    this.judging.whenReady(updated);
  }

  /** Closes the open request of `account`: judged, cancelled, or its identity cleared or killed. */
  private async end(
    account: string,
    status: 'judged' | 'cancelled' | 'cleared',
    given?: GivenIn,
  ): Promise<void> {
    const open = await this.o.store.findOpenRequest(account, this.o.registrarIndex);
    if (!open) return;
    const ours =
      status === 'judged' && open.submission ? await this.recordFinal(open, open.submission, given) : false;
    // A judgement given while it was only prepared (an operator's by hand) did not judge it.
    const final = open.status === 'prepared' && status === 'judged' ? 'cancelled' : status;
    const ended = await updateWithRetry(this.o.store, open.id, (request) =>
      withStatus(request, final, this.now()),
    );
    await this.o.store.voidChallenges(open.id, this.now());
    // A handle proven for a request that was never judged is not held against anyone.
    if (final !== 'judged') await this.o.handles?.release(open.id);
    if (ended) this.o.log.info({ account, request: open.id, status }, 'request closed');
    // What our judgement proved is checked again for as long as it stands (sweep.ts).
    if (ours && open.submission) await this.o.sweep?.judged(open, open.submission.judgement);
  }

  /**
   * The audit log entry of our judgement of `request`, now final: in the block the chain shows it
   * in, when an event says so (a full pass after a restart knows only that it is judged). Written
   * before the request closes, once (a restart in between writes no second). A final judgement
   * from another extrinsic (an operator's by hand, recorded when it was included, while ours sat
   * on a retracted block) is not our submission's to record. Returns whether the final judgement
   * is our submission.
   */
  private async recordFinal(
    request: JudgementRequest,
    submission: NonNullable<JudgementRequest['submission']>,
    given: GivenIn | undefined,
  ): Promise<boolean> {
    if (given?.extrinsic !== undefined && given.extrinsic !== submission.extrinsicHash) {
      this.o.log.info(
        { account: request.account, block: given.block },
        'the final judgement came from another extrinsic than our submission; that submission is not recorded',
      );
      return false;
    }
    const logged = await this.o.store.listJudgements(request.account);
    const same = (j: JudgementRecord) =>
      j.registrarIndex === this.o.registrarIndex &&
      j.identityHash === submission.identityHash &&
      j.extrinsicHash === submission.extrinsicHash;
    if (logged.some(same)) return true;
    await this.o.store.appendJudgement({
      account: request.account,
      registrarIndex: this.o.registrarIndex,
      ...submission,
      blockHash: given?.block ?? submission.blockHash,
      timing: timingOf(request, await this.o.store.listChallenges(request.id)),
    });
    return true;
  }

  /** An open request whose slot is no longer FeePaid on chain: find out why and close it. */
  private async closeMissing(request: JudgementRequest): Promise<void> {
    if (this.judging.inFlight.has(request.account)) return;
    const identity = await this.o.chain.identity(request.account);
    if (!identity) return this.end(request.account, 'cleared');
    const slot = identity.judgements.find((j) => j.registrarIndex === this.o.registrarIndex);
    // The list said otherwise, but the account's own fresh read still shows it pending (the list
    // came from a node behind this one): it stays open.
    if (slot?.judgement === 'FeePaid') {
      this.o.log.warn(
        { account: request.account },
        'pending on chain though missing from the list; kept open',
      );
      return this.resume(request, identity, 'read again');
    }
    if (slot) return this.end(request.account, 'judged');
    return this.end(request.account, 'cancelled');
  }

  /**
   * A request still pending on chain, after a restart or a gap: catch up on what was missed.
   * `identity` as the reconciliation read it; `replanWhy`: why its plan is made again, if it is
   * (the mask, policy or channels changed; the corpus is complete), logged when the plan changes.
   */
  private async resume(
    request: JudgementRequest,
    identity: ChainIdentity,
    replanWhy: string | undefined,
  ): Promise<void> {
    if (this.judging.inFlight.has(request.account)) return;
    let current = request;
    if (request.status === 'judging') {
      // A submission was cut short (crash or stop); the chain still shows FeePaid, so go again.
      const reopened = await updateWithRetry(this.o.store, request.id, (r) =>
        r.status === 'judging' ? withStatus(r, 'open', this.now()) : undefined,
      );
      if (!reopened) return;
      current = reopened;
    }
    if (identity.snapshot.hash !== current.snapshot.hash) return this.reverify(current.account);
    if (replanWhy) current = (await this.replan(current, identity, replanWhy)) ?? current;
    await this.proofs.issue(current, await this.proofs.fieldsWithoutLiveChallenge(current));
    this.judging.whenReady(current, true);
  }

  /** Makes the plan of an open request whose identity is unchanged again (policy, mask, channels, corpus). */
  private async replan(
    request: JudgementRequest,
    identity: ChainIdentity,
    why: string,
  ): Promise<JudgementRequest | undefined> {
    const can = await this.capabilities(request.account);
    let changed: Field[] = [];
    const updated = await updateWithRetry(this.o.store, request.id, (current) => {
      if (current.status !== 'open' || current.snapshot.hash !== identity.snapshot.hash) return undefined;
      const next = replan(current, planFields(identity.info, can, this.now(), current.fields), this.now());
      changed = next?.changed ?? [];
      return next?.request;
    });
    if (!updated) return undefined;
    this.o.log.info({ account: updated.account, fields: changed, why }, 'request re-planned');
    // A field that is awaiting again gets a new challenge below; the old ones must not count.
    await this.o.store.voidChallenges(updated.id, this.now(), changed);
    await this.o.handles?.release(updated.id, unproven(updated));
    return updated;
  }
}

/** The fields of a request not (or no longer) proven: they hold no handle. */
function unproven(request: JudgementRequest): Field[] {
  return FIELDS.filter((field) => request.fields[field]?.status !== 'confirmed');
}
