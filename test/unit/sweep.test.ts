/**
 * The sweep's decisions: checks spread evenly over the period (never a burst), a gone proof given a
 * grace, a restored one cancelling it, OutOfDate only for a definite answer at the grace's end, and
 * an unreachable service never changing anything.
 */
import { describe, expect, it } from '@jest/globals';
import {
  afterCheck,
  type CheckAnswer,
  checksPerTick,
  firstCheckAt,
  type JudgedProof,
  type SweepTimes,
} from '../../src/domain/sweep.js';

const DAY = 86_400_000;
const times: SweepTimes = { periodMs: 30 * DAY, graceMs: 14 * DAY };
const judgedAt = 1_000_000;
const proof: JudgedProof = {
  account: 'acct',
  registrarIndex: 1,
  field: 'web',
  subject: 'example.org',
  nonce: 'ABCD2345',
  identityHash: '0xaa',
  judgedAt,
  nextCheckAt: firstCheckAt(judgedAt, times),
};
const gone: CheckAnswer = { kind: 'gone', reason: 'the line is not published' };
const unknown: CheckAnswer = { kind: 'unknown', reason: 'the site did not answer' };
const holds: CheckAnswer = { kind: 'holds' };

describe('when judged proofs are checked', () => {
  it('checks a proof a period after its judgement', () => {
    expect(proof.nextCheckAt).toBe(judgedAt + 30 * DAY);
  });

  it('spreads the checks evenly: a tick takes its share of the period, at least one, never all at once', () => {
    const minute = 60_000;
    // 10,000 proofs over 30 days: 0.23 a minute, so one a minute.
    expect(checksPerTick(10_000, minute, times)).toBe(1);
    // 1,000,000 over 30 days: 23.1 a minute, rounded up.
    expect(checksPerTick(1_000_000, minute, times)).toBe(24);
    // Even when every proof is due at once (many judged together, or after downtime), a day's
    // ticks take a thirtieth of them, not all.
    const perDay = checksPerTick(10_000, minute, times) * 24 * 60;
    expect(perDay).toBeLessThan(10_000 / 6);
    expect(checksPerTick(0, minute, times)).toBe(1);
  });
});

describe('what a check leads to', () => {
  it('a proof that holds is checked again a period later', () => {
    const now = proof.nextCheckAt + 5;
    const step = afterCheck(proof, holds, now, times);
    expect(step.kind).toBe('holds');
    expect(step.proof).toEqual({ ...proof, checkedAt: now, nextCheckAt: now + 30 * DAY });
  });

  it('a proof gone starts a grace, looked at daily and at its end', () => {
    const now = proof.nextCheckAt;
    const step = afterCheck(proof, gone, now, times);
    expect(step.kind).toBe('grace-started');
    expect(step.proof.grace).toEqual({ since: now, until: now + 14 * DAY, reason: gone.reason });
    expect(step.proof.nextCheckAt).toBe(now + DAY);
    // A grace shorter than a day is looked at once, at its end.
    const short = afterCheck(proof, gone, now, { periodMs: 30 * DAY, graceMs: 3_600_000 });
    expect(short.proof.nextCheckAt).toBe(now + 3_600_000);
  });

  it('still gone within the grace: the grace goes on, no OutOfDate yet', () => {
    const started = afterCheck(proof, gone, proof.nextCheckAt, times).proof;
    const step = afterCheck(started, gone, started.nextCheckAt, times);
    expect(step.kind).toBe('still-gone');
    expect(step.proof.grace?.until).toBe(started.grace?.until);
    expect(step.proof.grace?.since).toBe(started.grace?.since);
  });

  it('gone at the end of the grace: OutOfDate, with the reason', () => {
    const started = afterCheck(proof, gone, proof.nextCheckAt, times).proof;
    const end = started.grace?.until ?? 0;
    const step = afterCheck(started, { kind: 'gone', reason: 'still not published' }, end, times);
    expect(step).toMatchObject({ kind: 'out-of-date', reason: 'still not published' });
  });

  it('restored before the end of the grace: the grace is cancelled', () => {
    const started = afterCheck(proof, gone, proof.nextCheckAt, times).proof;
    const now = (started.grace?.until ?? 0) - 1;
    const step = afterCheck(started, holds, now, times);
    expect(step.kind).toBe('restored');
    expect(step.proof.grace).toBeUndefined();
    expect(step.proof.nextCheckAt).toBe(now + 30 * DAY);
  });

  it('an unreachable service changes nothing, even long after the grace ran out', () => {
    const first = afterCheck(proof, unknown, proof.nextCheckAt, times);
    expect(first.kind).toBe('unknown');
    expect(first.proof.grace).toBeUndefined();
    const started = afterCheck(proof, gone, proof.nextCheckAt, times).proof;
    let current = started;
    for (const now of [started.grace?.until ?? 0, (started.grace?.until ?? 0) + 365 * DAY]) {
      const step = afterCheck(current, unknown, now, times);
      expect(step.kind).toBe('unknown');
      expect(step.proof.grace).toEqual(started.grace);
      expect(step.proof.nextCheckAt).toBe(now + 3_600_000);
      current = step.proof;
    }
    // Only a definite answer ends it: gone after all that is OutOfDate, holds cancels the grace.
    expect(afterCheck(current, gone, (current.checkedAt ?? 0) + 1, times).kind).toBe('out-of-date');
    expect(afterCheck(current, holds, (current.checkedAt ?? 0) + 1, times).kind).toBe('restored');
  });
});
