/**
 * The local chain every test and `npm run dev` run on starts usable whatever the clock does: its
 * first block, which chopsticks builds while it starts, fails when the clock crosses an Aura slot
 * boundary between two of its reads, and the chain must still come up with a head past genesis
 * that accepts signed extrinsics; and it closes cleanly while it is still reading a new block.
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

  it('closes while it is reading the events of a block just built, and keeps the events of that block', async () => {
    const closing = await TestChain.start({ mode: 'Manual' });
    // Closed the moment a new head is announced, while the chain's own reader of heads is at work.
    const before = (await closing.api.rpc.chain.getHeader()).hash.toHex();
    const closed = new Promise<string>((resolve, reject) => {
      void closing.api.rpc.chain.subscribeNewHeads((header) => {
        if (header.hash.toHex() === before) return;
        closing.close().then(() => resolve(header.hash.toHex()), reject);
      });
    });
    const built = await closing.newBlock();
    expect(await closed).toBe(built);
    // The timestamp inherent's event of that block was read before the connection went.
    expect(closing.recorded('system', 'ExtrinsicSuccess').some((e) => e.blockHash === built)).toBe(true);
  });
});
