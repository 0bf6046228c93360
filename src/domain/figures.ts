/**
 * The registrar's public figures: how many requests it took and judged over a window, and how long
 * people waited, taken from the audit log's timings. Pure: the store reads, this counts.
 */
import type { JudgementRecord } from './request.js';

/** The days the public figures look back over. */
export const FIGURES_WINDOW_DAYS = 30;

/** The middle and the ninetieth percentile of a set of durations, in seconds, and how many there were. */
export interface Spread {
  count: number;
  p50Seconds: number | null;
  p90Seconds: number | null;
}

export interface Figures {
  /** The window, as dates the figures cover (ms since the epoch). */
  from: number;
  to: number;
  /** Requests made to this registrar in the window. */
  requests: number;
  /** Judgements given in the window, by kind (Reasonable, KnownGood, Erroneous, ...). */
  judgements: Record<string, number>;
  /** From the request to the first challenge delivered to the person. */
  requestToChallenge: Spread;
  /** From the last field proven to the judgement included on chain. */
  proofToJudgement: Spread;
  /** From the request to the judgement included on chain. */
  requestToJudgement: Spread;
}

/** The nearest-rank percentile `p` (0 to 100) of `sorted`, ascending; null when there is none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function spread(durationsMs: number[]): Spread {
  const sorted = durationsMs.filter((d) => d >= 0).sort((a, b) => a - b);
  const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);
  return {
    count: sorted.length,
    p50Seconds: seconds(percentile(sorted, 50)),
    p90Seconds: seconds(percentile(sorted, 90)),
  };
}

/**
 * The figures of the judgements in `records` given within the window ending at `now`, and of
 * `requests` made in it. Judgements an operator gave by hand count by kind but not in the
 * durations: nobody proved anything for them.
 */
export function figuresOf(
  records: readonly JudgementRecord[],
  requests: number,
  now: number,
  windowDays = FIGURES_WINDOW_DAYS,
): Figures {
  const from = now - windowDays * 86_400_000;
  const judgements: Record<string, number> = {};
  const toChallenge: number[] = [];
  const toJudgement: number[] = [];
  const fromProof: number[] = [];
  for (const record of records) {
    if (record.at < from || record.at > now) continue;
    judgements[record.judgement] = (judgements[record.judgement] ?? 0) + 1;
    const timing = record.timing;
    if (record.by !== undefined || timing === undefined) continue;
    toJudgement.push(record.at - timing.requestedAt);
    if (timing.challengedAt !== undefined) toChallenge.push(timing.challengedAt - timing.requestedAt);
    if (timing.provenAt !== undefined) fromProof.push(record.at - timing.provenAt);
  }
  return {
    from,
    to: now,
    requests,
    judgements,
    requestToChallenge: spread(toChallenge),
    proofToJudgement: spread(fromProof),
    requestToJudgement: spread(toJudgement),
  };
}
