/**
 * IdentityOf as the live Paseo People genesis runtime declares it: `(Registration, Option<Bytes>)`
 * around the People info layout, with every Data variant. Written with dev_setStorage because that
 * runtime's call filter refuses identity calls.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { u8aToHex } from '@polkadot/util';
import { identityLayout, readIdentity } from '../../src/chain/identity.js';
import { readPendingIdentities } from '../../src/chain/stored-identities.js';
import { shippedChainSpec } from '../../src/dev/chain-spec.js';
import { TestChain } from '../support/chain.js';

const LIVE_GENESIS = shippedChainSpec('paseo-people.raw');
const hex = (text: string) => u8aToHex(new TextEncoder().encode(text));

describe('IdentityOf in the (Registration, Option<Username>) shape', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await TestChain.start({ chainSpec: LIVE_GENESIS });
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('decodes every Data variant and finds the pending request', async () => {
    const person = chain.account('//TupleShape').address;
    const other = chain.account('//TupleShapeJudged').address;
    const registration = (judgements: unknown[], info: Record<string, unknown>) => [
      { judgements, deposit: 0, info },
      null,
    ];
    await chain.api.rpc('dev_setStorage', {
      Identity: {
        IdentityOf: [
          [
            [person],
            registration([[2, { FeePaid: 1000 }]], {
              display: { Raw: 'Tuple Shape' },
              legal: { BlakeTwo256: `0x${'01'.repeat(32)}` },
              web: { Sha256: `0x${'02'.repeat(32)}` },
              matrix: { Keccak256: `0x${'03'.repeat(32)}` },
              email: { ShaThree256: `0x${'04'.repeat(32)}` },
              twitter: { Raw: '0xc328' },
              discord: { Raw: 'tuple#0001' },
            }),
          ],
          [[other], registration([[2, 'Reasonable']], { display: { Raw: 'Judged' } })],
        ],
      },
    });
    const type = chain.api.query.identity.identityOf.creator.meta.type.asMap.value;
    expect(chain.api.registry.lookup.getTypeDef(type).type).toMatch(
      /^\(PalletIdentityRegistration,Option<.*>\)$/,
    );

    expect(identityLayout(chain.api)).toBe('people');
    const identity = await readIdentity(chain.api, person);
    expect(identity?.info).toEqual({
      layout: 'people',
      values: {
        display: { kind: 'raw', hex: hex('Tuple Shape'), text: 'Tuple Shape' },
        legal: { kind: 'hash', algorithm: 'BlakeTwo256', hex: `0x${'01'.repeat(32)}` },
        web: { kind: 'hash', algorithm: 'Sha256', hex: `0x${'02'.repeat(32)}` },
        matrix: { kind: 'hash', algorithm: 'Keccak256', hex: `0x${'03'.repeat(32)}` },
        email: { kind: 'hash', algorithm: 'ShaThree256', hex: `0x${'04'.repeat(32)}` },
        twitter: { kind: 'raw', hex: '0xc328', text: undefined },
        discord: { kind: 'raw', hex: hex('tuple#0001'), text: 'tuple#0001' },
      },
    });
    expect(identity?.judgements).toEqual([{ registrarIndex: 2, judgement: 'FeePaid', fee: 1000n }]);
    expect([...(await readPendingIdentities(chain.api, 2)).keys()]).toEqual([person]);
    expect(await readIdentity(chain.api, chain.account('//Nobody').address)).toBeUndefined();
  });
});
