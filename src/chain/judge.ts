/**
 * Gives judgements through the IdentityJudgement proxy, signed by the proxy key:
 * `proxy.proxy(registrar, IdentityJudgement, identity.provideJudgement(index, target, Reasonable,
 * snapshotHash))`, or, when several are ready together, one `utility.forceBatch` of them inside the
 * proxy call. forceBatch, not batch: one identity edited at the last moment must not hold back the
 * others; each item's outcome is read from its own ItemCompleted/ItemFailed event.
 *
 * Submissions go out one at a time, so the proxy account's nonces never collide. The outcome is read
 * from the block, never from the extrinsic's success alone: a failed call inside `proxy.proxy` still
 * gives ExtrinsicSuccess. `giveJudgement` never rejects; a JudgeOutcome says what happened.
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { DispatchError } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { isPending } from './identity.js';

export type JudgeOutcome =
  | { kind: 'included'; blockHash: string; extrinsicHash: string }
  /** The identity changed since the snapshot: the person edited it. Re-verify; never resubmit. */
  | { kind: 'different-identity'; blockHash: string }
  /** Re-read right before signing, the slot was no longer FeePaid (cancelled): not submitted. */
  | { kind: 'not-pending' }
  | { kind: 'failed'; error: string };

/** The judgements a registrar gives: Reasonable for what was proven, the others by an operator. */
export type GivenJudgement = 'Reasonable' | 'KnownGood' | 'OutOfDate' | 'LowQuality' | 'Erroneous';

export interface Judge {
  giveJudgement(target: string, identityHash: string, judgement?: GivenJudgement): Promise<JudgeOutcome>;
}

export interface JudgeOptions {
  /** How long the first ready judgement waits for others to join its batch. */
  batchWindowMs?: number;
  maxBatch?: number;
  /** How long to wait for inclusion before giving up (the caller retries). */
  timeoutMs?: number;
  /** The proxy type the key has (registrar-check.ts); IdentityJudgement when absent. */
  proxyType?: string;
}

interface Wanted {
  target: string;
  identityHash: string;
  judgement: GivenJudgement;
  resolve: (outcome: JudgeOutcome) => void;
}

/** Judgements that certify; they are given only while the request is pending. */
const CERTIFYING: ReadonlySet<GivenJudgement> = new Set(['Reasonable', 'KnownGood']);

type EventLike = { event: { section: string; method: string; data: Codec[] } };

export class ProxyJudge implements Judge {
  private readonly waiting: Wanted[] = [];
  private running = false;
  private readonly batchWindowMs: number;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;
  private readonly proxyType: string;

  constructor(
    private readonly api: ApiPromise,
    private readonly proxy: KeyringPair,
    private readonly registrarAccount: string,
    private readonly registrarIndex: number,
    options: JudgeOptions = {},
  ) {
    this.batchWindowMs = options.batchWindowMs ?? 1_000;
    this.maxBatch = options.maxBatch ?? 16;
    this.timeoutMs = options.timeoutMs ?? 90_000;
    this.proxyType = options.proxyType ?? 'IdentityJudgement';
  }

  giveJudgement(
    target: string,
    identityHash: string,
    judgement: GivenJudgement = 'Reasonable',
  ): Promise<JudgeOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ target, identityHash, judgement, resolve });
      void this.pump();
    });
  }

  /** Sends what is waiting, a batch at a time, until nothing is. */
  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.batchWindowMs));
        const batch = this.waiting.splice(0, this.maxBatch);
        const outcomes = await this.submit(batch);
        batch.forEach((wanted, i) => {
          wanted.resolve(outcomes[i] ?? { kind: 'failed', error: 'no outcome for this item' });
        });
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Certifications go out only for requests still pending right now: a person may cancel between
   * the registrar's last look and the signature, and the chain would take the judgement anyway.
   * Re-read at the newest block immediately before signing, that window is a block at most.
   */
  private async submit(wanted: readonly Wanted[]): Promise<JudgeOutcome[]> {
    const { api } = this;
    if (!api.isConnected) return wanted.map(() => ({ kind: 'failed', error: 'not connected to the chain' }));
    let stillPending: boolean[];
    try {
      stillPending = await Promise.all(
        wanted.map((w) =>
          CERTIFYING.has(w.judgement) ? isPending(api, w.target, this.registrarIndex) : Promise.resolve(true),
        ),
      );
    } catch (error) {
      return wanted.map(() => ({ kind: 'failed', error: messageOf(error) }));
    }
    const batch = wanted.filter((_, i) => stillPending[i]);
    const outcomes = batch.length > 0 ? await this.submitNow(batch) : [];
    let next = 0;
    return wanted.map((_, i) =>
      stillPending[i]
        ? (outcomes[next++] ?? { kind: 'failed', error: 'no outcome' })
        : { kind: 'not-pending' },
    );
  }

  private async submitNow(batch: readonly Wanted[]): Promise<JudgeOutcome[]> {
    const { api } = this;
    const all = (outcome: JudgeOutcome) => batch.map(() => outcome);
    const calls = batch.map((w) =>
      api.tx.identity.provideJudgement(this.registrarIndex, w.target, w.judgement, w.identityHash),
    );
    const inner = calls.length === 1 ? calls[0] : api.tx.utility.forceBatch(calls);
    const tx = api.tx.proxy.proxy(this.registrarAccount, this.proxyType as never, inner as never);
    try {
      await tx.signAsync(this.proxy, { nonce: -1 });
    } catch (error) {
      return all({ kind: 'failed', error: messageOf(error) });
    }
    const found = await this.waitForInclusion(tx);
    if ('error' in found) return all({ kind: 'failed', error: found.error });
    return this.outcomes(found.events, found.blockHash, tx.hash.toHex(), batch.length);
  }

  /**
   * Submits and then looks for the extrinsic in each new block, instead of trusting a status
   * subscription: those are lost on a reconnect, and a node that builds the block at once may
   * report inclusion before the watch is in place.
   */
  private waitForInclusion(
    tx: SubmittableExtrinsic<'promise'>,
  ): Promise<{ blockHash: string; events: EventLike[] } | { error: string }> {
    const { api } = this;
    const extrinsicHash = tx.hash.toHex();
    return new Promise((resolve) => {
      let unsubscribe: (() => void) | undefined;
      let lastScanned: number | undefined;
      let done = false;
      let scanning = Promise.resolve();
      const finish = (result: { blockHash: string; events: EventLike[] } | { error: string }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        api.off('disconnected', onDisconnect);
        unsubscribe?.();
        resolve(result);
      };
      // After a dropped connection the caller retries, once it checked on chain whether this made it.
      const onDisconnect = () => finish({ error: 'connection lost while waiting for inclusion' });
      const timer = setTimeout(
        () => finish({ error: `not included within ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
      api.on('disconnected', onDisconnect);
      const scanUpTo = async (head: number) => {
        const from = lastScanned === undefined ? head : lastScanned + 1;
        for (let number = from; number <= head && !done; number++) {
          const found = await this.findIn(number, extrinsicHash);
          lastScanned = number;
          if (found) finish(found);
        }
      };
      api.rpc.chain
        .subscribeNewHeads((header) => {
          const number = header.number.toNumber();
          scanning = scanning
            .then(() => scanUpTo(number))
            .catch((error: unknown) => finish({ error: messageOf(error) }));
        })
        .then(async (unsub) => {
          unsubscribe = unsub;
          if (done) unsub();
          await api.rpc.author.submitExtrinsic(tx);
        })
        .catch((error: unknown) => finish({ error: messageOf(error) }));
    });
  }

  /** The events of our extrinsic, in order, if block `number` holds it. */
  private async findIn(
    number: number,
    extrinsicHash: string,
  ): Promise<{ blockHash: string; events: EventLike[] } | undefined> {
    const { api } = this;
    const blockHash = await api.rpc.chain.getBlockHash(number);
    const block = await api.rpc.chain.getBlock(blockHash);
    const position = block.block.extrinsics.findIndex(
      (extrinsic) => extrinsic.hash.toHex() === extrinsicHash,
    );
    if (position < 0) return undefined;
    const records = await (await api.at(blockHash)).query.system.events();
    const events = records.filter(
      ({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === position,
    );
    return { blockHash: blockHash.toHex(), events: events as unknown as EventLike[] };
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
