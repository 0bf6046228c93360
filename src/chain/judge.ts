/**
 * Gives judgements: `proxy.proxy(registrar, IdentityJudgement, identity.provideJudgement(index,
 * target, Reasonable, snapshotHash))`, signed by the proxy key. Submissions go out one at a time so
 * that the proxy account's nonces never collide. The outcome is read from the block: the extrinsic
 * succeeds even when the inner call fails, so ProxyExecuted's result is what counts.
 * A JudgeOutcome says what happened; giveJudgement never rejects.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { DispatchError } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';

export type JudgeOutcome =
  | { kind: 'included'; blockHash: string; extrinsicHash: string }
  /** The identity changed since the snapshot: the person edited it. Re-verify; never resubmit. */
  | { kind: 'different-identity'; blockHash: string }
  | { kind: 'failed'; error: string };

export interface Judge {
  giveJudgement(target: string, identityHash: string): Promise<JudgeOutcome>;
}

export class ProxyJudge implements Judge {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: ApiPromise,
    private readonly proxy: KeyringPair,
    private readonly registrarAccount: string,
    private readonly registrarIndex: number,
    private readonly timeoutMs = 90_000,
  ) {}

  giveJudgement(target: string, identityHash: string): Promise<JudgeOutcome> {
    const next = this.queue.then(() => this.submit(target, identityHash));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Submits and then looks for the extrinsic in each new block, instead of trusting a status
   * subscription: those are lost on a reconnect, and a node that builds the block at once may
   * report inclusion before the watch is in place.
   */
  private async submit(target: string, identityHash: string): Promise<JudgeOutcome> {
    const { api } = this;
    if (!api.isConnected) return { kind: 'failed', error: 'not connected to the chain' };
    const call = api.tx.identity.provideJudgement(this.registrarIndex, target, 'Reasonable', identityHash);
    const tx = api.tx.proxy.proxy(this.registrarAccount, 'IdentityJudgement' as never, call);
    try {
      await tx.signAsync(this.proxy, { nonce: -1 });
    } catch (error) {
      return { kind: 'failed', error: messageOf(error) };
    }
    const extrinsicHash = tx.hash.toHex();
    return new Promise<JudgeOutcome>((resolve) => {
      let unsubscribe: (() => void) | undefined;
      let lastScanned: number | undefined;
      let done = false;
      let scanning = Promise.resolve();
      const finish = (outcome: JudgeOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        api.off('disconnected', onDisconnect);
        unsubscribe?.();
        resolve(outcome);
      };
      // After a dropped connection the caller retries, once it checked on chain whether this made it.
      const onDisconnect = () =>
        finish({ kind: 'failed', error: 'connection lost while waiting for inclusion' });
      const timer = setTimeout(
        () => finish({ kind: 'failed', error: `not included within ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
      api.on('disconnected', onDisconnect);
      const scanUpTo = async (head: number) => {
        const from = lastScanned === undefined ? head : lastScanned + 1;
        for (let number = from; number <= head && !done; number++) {
          const outcome = await this.outcomeIn(number, extrinsicHash);
          lastScanned = number;
          if (outcome) finish(outcome);
        }
      };
      api.rpc.chain
        .subscribeNewHeads((header) => {
          const number = header.number.toNumber();
          scanning = scanning
            .then(() => scanUpTo(number))
            .catch((error: unknown) => finish({ kind: 'failed', error: messageOf(error) }));
        })
        .then(async (unsub) => {
          unsubscribe = unsub;
          if (done) unsub();
          await api.rpc.author.submitExtrinsic(tx);
        })
        .catch((error: unknown) => finish({ kind: 'failed', error: messageOf(error) }));
    });
  }

  /** The outcome of our extrinsic if block `number` holds it. */
  private async outcomeIn(number: number, extrinsicHash: string): Promise<JudgeOutcome | undefined> {
    const { api } = this;
    const blockHash = await api.rpc.chain.getBlockHash(number);
    const block = await api.rpc.chain.getBlock(blockHash);
    const position = block.block.extrinsics.findIndex(
      (extrinsic) => extrinsic.hash.toHex() === extrinsicHash,
    );
    if (position < 0) return undefined;
    const records = await (await api.at(blockHash)).query.system.events();
    const mine = records.filter(
      ({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === position,
    );
    const at = blockHash.toHex();
    const failed = mine.find(({ event }) => api.events.system.ExtrinsicFailed.is(event));
    if (failed) {
      return { kind: 'failed', error: this.describe(failed.event.data[0] as unknown as DispatchError) };
    }
    const executed = mine.find(({ event }) => event.section === 'proxy' && event.method === 'ProxyExecuted');
    const inner = executed?.event.data[0] as (Codec & { isErr: boolean; asErr: DispatchError }) | undefined;
    if (!inner) return { kind: 'failed', error: 'no ProxyExecuted event' };
    if (!inner.isErr) return { kind: 'included', blockHash: at, extrinsicHash };
    const error = this.describe(inner.asErr);
    return error === 'identity.JudgementForDifferentIdentity'
      ? { kind: 'different-identity', blockHash: at }
      : { kind: 'failed', error };
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
