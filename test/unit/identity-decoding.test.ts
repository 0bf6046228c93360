/**
 * IdentityOf decoding by the runtime's own types: the legacy relay layout inside the
 * `(Registration, Option<Bytes>)` value shape, from a real Polkadot relay metadata.
 */
import { describe, expect, it } from '@jest/globals';
import { Metadata, TypeRegistry } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import staticPolkadot from '@polkadot/types-support/metadata/static-polkadot';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';
import { decodeRegistration, registrationOf } from '../../src/chain/identity.js';
import { textOf } from '../../src/domain/identity.js';

function legacyIdentityOf(value: unknown): Codec {
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, staticPolkadot);
  registry.setMetadata(metadata);
  const pallet = metadata.asLatest.pallets.find((p) => p.name.eq('Identity'));
  const item = pallet?.storage.unwrap().items.find((i) => i.name.eq('IdentityOf'));
  if (!item) throw new Error('no Identity.IdentityOf in the metadata');
  const type = registry.lookup.getTypeDef(item.type.asMap.value).type;
  expect(type).toBe('(PalletIdentityRegistration,Option<Bytes>)');
  return registry.createType(`Option<${type}>`, value);
}

describe('IdentityOf decoding', () => {
  it('reads the legacy relay layout: riot is Matrix, hashes and non-UTF-8 bytes are kept apart', () => {
    const value = legacyIdentityOf([
      {
        judgements: [
          [3, { FeePaid: 5 }],
          [1, 'Reasonable'],
        ],
        deposit: 1,
        info: {
          additional: [[{ Raw: 'key' }, { Raw: 'value' }]],
          display: { Raw: 'Legacy Person' },
          riot: { Raw: '@legacy:matrix.org' },
          email: { Sha256: `0x${'22'.repeat(32)}` },
          twitter: { Raw: '0xff00fe' },
          pgpFingerprint: `0x${'ab'.repeat(20)}`,
        },
      },
      null,
    ]);
    const registration = registrationOf(value);
    if (!registration) throw new Error('registration expected');
    const identity = decodeRegistration(registration);
    expect(identity.info.layout).toBe('legacy');
    expect(identity.info.values).toEqual({
      display: {
        kind: 'raw',
        hex: u8aToHex(new TextEncoder().encode('Legacy Person')),
        text: 'Legacy Person',
      },
      matrix: {
        kind: 'raw',
        hex: u8aToHex(new TextEncoder().encode('@legacy:matrix.org')),
        text: '@legacy:matrix.org',
      },
      email: { kind: 'hash', algorithm: 'Sha256', hex: `0x${'22'.repeat(32)}` },
      twitter: { kind: 'raw', hex: '0xff00fe', text: undefined },
      pgpFingerprint: { kind: 'raw', hex: `0x${'ab'.repeat(20)}`, text: `0x${'ab'.repeat(20)}` },
    });
    expect(identity.judgements).toEqual([
      { registrarIndex: 3, judgement: 'FeePaid', fee: 5n },
      { registrarIndex: 1, judgement: 'Reasonable' },
    ]);
    const info = (registration.get('info') as Codec).toU8a();
    expect(identity.snapshot).toEqual({ infoHex: u8aToHex(info), hash: blake2AsHex(info, 256) });
  });

  it('keeps a leading byte order mark in the text, so the checks see every byte', () => {
    expect(textOf(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]))).toBe('\ufeffA');
    expect(textOf(new Uint8Array([0xff, 0x41]))).toBeUndefined();
  });

  it('returns nothing for an account without an identity', () => {
    expect(registrationOf(legacyIdentityOf(null))).toBeUndefined();
  });
});
