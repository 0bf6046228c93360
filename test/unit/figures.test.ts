import { describe, expect, it } from '@jest/globals';
import { figuresOf, percentile } from '../../src/domain/figures.js';
import { type JudgementRecord, timingOf } from '../../src/domain/request.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;

function judged(
  at: number,
  timing: JudgementRecord['timing'],
  extra: Partial<JudgementRecord> = {},
): JudgementRecord {
  return {
    account: 'a',
    registrarIndex: 1,
    judgement: 'Reasonable',
    identityHash: '0x01',
    blockHash: '0x02',
    extrinsicHash: '0x03',
    at,
    ...(timing ? { timing } : {}),
    ...extra,
  };
}

describe('percentile', () => {
  it('takes the nearest rank: the median of an even set is its lower middle, p90 of ten the ninth', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 50)).toBe(5);
    expect(percentile(ten, 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('the public figures', () => {
  it('counts the judgements of the last 30 days by kind and measures the waits of those proofs earned', () => {
    const records: JudgementRecord[] = [];
    // Ten judgements earned by proofs: challenged i s after the request, proven 2 s before the judgement.
    for (let i = 1; i <= 10; i++) {
      const at = NOW - i * 1_000;
      records.push(
        judged(at, {
          requestedAt: at - i * 60_000,
          challengedAt: at - i * 60_000 + i * 1_000,
          provenAt: at - 2_000,
        }),
      );
    }
    // An operator's judgement by hand counts by kind, not in the waits.
    records.push(
      judged(NOW - 5_000, { requestedAt: NOW - 10 * DAY }, { judgement: 'Erroneous', by: 'alice' }),
    );
    // Older than the window: not counted at all.
    records.push(judged(NOW - 31 * DAY, { requestedAt: NOW - 32 * DAY, provenAt: NOW - 31 * DAY }));
    // An entry written before timings were kept counts by kind only.
    records.push(judged(NOW - 7_000, undefined, { judgement: 'KnownGood' }));

    const figures = figuresOf(records, 42, NOW);
    expect(figures.requests).toBe(42);
    expect(figures.judgements).toEqual({ Reasonable: 10, Erroneous: 1, KnownGood: 1 });
    expect(figures.from).toBe(NOW - 30 * DAY);
    expect(figures.requestToChallenge).toEqual({ count: 10, p50Seconds: 5, p90Seconds: 9 });
    expect(figures.proofToJudgement).toEqual({ count: 10, p50Seconds: 2, p90Seconds: 2 });
    expect(figures.requestToJudgement).toEqual({ count: 10, p50Seconds: 300, p90Seconds: 540 });
  });

  it('says there is no figure rather than zero when nothing was judged', () => {
    const figures = figuresOf([], 0, NOW);
    expect(figures.judgements).toEqual({});
    expect(figures.requestToJudgement).toEqual({ count: 0, p50Seconds: null, p90Seconds: null });
  });
});

describe("a request's timing", () => {
  it('starts at the request, the first challenge delivered and the last field proven', () => {
    const timing = timingOf(
      {
        createdAt: 1_000,
        fields: {
          display: { status: 'confirmed', value: 'A', subject: 'a', confirmedAt: 1_000 },
          email: { status: 'confirmed', value: 'a@x', subject: 'a@x', confirmedAt: 9_000 },
          legal: { status: 'failed', value: 'A', reason: 'r', hint: 'h' },
        },
      },
      [{ deliveredAt: 3_000 }, {}, { deliveredAt: 2_000 }],
    );
    expect(timing).toEqual({ requestedAt: 1_000, challengedAt: 2_000, provenAt: 9_000 });
  });

  it('has no challenge time when nothing was delivered', () => {
    expect(timingOf({ createdAt: 5, fields: {} }, [{}])).toEqual({ requestedAt: 5 });
  });
});
