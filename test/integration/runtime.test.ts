/**
 * The runtime the registrar is tested against behaves as CHAIN-FACTS.md says: judgement requests
 * show as events, and a proxied judgement is accepted only for the identity hash it names.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { blake2AsHex } from '@polkadot/util-crypto';
import { IDENTITY_JUDGEMENT, TestChain, UNIT } from '../support/chain.js';

const EMAIL_AND_DISPLAY = 16 | 1;

describe('the real Paseo People runtime', () => {
  let chain: TestChain;
  let registrar: KeyringPair;
  let proxy: KeyringPair;
  let index: number;

  beforeAll(async () => {
    chain = await TestChain.start();
    ({ registrar, proxy, index } = await chain.setUpRegistrar('RuntimeTest', {
      fee: UNIT,
      fields: EMAIL_AND_DISPLAY,
    }));
  });
  afterAll(async () => {
    await chain?.close();
  });

  async function identityHash(address: string): Promise<string> {
    const registration = await chain.api.query.identity.identityOf(address);
    return blake2AsHex(registration.unwrap().info.toU8a(), 256);
  }

  function judge(target: string, hash: string) {
    const call = chain.api.tx.identity.provideJudgement(index, target, 'Reasonable', hash);
    return chain.submit(chain.api.tx.proxy.proxy(registrar.address, IDENTITY_JUDGEMENT, call), proxy);
  }

  it('records the registrar with its fee and field mask', async () => {
    const registrars = await chain.api.query.identity.registrars();
    const entry = registrars[index]?.unwrap();
    expect(entry?.account.toString()).toBe(registrar.address);
    expect(entry?.fee.toBigInt()).toBe(UNIT);
    expect(entry?.fields.toBigInt()).toBe(BigInt(EMAIL_AND_DISPLAY));
  });

  it('emits JudgementRequested for the account and our registrar index', async () => {
    const person = chain.account('//RequestingPerson');
    await chain.fund(person.address);
    await chain.setIdentity(person, { display: 'Requesting Person', email: 'person@example.org' });
    const { blockHash } = await chain.requestJudgement(person, index, 2n * UNIT);
    const event = await chain.waitForEvent(
      'identity',
      'JudgementRequested',
      (e) => e.data.who === person.address,
    );
    expect(event.data).toEqual({ who: person.address, registrarIndex: index });
    expect(event.blockHash).toBe(blockHash);
    const registration = (await chain.api.query.identity.identityOf(person.address)).unwrap();
    const [slot] = registration.judgements;
    expect(slot?.[0].toNumber()).toBe(index);
    expect(slot?.[1].isFeePaid && slot[1].asFeePaid.toBigInt()).toBe(UNIT);
  });

  it('accepts a proxied judgement for the right identity hash and refuses a wrong one', async () => {
    const person = chain.account('//JudgedPerson');
    await chain.fund(person.address);
    await chain.setIdentity(person, { display: 'Judged Person', email: 'judged@example.org' });
    await chain.requestJudgement(person, index, 2n * UNIT);
    const registrarBefore = await chain.freeBalance(registrar.address);

    const wrong = await judge(person.address, blake2AsHex('something else', 256));
    expect(chain.proxyOutcome(wrong)).toBe('identity.JudgementForDifferentIdentity');
    expect(wrong.events.some((e) => e.method === 'JudgementGiven')).toBe(false);

    const right = await judge(person.address, await identityHash(person.address));
    expect(chain.proxyOutcome(right)).toBe('Ok');
    expect(right.events).toContainEqual(
      expect.objectContaining({
        section: 'identity',
        method: 'JudgementGiven',
        data: { target: person.address, registrarIndex: index },
      }),
    );
    const [slot] = (await chain.api.query.identity.identityOf(person.address)).unwrap().judgements;
    expect(slot?.[1].isReasonable).toBe(true);
    expect(await chain.freeBalance(registrar.address)).toBe(registrarBefore + UNIT);
  });
});
