/**
 * The proxy judge on the real runtime: judgements that are ready together go out as one
 * `proxy.proxy(registrar, IdentityJudgement, utility.forceBatch([...]))`, and each item gets its own
 * outcome, so one identity edited at the last moment does not hold back the others.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';
import { slotDuration } from '../../src/chain/block-time.js';
import { ProxyJudge } from '../../src/chain/judge.js';
import { undecodableIdentities } from '../../src/dev/storage-identities.js';
import { eventually } from '../../src/dev/waiting.js';
import { TestChain, UNIT } from '../support/chain.js';

describe('the proxy judge', () => {
  let chain: TestChain;
  let registrar: KeyringPair;
  let proxy: KeyringPair;
  let judge: ProxyJudge;
  let index: number;

  beforeAll(async () => {
    await cryptoWaitReady();
    chain = await TestChain.start({ mode: 'Instant' });
    const setUp = await chain.setUpRegistrar('Batch', { fee: UNIT, fields: 1 | 16 });
    ({ registrar, index, proxy } = setUp);
    judge = new ProxyJudge(chain.api, setUp.proxy, registrar.address, index);
  });
  afterAll(async () => {
    await chain?.close();
  });

  async function pendingPerson(name: string): Promise<{ address: string; hash: string }> {
    const person = chain.account(`//${name}`);
    await chain.fund(person.address);
    await chain.setIdentity(person, { display: name });
    await chain.requestJudgement(person, index, UNIT);
    const info = (await chain.api.query.identity.identityOf(person.address)).unwrap().info;
    return { address: person.address, hash: blake2AsHex(info.toU8a(), 256) };
  }

  it('gives one judgement alone, and several ready together in one batch with an outcome each', async () => {
    const alone = await pendingPerson('Alone');
    const single = await judge.giveJudgement(alone.address, alone.hash);
    expect(single).toMatchObject({ kind: 'included' });
    expect(await chain.judgementOf(alone.address, index)).toBe('Reasonable');

    const first = await pendingPerson('BatchFirst');
    const second = await pendingPerson('BatchSecond');
    const edited = await pendingPerson('BatchEdited');
    const outcomes = await Promise.all([
      judge.giveJudgement(first.address, first.hash),
      judge.giveJudgement(edited.address, blake2AsHex('the identity before the edit', 256)),
      judge.giveJudgement(second.address, second.hash),
    ]);
    // The edited one is found out at the last look before signing and not submitted.
    expect(outcomes.map((o) => o.kind)).toEqual(['included', 'different-identity', 'included']);
    // One extrinsic: every included outcome names the same block, and the block holds one proxy call.
    const blocks = new Set(outcomes.flatMap((o) => (o.kind === 'included' ? [o.blockHash] : [])));
    expect(blocks.size).toBe(1);
    const [blockHash] = [...blocks];
    const block = await chain.api.rpc.chain.getBlock(blockHash);
    const proxyCalls = block.block.extrinsics.filter((x) => x.method.section === 'proxy');
    expect(proxyCalls).toHaveLength(1);
    expect(proxyCalls[0]?.method.args[2]?.toHuman()).toMatchObject({
      method: 'forceBatch',
      section: 'utility',
    });

    expect(await chain.judgementOf(first.address, index)).toBe('Reasonable');
    expect(await chain.judgementOf(second.address, index)).toBe('Reasonable');
    expect(await chain.judgementOf(edited.address, index)).toBe('FeePaid');
  });

  it('reports a judgement the runtime refuses as failed, with the pallet error', async () => {
    // No request: an OutOfDate may still be given, but not for a missing identity.
    const outcome = await judge.giveJudgement(
      chain.account('//NoIdentity').address,
      `0x${'00'.repeat(32)}`,
      'OutOfDate',
    );
    expect(outcome).toEqual({ kind: 'failed', error: 'identity.InvalidTarget' });
  });

  it('certifies nothing for an account whose request is gone by the time of signing', async () => {
    const { address, hash } = await pendingPerson('CancelsAtTheLastMoment');
    // The judge waits for its batch window; the person cancels meanwhile.
    const slow = new ProxyJudge(chain.api, proxy, registrar.address, index, {
      quietMs: 8_000,
      maxWaitMs: 8_000,
    });
    const outcome = slow.giveJudgement(address, hash);
    await chain.cancelRequest(chain.account('//CancelsAtTheLastMoment'), index);
    expect(await outcome).toEqual({ kind: 'not-pending' });
    // Had it been submitted, the slot would hold the judgement now.
    expect(await chain.judgementOf(address, index)).toBeUndefined();
  });

  it('fails only the judgement whose identity no longer decodes, not the batch it is in', async () => {
    const good = await pendingPerson('BesideTheUndecodable');
    const broken = await pendingPerson('Undecodable');
    // Its stored value turns into bytes this runtime's types cannot read (pending by its head).
    await chain.api.rpc('dev_setStorage', [
      [
        chain.api.query.identity.identityOf.key(broken.address),
        undecodableIdentities(index).pendingWithoutInfo,
      ],
    ]);
    const outcomes = await Promise.all([
      judge.giveJudgement(broken.address, broken.hash),
      judge.giveJudgement(good.address, good.hash),
    ]);
    expect(outcomes[0]).toEqual({ kind: 'failed', error: expect.stringContaining('does not decode') });
    expect(outcomes[1]).toMatchObject({ kind: 'included' });
    expect(await chain.judgementOf(good.address, index)).toBe('Reasonable');
  });
});

describe('a judgement whose extrinsic expires unincluded', () => {
  let chain: TestChain;

  beforeAll(async () => {
    await cryptoWaitReady();
    // Manual: blocks are built here, so the extrinsic can be held back while blocks go by.
    chain = await TestChain.start({ mode: 'Manual' });
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('is mortal for about 2 minutes of blocks, and sent again with the same nonce once expired: one judgement', async () => {
    const { registrar, index, proxy } = await chain.setUpRegistrar('Expiring', { fee: UNIT, fields: 1 });
    const person = chain.account('//HeldBack');
    await chain.fund(person.address);
    await chain.setIdentity(person, { display: 'Held Back' });
    await chain.requestJudgement(person, index, UNIT);
    const info = (await chain.api.query.identity.identityOf(person.address)).unwrap().info;
    const judge = new ProxyJudge(chain.api, proxy, registrar.address, index);
    const outcome = judge.giveJudgement(person.address, blake2AsHex(info.toU8a(), 256));

    const pool = async () => await chain.api.rpc.author.pendingExtrinsics();
    const [held] = await eventually(
      async () => ((await pool()).length > 0 ? pool() : undefined),
      'in the pool',
    );
    if (!held) throw new Error('nothing in the pool');
    // The era fits the chain's block time: about two minutes of its blocks (a power of two).
    const slot = await slotDuration(chain.api);
    const period = held.era.asMortalEra.period.toNumber();
    expect(period).toBe(2 ** Math.ceil(Math.log2(120_000 / slot)));
    const nonce = held.nonce.toNumber();

    // Blocks without it, until it can no longer be included and the judge sends it again.
    let again: typeof held | undefined;
    for (let built = 1; built <= period + 8 && !again; built++) {
      // A block of one remark (chopsticks builds none empty on request): the pool is left alone.
      const remark = await chain.api.tx.system.remark('0x00').signAsync(chain.alice, { nonce: -1 });
      await chain.api.rpc('dev_newBlock', { transactions: [remark.toHex()] });
      // Near its end, give the judge time to see the block; before, only a look.
      again = await eventually(
        async () => (await pool()).find((x) => x.hash.toHex() !== held.hash.toHex()),
        'sent again',
        built >= period - 1 ? 5_000 : 200,
        50,
      ).catch(() => undefined);
      // While it could still be included, nothing else goes out for it.
      if (again && built < period - 1) throw new Error(`sent again after ${built} blocks, before it expired`);
    }
    if (!again) throw new Error('not sent again after it expired');
    expect(again.nonce.toNumber()).toBe(nonce);
    expect(again.era.asMortalEra.period.toNumber()).toBe(period);

    // The pool holds both; a block takes what is valid: the new one alone.
    await chain.newBlock();
    expect(await outcome).toMatchObject({ kind: 'included' });
    await chain.newBlock();
    const given = chain
      .recorded('identity', 'JudgementGiven')
      .filter((e) => e.data.target === person.address);
    expect(given).toHaveLength(1);
    expect(await chain.judgementOf(person.address, index)).toBe('Reasonable');
  }, 600_000);
});
