/**
 * What the instance holding the lease does: starts the listening channels, the outbox and the
 * watcher (its start-up scan) and the sanctions list's refresh, then polls for requests another
 * instance made ready, looks again for published proofs and runs the sweep of judged proofs. Only
 * one instance at a time, so nothing is judged or mailed twice.
 */
import type { ProxyJudge } from '../chain/judge.js';
import type { Watcher } from '../chain/watcher.js';
import type { Config } from '../config.js';
import { sweepTick } from '../domain/sweep.js';
import type { Lease } from '../registrar/lease.js';
import type { Registrar } from '../registrar/registrar.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import type { SanctionsRefresh } from './sanctions.js';

export interface LeaderPart {
  /** Called when this instance gains the lease; resolves once the start-up scan is done. */
  lead(): Promise<void>;
  /** Whether the start-up reconciliation is done. */
  reconciled(): boolean;
  stop(): void;
}

export function leaderDuties(o: {
  config: Config;
  registrar: Registrar;
  watcher: Watcher;
  judge: ProxyJudge;
  lease: Lease;
  log: Logger;
  /** The sanctions list fetched from its URL on schedule (by the lease holder only). */
  sanctions?: SanctionsRefresh;
}): LeaderPart {
  const { registrar, log } = o;
  let reconciled = false;
  let judgeReadyTimer: NodeJS.Timeout | undefined;
  let recheckTimer: NodeJS.Timeout | undefined;
  /** The recheck under way: one at a time, however slow the sites it reads. */
  let rechecking: Promise<unknown> | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  /** The sweep's tick under way (it spreads its checks over the tick), and what stops it. */
  let sweeping: Promise<unknown> | undefined;
  const sweepStop = new AbortController();
  return {
    lead: async () => {
      log.info({ instance: o.lease.owner }, 'this instance holds the lease: it judges and delivers');
      // In the background: a channel's service that never answers must not hold the watcher up.
      registrar.startChannels();
      registrar.outbox.start();
      o.sanctions?.start();
      await o.watcher.start();
      reconciled = true;
      // Asked of the runtime after the start-up scan (the node runs it, and a scan waits for the node
      // alone), before the first judgement needs it.
      void o.judge.batchCapacity();
      judgeReadyTimer = setInterval(() => void registrar.judgeReady().catch(() => undefined), 5_000);
      judgeReadyTimer.unref();
      // Published proofs (a website's line) are looked for again without the person pressing a button.
      recheckTimer = setInterval(() => {
        if (rechecking) return;
        rechecking = registrar
          .recheckPublished()
          .catch((error: unknown) => {
            log.error({ err: errorText(error) }, 'recheck failed');
          })
          .finally(() => {
            rechecking = undefined;
          });
      }, o.config.recheckSeconds * 1000);
      recheckTimer.unref();
      // Judged proofs are checked again, a share of them each tick (registrar/sweep.ts).
      const { sweep } = registrar;
      if (sweep && o.config.sweep) {
        const tickMs = sweepTick(o.config.sweep);
        sweepTimer = setInterval(() => {
          if (sweeping) return;
          sweeping = sweep
            .tick(tickMs, sweepStop.signal)
            .catch((error: unknown) => {
              log.error({ err: errorText(error) }, 'sweep failed');
            })
            .finally(() => {
              sweeping = undefined;
            });
        }, tickMs);
        sweepTimer.unref();
      }
    },
    reconciled: () => reconciled,
    stop: () => {
      clearInterval(judgeReadyTimer);
      clearInterval(recheckTimer);
      o.sanctions?.stop();
      clearInterval(sweepTimer);
      sweepStop.abort();
    },
  };
}
