/**
 * The registrar as the rest of the daemon sees it: one object over the request lifecycle
 * (lifecycle.ts), the proofs (proofs.ts), judging (judging.ts), the outbox (outbox.ts) and the status
 * view (status.ts). It builds and wires them; every method hands over to the one whose job it is,
 * turning the addresses people type into the chain's own account format on the way in.
 */
import type { ChainIdentity } from '../chain/identity.js';
import type { GivenJudgement, Judge, JudgeOutcome } from '../chain/judge.js';
import type { ReconcileScope, RegistrarEvent, WatcherHandler } from '../chain/watcher.js';
import type {
  Channel,
  CodeSender,
  LiveChallenge,
  PageChallenge,
  ProofOutcome,
  ProofSink,
} from '../channels/channel.js';
import type { AnswerWay } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import type { HandleRule } from '../domain/handles.js';
import type { Skeletons } from '../domain/look-alikes.js';
import type { OperatorInfo } from '../domain/operator.js';
import type { ProofSource, ReviewRecord, Snapshot } from '../domain/request.js';
import type { SweepTimes } from '../domain/sweep.js';
import type { Policy } from '../domain/verification.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import { HandleGuard } from './handles.js';
import { Judging } from './judging.js';
import { type ChainReader, type LookAlikeFinder, RequestLifecycle } from './lifecycle.js';
import { ListeningChannels } from './listening.js';
import { NO_METRICS, type RegistrarMetrics } from './metrics.js';
import { DEFAULT_LIMITS, type MessageLimits, Outbox } from './outbox.js';
import { type PrepareLimits, type PrepareOutcome, Preparing } from './prepare.js';
import {
  type CodeOutcome,
  type LinkCheck,
  Proofs,
  type ResendOutcome,
  type SeenByReviewer,
} from './proofs.js';
import { Screening } from './sanctions.js';
import { type FamilyReader, type RequestStatusView, StatusReader } from './status.js';
import { Sweep, type SweepFinding } from './sweep.js';
import type { ChallengeTokens } from './tokens.js';

export type { ChainReader, LinkCheck, LookAlikeFinder, PrepareOutcome, RequestStatusView, SweepFinding };

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
  policy?: Policy;
  names?: LookAlikeFinder;
  metrics?: RegistrarMetrics;
  /** Message limits (outbox.ts); the defaults when absent. */
  limits?: MessageLimits;
  /** Wrong codes after which a challenge is voided (5 when absent). */
  codeAttempts?: number;
  /** How long after our Erroneous judgement an account's requests are refused (0 or absent: never). */
  refusalMs?: number;
  /** How long a closed request's personal data is kept (absent: for ever). */
  retentionMs?: number;
  /** Proving before paying: how long a prepared request is kept (absent: for ever), and how many may start. */
  preparing?: { keptMs: number; limits: PrepareLimits };
  /** Whether this instance judges (holds the lease); one that does not leaves it to the one that does. */
  judges?: () => boolean;
  /**
   * One account per handle (handles.ts): the rule, and the parent of a sub-identity as the chain
   * says. Absent: handles are not compared.
   */
  handles?: { rule: HandleRule; parentOf: (account: string) => Promise<string | undefined> };
  /** Sub-identities and their parents as the chain says, shown on the status page. */
  family?: FamilyReader;
  /** Who runs the registrar, named in every message (the index alone when absent). */
  operator?: OperatorInfo;
  /** Sanctions screening of legal names (and display names with `display`); absent, none. */
  sanctions?: { skeletons: Skeletons; display: boolean };
  /** Judged proofs checked again (sweep.ts): the period and the grace. Absent: off. */
  sweep?: SweepTimes;
  now?: () => number;
}

export class Registrar implements WatcherHandler, ProofSink {
  private readonly proofs: Proofs;
  private readonly judging: Judging;
  private readonly lifecycle: RequestLifecycle;
  private readonly statusReader: StatusReader;
  private readonly listening: ListeningChannels;
  private readonly preparing: Preparing;
  /** Delivers challenges; started by whoever runs the registrar (the leader, parts/leader.ts). */
  readonly outbox: Outbox;
  /** Sanctions screening: lists imported, names screened, the review queue's hits. */
  readonly screening: Screening | undefined;
  /** Judged proofs checked again; run by the leader (parts/leader.ts). Undefined when off. */
  readonly sweep: Sweep | undefined;

  constructor(private readonly o: RegistrarOptions) {
    const judges = o.judges ?? (() => true);
    const channels = new Map(o.channels.map((channel) => [channel.field, channel]));
    const now = o.now ?? Date.now;
    const metrics = o.metrics ?? NO_METRICS;
    const handles =
      o.handles && o.handles.rule !== 'off'
        ? new HandleGuard({
            rule: o.handles.rule,
            store: o.store,
            key: (handle) => o.tokens.handleKey(handle),
            parentOf: o.handles.parentOf,
            log: o.log,
            now,
          })
        : undefined;
    this.judging = new Judging({
      store: o.store,
      judge: o.judge,
      registrarIndex: o.registrarIndex,
      log: o.log,
      now,
      chainState: async (request) => {
        const identity = await o.chain.identity(request.account);
        if (!identity || !this.lifecycle.isPendingOnChain(identity)) return 'gone';
        return identity.snapshot.hash === request.snapshot.hash ? 'pending' : 'changed';
      },
      reverify: (account) => this.lifecycle.reverify(account),
      held: (account) => this.lifecycle.held(account),
      metrics,
    });
    this.outbox = new Outbox({
      store: o.store,
      channels,
      tokens: o.tokens,
      registrarIndex: o.registrarIndex,
      operator: o.operator ?? { index: o.registrarIndex },
      publicUrl: o.publicUrl,
      limits: o.limits ?? DEFAULT_LIMITS,
      challengeTtlMs: o.challengeTtlMs,
      log: o.log,
      now,
      metrics,
      ready: (channel) => this.listening.ready(channel),
    });
    this.proofs = new Proofs({
      store: o.store,
      channels,
      tokens: o.tokens,
      registrarIndex: o.registrarIndex,
      publicUrl: o.publicUrl,
      challengeTtlMs: o.challengeTtlMs,
      log: o.log,
      now,
      confirmed: (request) => {
        if (judges()) this.judging.whenReady(request);
      },
      queued: () => this.outbox.kick(),
      codeAttempts: o.codeAttempts ?? 5,
      metrics,
      ...(handles ? { handles } : {}),
    });
    this.screening = o.sanctions
      ? new Screening({
          store: o.store,
          identity: (account) => o.chain.identity(account),
          registrarIndex: o.registrarIndex,
          skeletons: o.sanctions.skeletons,
          display: o.sanctions.display,
          log: o.log,
          now,
          metrics,
        })
      : undefined;
    this.listening = new ListeningChannels(channels.values(), this, o.log, () => this.outbox.kick());
    this.sweep = o.sweep
      ? new Sweep({
          store: o.store,
          chain: o.chain,
          channels,
          registrarIndex: o.registrarIndex,
          times: o.sweep,
          judging: this.judging,
          tokens: o.tokens,
          metrics,
          log: o.log,
          now,
          publicUrl: o.publicUrl,
          operator: o.operator ?? { index: o.registrarIndex },
          sendTimeoutMs: (o.limits ?? DEFAULT_LIMITS).timeoutMs,
        })
      : undefined;
    this.lifecycle = new RequestLifecycle({
      store: o.store,
      chain: o.chain,
      channels,
      registrarIndex: o.registrarIndex,
      log: o.log,
      ...(o.policy ? { policy: o.policy } : {}),
      ...(o.names ? { names: o.names } : {}),
      ...(o.refusalMs === undefined ? {} : { refusalMs: o.refusalMs }),
      ...(o.retentionMs === undefined ? {} : { retentionMs: o.retentionMs }),
      ...(o.preparing ? { preparedMs: o.preparing.keptMs } : {}),
      now,
      proofs: this.proofs,
      judging: this.judging,
      startChannels: () => this.listening.start(),
      ...(handles ? { handles } : {}),
      ...(this.screening ? { screening: this.screening } : {}),
      ...(this.sweep ? { sweep: this.sweep } : {}),
    });
    this.preparing = new Preparing({
      store: o.store,
      chain: o.chain,
      lifecycle: this.lifecycle,
      registrarIndex: o.registrarIndex,
      // Absent: one a day per account and five per client, the defaults of the configuration.
      limits: o.preparing?.limits ?? { perAccountPerDay: 1, perClientPerDay: 5 },
      now,
    });
    this.statusReader = new StatusReader({
      store: o.store,
      chain: o.chain,
      ...(o.family ? { family: o.family } : {}),
      channels,
      registrarIndex: o.registrarIndex,
      now,
    });
  }

  /** Starts, in the background, the channels that listen for answers (bots) not started yet. */
  startChannels(): void {
    this.listening.start();
  }

  onEvent(event: RegistrarEvent): Promise<void> {
    return this.lifecycle.onEvent(event);
  }

  openSnapshots(): Promise<ReadonlyMap<string, Snapshot>> {
    return this.lifecycle.openSnapshots();
  }

  openFound(found: ReadonlyMap<string, ChainIdentity>, provisional: boolean): Promise<string[]> {
    return this.lifecycle.openFound(found, provisional);
  }

  reconcile(
    pending: ReadonlyMap<string, ChainIdentity>,
    scope: ReconcileScope,
    leaveAlone?: ReadonlySet<string>,
  ): Promise<void> {
    return this.lifecycle.reconcile(pending, scope, leaveAlone);
  }

  judgeReady(): Promise<void> {
    return this.lifecycle.judgeReady();
  }

  recheckPublished(): Promise<number> {
    return this.lifecycle.recheckPublished();
  }

  forgetClosed(): Promise<number> {
    return this.lifecycle.forgetClosed();
  }

  checkLink(token: string): Promise<LinkCheck> {
    return this.proofs.checkLink(token);
  }

  confirm(token: string): Promise<LinkCheck> {
    return this.proofs.confirm(token);
  }

  answerCode(field: Field, subject: string, code: string, sender?: CodeSender): Promise<ProofOutcome> {
    return this.proofs.answerCode(field, subject, code, sender);
  }

  liveChallenges(field: Field, subject: string): Promise<LiveChallenge[]> {
    return this.proofs.liveChallenges(field, subject);
  }

  codeFromOther(
    field: Field,
    subject: string,
    sender: string,
    code: string,
  ): Promise<ProofOutcome | undefined> {
    return this.proofs.codeFromOther(field, subject, sender, code);
  }

  allowReply(account: string, field: Field, subject: string): Promise<boolean> {
    return this.outbox.allowReply(account, field, subject);
  }

  /**
   * Proving before paying: a prepared request for `address`, asked from `client` (an address) on
   * the start page; undefined when `address` is no address.
   */
  async prepare(address: string, client: string): Promise<PrepareOutcome | undefined> {
    const account = this.o.chain.accountId(address);
    if (!account) return undefined;
    return this.preparing.prepare(account, client);
  }

  /** A code typed on the registrar's page from `client`; undefined when `address` is no address. */
  async answerCodeOf(
    address: string,
    field: Field,
    code: string,
    client: string,
  ): Promise<CodeOutcome | undefined> {
    const account = this.o.chain.accountId(address);
    if (!account) return undefined;
    return this.proofs.answerCodeOf(account, field, code, client);
  }

  /** The challenge `address` answers on the registrar's page for `field` (proofs.ts). */
  async pageChallenge(address: string, field: Field): Promise<PageChallenge | undefined> {
    const account = this.o.chain.accountId(address);
    return account ? this.proofs.pageChallenge(account, field) : undefined;
  }

  describeChallenge(challengeId: string): Promise<PageChallenge> {
    return this.proofs.describe(challengeId);
  }

  /** A proof heard on the registrar's own pages (a sign-in, a signature, a published line), as it came. */
  answerChallenge(
    challengeId: string,
    subject: string,
    way: AnswerWay,
    source: ProofSource = {},
  ): Promise<ProofOutcome> {
    return this.proofs.answer(challengeId, subject, way, source);
  }

  /** A proof tried on the registrar's pages was refused: kept on its field (proofs.ts, `refused`). */
  refused(challengeId: string, reason: string): Promise<void> {
    return this.proofs.refused(challengeId, reason);
  }

  /** The person asks again for links that expired or never arrived (proofs.ts, `resend`). */
  async resend(address: string): Promise<ResendOutcome | undefined> {
    const account = this.o.chain.accountId(address);
    return account ? this.proofs.resend(account) : undefined;
  }

  /**
   * An operator's explicit judgement (Erroneous, OutOfDate, LowQuality), for the identity as it is
   * on chain now. It closes an open request when the chain shows it, as any judgement does.
   */
  async judgeExplicitly(
    address: string,
    judgement: GivenJudgement,
    by: string,
  ): Promise<JudgeOutcome | undefined> {
    const account = this.o.chain.accountId(address);
    if (!account) return undefined;
    const identity = await this.o.chain.identity(account);
    if (!identity) return { kind: 'failed', error: 'this account has no identity on chain' };
    return this.judging.judgeByHand(account, identity.snapshot.hash, judgement, by);
  }

  /** An operator's verdict on a field only a person can check (proofs.ts, `review`). */
  async review(
    address: string,
    field: Field,
    decision: 'confirm' | 'reject',
    note: string,
    reviewer: string,
    seen: SeenByReviewer,
  ): Promise<ProofOutcome | undefined> {
    const account = this.o.chain.accountId(address);
    return account ? this.proofs.review(account, field, decision, note, reviewer, seen) : undefined;
  }

  /** The operators' reviews of `address`'s fields, oldest first (the audit log). */
  async reviews(address: string): Promise<ReviewRecord[] | undefined> {
    const account = this.o.chain.accountId(address);
    return account ? this.o.store.listReviews(account) : undefined;
  }

  /** The request of `address` as the status endpoint shows it; undefined when it is no address. */
  status(address: string): Promise<RequestStatusView | undefined> {
    return this.statusReader.status(address);
  }

  /** Resolves when the judgements under way and the messages due now are done. */
  async settle(): Promise<void> {
    await this.judging.idle();
    await this.outbox.flush();
    await this.judging.idle();
  }

  /** Whether judgements keep failing (for /readyz). */
  judgingHealth(): ReturnType<Judging['health']> {
    return this.judging.health();
  }

  async drain(): Promise<void> {
    await this.outbox.stop();
    await this.judging.drain();
  }
}
