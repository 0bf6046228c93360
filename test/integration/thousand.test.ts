/**
 * A thousand judgements ready together, on the real runtime: they leave in as many extrinsics as
 * the runtime's own limits require (its weight of a batch against one normal extrinsic's share of
 * the block), each within those limits, and every account is judged exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Codec } from '@polkadot/types/types';
import { readIdentities } from '../../src/chain/identity.js';
import { ProxyJudge } from '../../src/chain/judge.js';
import { writeIdentities } from '../../src/dev/storage-identities.js';
import { TestChain, UNIT } from '../support/chain.js';

const COUNT = 1_000;

describe('a thousand judgements at once', () => {
  let chain: TestChain;

  beforeAll(async () => {
    chain = await TestChain.start({ mode: 'Manual' });
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('go out in the extrinsics the runtime limits allow, each account once', async () => {
    const { registrar, proxy, index } = await chain.setUpRegistrar('Thousand', { fee: UNIT, fields: 1 });
    const { pending } = await writeIdentities(chain, index, { total: COUNT, pending: COUNT, judged: 0 });
    await chain.newBlock();
    const identities = await readIdentities(chain.api, pending);
    const judge = new ProxyJudge(chain.api, proxy, registrar.address, index);
    const capacity = await judge.batchCapacity();
    // The runtime here takes more than a thousand in one extrinsic; a smaller share would split them.
    expect(capacity).toBeGreaterThan(16);

    const outcomes = Promise.all(
      pending.map((account) => judge.giveJudgement(account, identities.get(account)?.snapshot.hash ?? '')),
    );
    let settled = false;
    void outcomes.then(() => {
      settled = true;
    });
    // Blocks are built while anything waits in the pool, as a collator would.
    while (!settled) {
      const pool = await chain.api.rpc.author.pendingExtrinsics();
      if (pool.length > 0) await chain.newBlock();
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const results = await outcomes;
    expect(results.every((o) => o.kind === 'included')).toBe(true);

    const blocks = new Set(results.map((o) => (o.kind === 'included' ? o.blockHash : '')));
    const extrinsics = new Set(results.map((o) => (o.kind === 'included' ? o.extrinsicHash : '')));
    expect(extrinsics.size).toBe(Math.ceil(COUNT / capacity));
    expect(blocks.size).toBeLessThanOrEqual(2);

    // Each extrinsic within one normal extrinsic's limits, as the runtime weighed it.
    const limits = (
      chain.api.consts.system.blockWeights.perClass.normal.maxExtrinsic as unknown as {
        unwrap(): { refTime: Codec; proofSize: Codec };
      }
    ).unwrap();
    for (const blockHash of blocks) {
      const events = await (await chain.api.at(blockHash)).query.system.events();
      for (const { event } of events) {
        if (event.section !== 'system' || event.method !== 'ExtrinsicSuccess') continue;
        const info = event.data[0] as unknown as { weight: { refTime: Codec; proofSize: Codec } };
        expect(BigInt(info.weight.refTime.toString())).toBeLessThanOrEqual(BigInt(limits.refTime.toString()));
        expect(BigInt(info.weight.proofSize.toString())).toBeLessThanOrEqual(
          BigInt(limits.proofSize.toString()),
        );
      }
    }
    const given = chain.recorded('identity', 'JudgementGiven').map((e) => String(e.data.target));
    expect(given.length).toBe(COUNT);
    expect(new Set(given)).toEqual(new Set(pending));
    for (const account of pending.slice(0, 20))
      expect(await chain.judgementOf(account, index)).toBe('Reasonable');
  }, 300_000);
});
