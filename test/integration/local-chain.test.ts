/**
 * The local chain every test and `npm run dev` run on starts usable whatever the clock does: its
 * first block, which chopsticks builds while it starts, fails when the clock crosses an Aura slot
 * boundary between two of its reads, and the chain must still come up with a head past genesis
 * that accepts signed extrinsics.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { TestChain, UNIT } from '../support/chain.js';

describe('the local chain', () => {
  let chain: TestChain | undefined;
  afterAll(async () => {
    await chain?.close();
  });

  it('comes up usable when the first block chopsticks builds on start fails on a slot boundary', async () => {
    const realNow = Date.now;
    const start = realNow();
    let reads = 0;
    // Each read of the clock is a slot and more after the one before, so the two reads chopsticks
    // makes for its first block (Aura's slot, the timestamp) always fall in different slots.
    Date.now = () => start + 13_000 * reads++;
    try {
      chain = await TestChain.start({ mode: 'Manual' });
    } finally {
      Date.now = realNow;
    }
    expect((await chain.api.rpc.chain.getHeader()).number.toNumber()).toBeGreaterThanOrEqual(1);
    // A signed extrinsic is accepted and included, and the blocks after it build.
    const someone = chain.account('//LocalChainSomeone');
    await chain.fund(someone.address, 5n * UNIT);
    expect(await chain.freeBalance(someone.address)).toBe(5n * UNIT);
    await chain.newBlock();
  });
});
