/**
 * Gives judgements: `proxy.proxy(registrar, IdentityJudgement, identity.provideJudgement(index,
 * target, Reasonable, snapshotHash))`, signed by the proxy key. Submissions go out one at a time so
 * that the proxy account's nonces never collide. The outcome is read from the block: the extrinsic
 * succeeds even when the inner call fails, so ProxyExecuted's result is what counts.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec, ISubmittableResult } from '@polkadot/types/types';

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

  private submit(target: string, identityHash: string): Promise<JudgeOutcome> {
    const { api } = this;
    const call = api.tx.identity.provideJudgement(this.registrarIndex, target, 'Reasonable', identityHash);
    const tx = api.tx.proxy.proxy(this.registrarAccount, 'IdentityJudgement' as never, call);
    if (!api.isConnected) return Promise.resolve({ kind: 'failed', error: 'not connected to the chain' });
    return new Promise<JudgeOutcome>((resolve) => {
      let unsubscribe: (() => void) | undefined;
      // A status subscription does not survive a dropped connection: give up and let the caller
      // retry, after it checked on chain whether this one made it.
      const onDisconnect = () =>
        finish({ kind: 'failed', error: 'connection lost while waiting for inclusion' });
      const finish = (outcome: JudgeOutcome) => {
        clearTimeout(timer);
        api.off('disconnected', onDisconnect);
        unsubscribe?.();
        resolve(outcome);
      };
      api.on('disconnected', onDisconnect);
      const timer = setTimeout(
        () => finish({ kind: 'failed', error: `not included within ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
      tx.signAndSend(this.proxy, { nonce: -1 }, (result: ISubmittableResult) => {
        if (result.isError) {
          finish({ kind: 'failed', error: `transaction ${result.status.type}` });
          return;
        }
        if (!result.status.isInBlock) return;
        const blockHash = result.status.asInBlock.toHex();
        if (result.dispatchError) {
          finish({ kind: 'failed', error: this.describe(result.dispatchError) });
          return;
        }
        const executed = result.events.find(
          ({ event }) => event.section === 'proxy' && event.method === 'ProxyExecuted',
        );
        const inner = executed?.event.data[0] as
          | (Codec & { isErr: boolean; asErr: Parameters<ProxyJudge['describe']>[0] })
          | undefined;
        if (!inner) {
          finish({ kind: 'failed', error: 'no ProxyExecuted event' });
        } else if (inner.isErr) {
          const error = this.describe(inner.asErr);
          finish(
            error === 'identity.JudgementForDifferentIdentity'
              ? { kind: 'different-identity', blockHash }
              : { kind: 'failed', error },
          );
        } else {
          finish({ kind: 'included', blockHash, extrinsicHash: tx.hash.toHex() });
        }
      })
        .then((unsub) => {
          unsubscribe = unsub;
        })
        .catch((error: unknown) =>
          finish({ kind: 'failed', error: error instanceof Error ? error.message : String(error) }),
        );
    });
  }

  private describe(error: NonNullable<ISubmittableResult['dispatchError']>): string {
    if (error.isModule) {
      const meta = this.api.registry.findMetaError(error.asModule);
      return `${meta.section}.${meta.name}`;
    }
    return error.type;
  }
}
