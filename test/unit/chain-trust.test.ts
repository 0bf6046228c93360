import { describe, expect, it } from '@jest/globals';
import { distrust, MAX_HEAD_AGE_MS } from '../../src/chain/connection.js';

describe('which chain endpoint is trusted', () => {
  const now = 1_800_000_000_000;

  it('refuses one whose finalized head is behind a block already seen final', () => {
    expect(distrust({ number: 99, time: now }, 100, now, MAX_HEAD_AGE_MS)).toContain(
      'chain endpoint is behind blocks already seen',
    );
    expect(distrust({ number: 100, time: now }, 100, now, MAX_HEAD_AGE_MS)).toBeUndefined();
    expect(distrust({ number: 5, time: now }, undefined, now, MAX_HEAD_AGE_MS)).toBeUndefined();
  });

  it('refuses one whose finalized head is older than the bound (a node that stopped following)', () => {
    const old = { number: 500, time: now - MAX_HEAD_AGE_MS - 60_000 };
    expect(distrust(old, 100, now, MAX_HEAD_AGE_MS)).toContain(
      'finalized head is old (block 500, 61 minutes)',
    );
    expect(distrust({ number: 500, time: now - 60_000 }, 100, now, MAX_HEAD_AGE_MS)).toBeUndefined();
    // A runtime without timestamps: only the number counts.
    expect(distrust({ number: 500, time: undefined }, 100, now, MAX_HEAD_AGE_MS)).toBeUndefined();
  });
});
