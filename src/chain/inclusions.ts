/**
 * Finds submitted extrinsics in new blocks, by hash: one subscription to new heads for all that
 * are awaited, each block read once. A status subscription per extrinsic is not used: those are
 * lost on a reconnect, and a node that builds the block at once may report inclusion before the
 * watch is in place.
 *
 * A mortal extrinsic that was not found by its last valid block is reported expired, but only once
 * the finalized head has passed that block: from then on no block can include it, so sending the
 * same judgement again cannot give it twice.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';

type EventLike = { event: { section: string; method: string; data: Codec[] } };

export type Found =
  | { blockHash: string; events: EventLike[] }
  | { error: string }
  /** Not included, and no longer includable: the chain is final past `death`, its era's end. */
  | { expired: number };

interface Awaited {
  resolve: (found: Found) => void;
  timer: NodeJS.Timeout;
  /** The first block that cannot include it (its era's death), for a mortal extrinsic. */
  death?: number;
}

export class Inclusions {
  private readonly awaited = new Map<string, Awaited>();
  private unsubscribe: (() => void) | undefined;
  private subscribing: Promise<void> | undefined;
  private lastScanned: number | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private readonly onDisconnect = () => this.failAll('connection lost while waiting for inclusion');

  constructor(
    private readonly api: ApiPromise,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Starts looking for `extrinsicHash` in blocks after the current best one; resolves, once the
   * watch is in place, with the promise of where it was found (or why it was not). Rejects when
   * no watch could be set up: the extrinsic must not be submitted then.
   */
  async watch(extrinsicHash: string, death?: number): Promise<{ found: Promise<Found> }> {
    const found = new Promise<Found>((resolve) => {
      const timer = setTimeout(
        () => this.settle(extrinsicHash, { error: `not included within ${this.timeoutMs} ms` }),
        this.timeoutMs,
      );
      this.awaited.set(extrinsicHash, { resolve, timer, ...(death === undefined ? {} : { death }) });
    });
    try {
      await this.subscribe();
    } catch (error) {
      // Not watched, so not to be submitted: it could be included unseen and judged twice.
      this.forget(extrinsicHash);
      throw error;
    }
    return { found };
  }

  /** The extrinsic never reached the pool: stop looking for it. */
  forget(extrinsicHash: string): void {
    const awaited = this.awaited.get(extrinsicHash);
    if (!awaited) return;
    clearTimeout(awaited.timer);
    this.awaited.delete(extrinsicHash);
    this.release();
  }

  private subscribe(): Promise<void> {
    if (this.unsubscribe) return Promise.resolve();
    this.subscribing ??= (async () => {
      const { api } = this;
      this.lastScanned = (await api.rpc.chain.getHeader()).number.toNumber();
      api.on('disconnected', this.onDisconnect);
      this.unsubscribe = await api.rpc.chain.subscribeNewHeads((header) => {
        const head = header.number.toNumber();
        this.scanning = this.scanning
          .then(() => this.scanUpTo(head))
          .catch((error: unknown) => this.failAll(error instanceof Error ? error.message : String(error)));
      });
    })().finally(() => {
      this.subscribing = undefined;
    });
    return this.subscribing;
  }

  private async scanUpTo(head: number): Promise<void> {
    const { api } = this;
    for (let number = (this.lastScanned ?? head - 1) + 1; number <= head && this.awaited.size > 0; number++) {
      const blockHash = await api.rpc.chain.getBlockHash(number);
      const block = await api.rpc.chain.getBlock(blockHash);
      const hashes = block.block.extrinsics.map((extrinsic) => extrinsic.hash.toHex());
      const positions = hashes.flatMap((hash, position) =>
        this.awaited.has(hash) ? [{ hash, position }] : [],
      );
      if (positions.length > 0) {
        const records = await (await api.at(blockHash)).query.system.events();
        for (const { hash, position } of positions) {
          const events = records.filter(
            ({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === position,
          );
          this.settle(hash, { blockHash: blockHash.toHex(), events: events as unknown as EventLike[] });
        }
      }
      this.lastScanned = number;
    }
    await this.expireUpTo(head);
  }

  /** Settles as expired what the finalized chain has passed the death of, unincluded. */
  private async expireUpTo(head: number): Promise<void> {
    const dying = [...this.awaited].filter(([, a]) => a.death !== undefined && a.death <= head);
    if (dying.length === 0) return;
    const { api } = this;
    const finalized = (
      await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())
    ).number.toNumber();
    // Not seen in any block up to the head we scanned, and final past its death: it is gone.
    const scanned = this.lastScanned ?? head;
    for (const [hash, { death }] of dying)
      if (death !== undefined && death <= finalized && death <= scanned)
        this.settle(hash, { expired: death });
  }

  private settle(extrinsicHash: string, found: Found): void {
    const awaited = this.awaited.get(extrinsicHash);
    if (!awaited) return;
    clearTimeout(awaited.timer);
    this.awaited.delete(extrinsicHash);
    awaited.resolve(found);
    this.release();
  }

  private failAll(error: string): void {
    for (const hash of [...this.awaited.keys()]) this.settle(hash, { error });
  }

  /** Nothing awaited: the subscription goes (the next watch starts from the best block then). */
  private release(): void {
    if (this.awaited.size > 0 || !this.unsubscribe) return;
    this.unsubscribe();
    this.unsubscribe = undefined;
    this.api.off('disconnected', this.onDisconnect);
  }
}
