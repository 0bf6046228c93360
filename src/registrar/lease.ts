/**
 * The lease that makes one instance of several on one store the one that judges and delivers.
 * It is held for `ttlMs` and renewed every third of that; when its holder stops renewing (killed,
 * stalled, cut off from the store) another instance takes it once it lapses. An instance that
 * finds it lost the lease must stop judging at once: the caller is told.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import { errorText } from './updates.js';

const LEASE = 'registrar';

export interface LeaseEvents {
  /** This instance holds the lease now. */
  gained: () => unknown;
  /** This instance held the lease and no longer does. */
  lost: () => void;
}

export class Lease {
  /** Names this instance in the store and in logs. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private holding = false;
  private until = 0;
  private timer: NodeJS.Timeout | undefined;
  private events: LeaseEvents | undefined;

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get held(): boolean {
    return this.holding;
  }

  /** Tries once now (so a lone instance leads from the start), then keeps trying or renewing. */
  async start(events: LeaseEvents): Promise<void> {
    this.events = events;
    await this.tick();
    this.timer = setInterval(
      () =>
        void this.tick().catch((error: unknown) => {
          // Taking over failed half-way (the chain unreachable): say so; the next tick goes on.
          this.log.error({ err: errorText(error) }, 'taking over the lease failed');
        }),
      Math.max(1_000, Math.floor(this.ttlMs / 3)),
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.events = undefined;
    if (!this.holding) return;
    this.holding = false;
    // Released, the next instance need not wait for it to lapse.
    await this.store.releaseLease(LEASE, this.owner).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const now = this.now();
    let granted: boolean;
    try {
      granted = await this.store.claimLease(LEASE, this.owner, now + this.ttlMs, now);
    } catch (error) {
      this.log.error({ err: errorText(error) }, 'could not renew the lease');
      // Unrenewed past its end, someone else may hold it by now.
      granted = this.holding && this.now() < this.until;
    }
    if (granted) {
      if (!this.holding) {
        this.holding = true;
        this.until = now + this.ttlMs;
        try {
          await this.events?.gained();
        } catch (error) {
          // Not leading after all: give the lease back, so this or another instance tries again.
          this.holding = false;
          await this.store.releaseLease(LEASE, this.owner).catch(() => undefined);
          throw error;
        }
      }
      this.until = now + this.ttlMs;
    } else if (this.holding) {
      this.holding = false;
      this.events?.lost();
    }
  }
}
