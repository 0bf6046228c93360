/**
 * Gives judgements through the IdentityJudgement proxy, signed by the proxy key:
 * `proxy.proxy(registrar, IdentityJudgement, identity.provideJudgement(index, target, Reasonable,
 * snapshotHash))`, or, when several are ready together, one `utility.forceBatch` of them inside the
 * proxy call. forceBatch, not batch: one identity edited at the last moment must not hold back the
 * others; each item's outcome is read from its own ItemCompleted/ItemFailed event.
 *
 * How many items one extrinsic takes comes from the runtime: the weight and length of a batch of
 * one and of two (its own fee API), against the block's limits for one normal extrinsic. A batch
 * goes out as soon as nothing else arrives for a moment; what arrives while submissions are in
 * flight gathers for the next. Several submissions can be in flight at once, with consecutive
 * nonces kept here, submitted in nonce order; one that the pool refuses stops those after it.
 *
 * The outcome is read from the block, never from the extrinsic's success alone: a failed call
 * inside `proxy.proxy` still gives ExtrinsicSuccess. `giveJudgement` never rejects.
 *
 * Each extrinsic is mortal for about two minutes of blocks, the block time read from the runtime
 * (Aura's slot, or the time between recent blocks where several fit in a slot). One that expires
 * unincluded is sent again, once the chain is final past its last valid block: it can no longer be
 * included then, and the new one is signed with the chain's own nonce for the proxy, not one
 * counted on here or by the node's pool, so of two extrinsics that could both be valid at most one
 * is ever included.
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { DispatchError } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import type { Logger } from '../support/log.js';
import { blockTimeOf } from './block-time.js';
import { type Found, Inclusions } from './inclusions.js';
import { readPendingOf } from './stored-identities.js';

export type JudgeOutcome =
  | { kind: 'included'; blockHash: string; extrinsicHash: string }
  /** The identity changed since the snapshot: the person edited it. Re-verify; never resubmit. */
  | { kind: 'different-identity'; blockHash?: string }
  /** Re-read right before signing, the slot was no longer FeePaid (cancelled): not submitted. */
  | { kind: 'not-pending' }
  | { kind: 'failed'; error: string };

/** The judgements a registrar gives: Reasonable for what was proven, the others by an operator. */
export type GivenJudgement = 'Reasonable' | 'KnownGood' | 'OutOfDate' | 'LowQuality' | 'Erroneous';

export interface Judge {
  giveJudgement(target: string, identityHash: string, judgement?: GivenJudgement): Promise<JudgeOutcome>;
}

export interface JudgeOptions {
  /** A batch goes out once no judgement arrived for this long... */
  quietMs?: number;
  /** ...or this long after its first one arrived, whichever is first. */
  maxWaitMs?: number;
  /** While submissions are in flight, what arrives gathers until one is included or this long. */
  inFlightWaitMs?: number;
  /** Items per extrinsic; by default what the runtime's limits allow. */
  maxBatch?: number;
  /** How long to wait for inclusion before giving up (the caller retries). */
  timeoutMs?: number;
  /** The proxy type the key has (registrar-check.ts); IdentityJudgement when absent. */
  proxyType?: string;
  /** Blocks a signed judgement stays valid for; by default about MORTAL_MS of the chain's blocks. */
  mortalPeriod?: number;
  /** Where a judgement sent again after it expired is told. */
  log?: Logger;
}

interface Wanted {
  target: string;
  identityHash: string;
  judgement: GivenJudgement;
  resolve: (outcome: JudgeOutcome) => void;
  /** How often its extrinsic expired unincluded already. */
  expired?: number;
}

/** Judgements that certify; they are given only while the request is pending. */
const CERTIFYING: ReadonlySet<GivenJudgement> = new Set(['Reasonable', 'KnownGood']);
/** The share of one extrinsic's block limits a batch may fill. */
const LIMIT_SHARE = 0.75;
/** How long a signed judgement stays valid: about two minutes of blocks, whatever the block time. */
const MORTAL_MS = 120_000;
/** A judgement whose extrinsic expired this many times unincluded is reported failed instead. */
const MAX_EXPIRIES = 3;

/** Items per extrinsic when the runtime cannot say (no fee API). */
const FALLBACK_BATCH = 64;

type EventLike = { event: { section: string; method: string; data: Codec[] } };
interface WeightLike {
  refTime: { toBigInt(): bigint };
  proofSize: { toBigInt(): bigint };
}

export class ProxyJudge implements Judge {
  private waiting: Wanted[] = [];
  private firstWaitingAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Flushes being prepared (read, signed, handed to the pool), and submissions awaiting a block. */
  private preparing = 0;
  private awaiting = 0;
  private nonce: number | undefined;
  private capacity: Promise<number> | undefined;
  private period: Promise<number> | undefined;
  private head: Promise<{ hash: string; number: number }> | undefined;
  /** Submissions are prepared one at a time, so nonces go out in order. */
  private sending: Promise<void> = Promise.resolve();
  private readonly inclusions: Inclusions;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly inFlightWaitMs: number;
  private readonly proxyType: string;

  constructor(
    private readonly api: ApiPromise,
    private readonly proxy: KeyringPair,
    private readonly registrarAccount: string,
    private readonly registrarIndex: number,
    private readonly options: JudgeOptions = {},
  ) {
    this.quietMs = options.quietMs ?? 50;
    this.maxWaitMs = options.maxWaitMs ?? 500;
    this.inFlightWaitMs = options.inFlightWaitMs ?? 2_000;
    this.proxyType = options.proxyType ?? 'IdentityJudgement';
    // A backstop for a chain that builds no blocks at all; expiry ends the wait otherwise.
    this.inclusions = new Inclusions(api, options.timeoutMs ?? 600_000);
  }

  giveJudgement(
    target: string,
    identityHash: string,
    judgement: GivenJudgement = 'Reasonable',
  ): Promise<JudgeOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ target, identityHash, judgement, resolve });
      this.schedule();
    });
  }

  /** The newest block, kept current by a subscription made on first use. */
  private bestHead(): Promise<{ hash: string; number: number }> {
    this.head ??= new Promise((resolve, reject) => {
      this.api.rpc.chain
        .subscribeNewHeads((header) => {
          const latest = { hash: header.hash.toHex(), number: header.number.toNumber() };
          this.head = Promise.resolve(latest);
          resolve(latest);
        })
        .catch((error: unknown) => {
          this.head = undefined;
          reject(error);
        });
    });
    return this.head;
  }

  /** The most judgements one extrinsic carries on this runtime. */
  batchCapacity(): Promise<number> {
    void this.bestHead().catch(() => undefined);
    this.capacity ??= this.measureCapacity().catch(() => FALLBACK_BATCH);
    return this.capacity;
  }

  /** Blocks a judgement stays valid for: a power of two (the era's rule) near MORTAL_MS. */
  mortalPeriod(): Promise<number> {
    if (this.options.mortalPeriod) return Promise.resolve(this.options.mortalPeriod);
    this.period ??= blockTimeOf(this.api)
      .then((blockMs) => {
        const blocks = Math.ceil(MORTAL_MS / blockMs);
        return Math.min(65_536, Math.max(4, 2 ** Math.ceil(Math.log2(blocks))));
      })
      .catch(() => {
        this.period = undefined;
        return 64;
      });
    return this.period;
  }

  private schedule(): void {
    if (this.waiting.length === 0) return;
    const now = Date.now();
    this.firstWaitingAt ??= now;
    const due =
      this.preparing > 0 || this.awaiting > 0
        ? this.firstWaitingAt + this.inFlightWaitMs
        : Math.min(now + this.quietMs, this.firstWaitingAt + this.maxWaitMs);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), Math.max(0, due - now));
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstWaitingAt = undefined;
    // One judgement per account per flush; a second for the same account waits for the next.
    const taken = new Set<string>();
    const now: Wanted[] = [];
    const later: Wanted[] = [];
    for (const wanted of this.waiting) {
      if (taken.has(wanted.target)) later.push(wanted);
      else {
        taken.add(wanted.target);
        now.push(wanted);
      }
    }
    this.waiting = later;
    if (now.length === 0) return;
    this.preparing += 1;
    this.sending = this.sending
      .then(() => this.send(now))
      .catch((error: unknown) => {
        for (const wanted of now) wanted.resolve({ kind: 'failed', error: messageOf(error) });
      })
      .finally(() => {
        this.preparing -= 1;
        this.schedule();
      });
  }

  /**
   * Certifications go out only for requests still pending right now, for the identity verified:
   * a person may cancel or edit between the registrar's last look and the signature, and the chain
   * would take a judgement without a request. Re-read at the newest block immediately before
   * signing, that window is a block at most.
   */
  private async send(wanted: readonly Wanted[]): Promise<void> {
    const { api } = this;
    if (!api.isConnected) {
      for (const w of wanted) w.resolve({ kind: 'failed', error: 'not connected to the chain' });
      return;
    }
    const certifying = wanted.filter((w) => CERTIFYING.has(w.judgement)).map((w) => w.target);
    // When the proxy's nonce must come from the chain, it is read beside the batch's identities:
    // one round trip fewer between the last proof and the pool.
    const chainNonce = this.nonce === undefined ? this.chainNonce().catch(() => undefined) : undefined;
    // One value that does not decode fails its own judgement, not the batch it is in.
    const unreadable = new Set<string>();
    const pending = await readPendingOf(api, undefined, this.registrarIndex, certifying, {
      unreadable: (account) => unreadable.add(account),
    });
    const ready: Wanted[] = [];
    for (const w of wanted) {
      if (!CERTIFYING.has(w.judgement)) {
        ready.push(w);
        continue;
      }
      const identity = pending.get(w.target);
      if (unreadable.has(w.target))
        w.resolve({
          kind: 'failed',
          error: "its identity on chain does not decode with this runtime's types",
        });
      else if (!identity) w.resolve({ kind: 'not-pending' });
      else if (identity.snapshot.hash !== w.identityHash) w.resolve({ kind: 'different-identity' });
      else ready.push(w);
    }
    if (ready.length === 0) return;
    const capacity = await this.batchCapacity();
    for (let start = 0; start < ready.length; start += capacity) {
      const batch = ready.slice(start, start + capacity);
      const submitted = await this.submit(batch, start === 0 ? await chainNonce : undefined);
      if (!submitted.ok) {
        // The pool refused it: nothing after it can be included either (a nonce gap).
        for (const w of ready.slice(start)) w.resolve({ kind: 'failed', error: submitted.error });
        break;
      }
      // The next flush may be prepared while this one waits for its block.
      this.awaiting += 1;
      void submitted.included.then((found) => {
        if ('expired' in found) this.again(batch, found.expired);
        else {
          const outcomes =
            'error' in found
              ? batch.map((): JudgeOutcome => ({ kind: 'failed', error: found.error }))
              : this.outcomes(found.events, found.blockHash, submitted.hash, batch.length);
          batch.forEach((w, i) => {
            w.resolve(outcomes[i] ?? { kind: 'failed', error: 'no outcome for this item' });
          });
        }
        this.awaiting -= 1;
        // Nothing in flight: the chain's count is the truth again, and a re-org may have taken
        // back what was included (its nonce is free again; counting on from here would stall).
        if (this.awaiting === 0) this.nonce = undefined;
        // A block came: what gathered meanwhile goes out now, in time for the next one.
        if (this.awaiting === 0 && this.preparing === 0 && this.waiting.length > 0) this.flush();
        else this.schedule();
      });
    }
  }

  /**
   * The extrinsic of `batch` expired unincluded (the chain is final past block `death`): its
   * judgements wait for the next flush, which reads each slot again and signs with the chain's
   * nonce. One that keeps expiring is reported failed (the caller retries, and /readyz tells).
   */
  private again(batch: readonly Wanted[], death: number): void {
    this.nonce = undefined;
    const retried: Wanted[] = [];
    for (const w of batch) {
      const expired = (w.expired ?? 0) + 1;
      if (expired >= MAX_EXPIRIES)
        w.resolve({
          kind: 'failed',
          error: `expired unincluded ${expired} times (last valid block ${death - 1})`,
        });
      else retried.push({ ...w, expired });
    }
    this.options.log?.warn(
      { items: batch.length, again: retried.length, death },
      'judgement extrinsic expired unincluded; sending it again with the chain nonce',
    );
    this.waiting.unshift(...retried);
  }

  /** The proxy's nonce as the chain counts it (its best block), not the pool. */
  private async chainNonce(): Promise<number> {
    return (await this.api.query.system.account(this.proxy.address)).nonce.toNumber();
  }

  /** Signs with the next nonce and hands the extrinsic to the pool; resolves once the pool took it. */
  private async submit(
    batch: readonly Wanted[],
    chainNonce?: number,
  ): Promise<{ ok: true; hash: string; included: Promise<Found> } | { ok: false; error: string }> {
    const { api } = this;
    const tx = this.extrinsic(batch);
    try {
      // Nothing of ours in flight: the chain's own count, not the pool's. An extrinsic of ours
      // the pool still holds (one given up on) then has the same nonce: at most one is included.
      const nonce = this.nonce ?? chainNonce ?? (await this.chainNonce());
      // Mortal from the newest block known here: signing asks the node nothing.
      const head = await this.bestHead();
      const era = api.createType('ExtrinsicEra', {
        current: head.number,
        period: await this.mortalPeriod(),
      });
      await tx.signAsync(this.proxy, { nonce, blockHash: head.hash, era });
      const hash = tx.hash.toHex();
      const death = era.asMortalEra.death(head.number);
      const { found: included } = await this.inclusions.watch(hash, death);
      try {
        await api.rpc.author.submitExtrinsic(tx);
      } catch (error) {
        this.inclusions.forget(hash);
        throw error;
      }
      this.nonce = nonce + 1;
      return { ok: true, hash, included };
    } catch (error) {
      // Read the nonce again from the chain (and its pool) next time.
      this.nonce = undefined;
      return { ok: false, error: messageOf(error) };
    }
  }

  private extrinsic(
    batch: readonly Pick<Wanted, 'target' | 'judgement' | 'identityHash'>[],
  ): SubmittableExtrinsic<'promise'> {
    const { api } = this;
    const calls = batch.map((w) =>
      api.tx.identity.provideJudgement(this.registrarIndex, w.target, w.judgement, w.identityHash),
    );
    const inner = calls.length === 1 ? calls[0] : api.tx.utility.forceBatch(calls);
    return api.tx.proxy.proxy(this.registrarAccount, this.proxyType as never, inner as never);
  }

  /**
   * Items per extrinsic: the runtime's weight of a batch of one and of two gives the cost of one
   * more item; that, and its encoded length, against a share of one normal extrinsic's limits.
   */
  private async measureCapacity(): Promise<number> {
    if (this.options.maxBatch) return this.options.maxBatch;
    const { api } = this;
    const item = {
      target: this.registrarAccount,
      judgement: 'Reasonable' as const,
      identityHash: `0x${'00'.repeat(32)}`,
    };
    const [one, two] = await Promise.all(
      [[item], [item, item]].map(async (items) => {
        const call = this.extrinsic(items).method;
        const info = (await api.call.transactionPaymentCallApi.queryCallInfo(
          call.toHex(),
          call.encodedLength,
        )) as unknown as {
          weight: WeightLike;
        };
        return {
          ref: info.weight.refTime.toBigInt(),
          proof: info.weight.proofSize.toBigInt(),
          length: BigInt(call.encodedLength),
        };
      }),
    );
    if (!one || !two) return FALLBACK_BATCH;
    const weights = api.consts.system.blockWeights as unknown as {
      perClass: { normal: { maxExtrinsic: { isSome: boolean; unwrap(): WeightLike } } };
      maxBlock: WeightLike;
    };
    const max = weights.perClass.normal.maxExtrinsic.isSome
      ? weights.perClass.normal.maxExtrinsic.unwrap()
      : weights.maxBlock;
    const length = (
      api.consts.system.blockLength as unknown as { max: { normal: { toBigInt(): bigint } } }
    ).max.normal.toBigInt();
    const fits = (limit: bigint, first: bigint, each: bigint) =>
      each <= 0n
        ? Number.MAX_SAFE_INTEGER
        : Number(((limit * BigInt(LIMIT_SHARE * 100)) / 100n - first) / each) + 1;
    const capacity = Math.min(
      fits(max.refTime.toBigInt(), one.ref, two.ref - one.ref),
      fits(max.proofSize.toBigInt(), one.proof, two.proof - one.proof),
      fits(length, one.length, two.length - one.length),
    );
    return Math.max(1, capacity);
  }

  /** One outcome per item, from the extrinsic's events. */
  private outcomes(
    events: EventLike[],
    blockHash: string,
    extrinsicHash: string,
    items: number,
  ): JudgeOutcome[] {
    const all = (outcome: JudgeOutcome) => Array.from({ length: items }, () => outcome);
    const is = (section: string, method: string) => (e: EventLike) =>
      e.event.section === section && e.event.method === method;
    const failed = events.find(is('system', 'ExtrinsicFailed'));
    if (failed)
      return all({ kind: 'failed', error: this.describe(failed.event.data[0] as unknown as DispatchError) });
    const executed = events.find(is('proxy', 'ProxyExecuted'));
    const result = executed?.event.data[0] as (Codec & { isErr: boolean; asErr: DispatchError }) | undefined;
    if (!result) return all({ kind: 'failed', error: 'no ProxyExecuted event' });
    if (result.isErr) return all(this.refusal(result.asErr, blockHash));
    if (items === 1) return [{ kind: 'included', blockHash, extrinsicHash }];
    const perItem = events.filter((e) => is('utility', 'ItemCompleted')(e) || is('utility', 'ItemFailed')(e));
    if (perItem.length !== items)
      return all({ kind: 'failed', error: `batch reported ${perItem.length} of ${items} items` });
    return perItem.map((e) =>
      e.event.method === 'ItemCompleted'
        ? { kind: 'included', blockHash, extrinsicHash }
        : this.refusal(e.event.data[0] as unknown as DispatchError, blockHash),
    );
  }

  private refusal(error: DispatchError, blockHash: string): JudgeOutcome {
    const name = this.describe(error);
    return name === 'identity.JudgementForDifferentIdentity'
      ? { kind: 'different-identity', blockHash }
      : { kind: 'failed', error: name };
  }

  private describe(error: DispatchError): string {
    if (error.isModule) {
      const meta = this.api.registry.findMetaError(error.asModule);
      return `${meta.section}.${meta.name}`;
    }
    return error.type;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
