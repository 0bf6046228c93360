/**
 * The PGP fingerprint proof with real keys made by openpgp: v4 keys sign (by the primary key or a
 * signing subkey), and a tampered text, another key, an old signature and a v6 key are refused
 * with a reason the person can act on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as openpgp from 'openpgp';
import { type PgpChallenge, verifyPgpProof } from '../../src/channels/pgp-proof.js';

const TEXT = 'Registrar #7 challenge for 15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5: 7QK2M9XA';

interface TestKey {
  privateKey: openpgp.PrivateKey;
  armored: string;
  fingerprint: string;
}

async function makeKey(
  options: { v6?: boolean; signingSubkey?: boolean; date?: Date } = {},
): Promise<TestKey> {
  const { privateKey } = await openpgp.generateKey({
    ...(options.date ? { date: options.date } : {}),
    type: options.v6 ? 'curve25519' : 'ecc',
    ...(options.v6 ? {} : { curve: 'curve25519Legacy' as const }),
    userIDs: [{ name: 'Test Person', email: 'pgp@example.org' }],
    format: 'object',
    ...(options.signingSubkey ? { subkeys: [{}, { sign: true }] } : {}),
    ...(options.v6 ? { config: { v6Keys: true } } : {}),
  });
  return {
    privateKey,
    armored: privateKey.toPublic().armor(),
    fingerprint: `0x${privateKey.getFingerprint()}`,
  };
}

async function clearSign(key: TestKey, text: string, options: { date?: Date; subkey?: boolean } = {}) {
  const signingKeyIDs = options.subkey
    ? [key.privateKey.subkeys[1]?.getKeyID()].filter((id) => id !== undefined)
    : undefined;
  return openpgp.sign({
    message: await openpgp.createCleartextMessage({ text }),
    signingKeys: key.privateKey,
    ...(signingKeyIDs ? { signingKeyIDs } : {}),
    ...(options.date ? { date: options.date } : {}),
  });
}

describe('the PGP fingerprint proof', () => {
  let key: TestKey;
  let other: TestKey;
  let withSubkey: TestKey;
  let challenge: PgpChallenge;
  beforeAll(async () => {
    [key, other, withSubkey] = await Promise.all([makeKey(), makeKey(), makeKey({ signingSubkey: true })]);
    challenge = { fingerprint: key.fingerprint, text: TEXT, issuedAt: Date.now() - 60_000 };
  });

  it('holds for the challenge text clear-signed by the key whose fingerprint is on chain', async () => {
    const verdict = await verifyPgpProof(challenge, {
      armoredKey: key.armored,
      signedMessage: await clearSign(key, TEXT),
    });
    expect(verdict).toEqual({ ok: true, fingerprint: key.fingerprint.toLowerCase() });
    // The 20 bytes on chain: a v4 fingerprint.
    expect(key.fingerprint).toMatch(/^0x[0-9a-f]{40}$/);
  });

  it("holds for a signature by the key's signing subkey", async () => {
    const verdict = await verifyPgpProof(
      { ...challenge, fingerprint: withSubkey.fingerprint },
      { armoredKey: withSubkey.armored, signedMessage: await clearSign(withSubkey, TEXT, { subkey: true }) },
    );
    expect(verdict.ok).toBe(true);
  });

  it('refuses a tampered text', async () => {
    const signed = await clearSign(key, TEXT);
    const verdict = await verifyPgpProof(challenge, {
      armoredKey: key.armored,
      signedMessage: signed.replace('7QK2M9XA', '7QK2M9XB'),
    });
    expect(verdict).toEqual({
      ok: false,
      reason: 'The signed text is not the challenge text shown on the page.',
    });
    // The challenge text under a signature the key made over another text.
    const block = /-----BEGIN PGP SIGNATURE-----[\s\S]*/;
    const elsewhere = (await clearSign(key, 'another text')).match(block)?.[0] ?? '';
    const forged = await verifyPgpProof(challenge, {
      armoredKey: key.armored,
      signedMessage: (await clearSign(key, TEXT)).replace(block, elsewhere),
    });
    expect(forged).toEqual({
      ok: false,
      reason: 'No valid signature by this key (or its signing subkey) is on the text.',
    });
  });

  it('refuses a signature by another key, and another key for the fingerprint', async () => {
    expect(
      await verifyPgpProof(challenge, {
        armoredKey: key.armored,
        signedMessage: await clearSign(other, TEXT),
      }),
    ).toEqual({
      ok: false,
      reason: 'No valid signature by this key (or its signing subkey) is on the text.',
    });
    expect(
      await verifyPgpProof(challenge, {
        armoredKey: other.armored,
        signedMessage: await clearSign(other, TEXT),
      }),
    ).toEqual({ ok: false, reason: 'This key is not the one whose fingerprint is set in the identity.' });
  });

  it('refuses a signature made before the challenge was issued', async () => {
    const old = await makeKey({ date: new Date(challenge.issuedAt - 7_200_000) });
    const verdict = await verifyPgpProof(
      { ...challenge, fingerprint: old.fingerprint },
      {
        armoredKey: old.armored,
        signedMessage: await clearSign(old, TEXT, { date: new Date(challenge.issuedAt - 3_600_000) }),
      },
    );
    expect(verdict).toEqual({
      ok: false,
      reason: 'The signature was made before this challenge was issued. Sign it anew.',
    });
  });

  it('refuses a v6 key, saying that it can never match 20 bytes', async () => {
    const v6 = await makeKey({ v6: true });
    const verdict = await verifyPgpProof(
      { ...challenge, fingerprint: `0x${v6.fingerprint.slice(2, 42)}` },
      { armoredKey: v6.armored, signedMessage: await clearSign(v6, TEXT) },
    );
    expect(verdict).toMatchObject({ ok: false, reason: expect.stringContaining('version 6 key') });
  });

  it('refuses what is no key and no signed text, and oversize input', async () => {
    expect(await verifyPgpProof(challenge, { armoredKey: 'hello', signedMessage: '' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not an armored PGP public key'),
    });
    expect(await verifyPgpProof(challenge, { armoredKey: key.armored, signedMessage: TEXT })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a clear-signed text'),
    });
    expect(
      await verifyPgpProof(challenge, { armoredKey: 'x'.repeat(70_000), signedMessage: '' }),
    ).toMatchObject({ ok: false, reason: 'The key or the signed text is too long.' });
  });

  it("holds for a key and a signature made by Debian's gpg", async () => {
    const home = mkdtempSync(join(tmpdir(), 'registrar-gpg-'));
    const gpg = (args: string[], input?: string) =>
      execFileSync(
        'gpg',
        ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
        { input, encoding: 'utf8' },
      );
    let made: { armoredKey: string; fingerprint: string; signedMessage: string };
    try {
      gpg(['--quick-gen-key', 'Gpg Person <gpg@example.org>', 'ed25519', 'sign', '1d']);
      made = {
        armoredKey: gpg(['--armor', '--export', 'gpg@example.org']),
        fingerprint:
          gpg(['--with-colons', '--fingerprint', 'gpg@example.org'])
            .split('\n')
            .find((line) => line.startsWith('fpr:'))
            ?.split(':')[9] ?? '',
        signedMessage: gpg(['--clearsign'], `${TEXT}\n`),
      };
    } finally {
      // gpg started an agent for this home; it goes with it.
      execFileSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']);
      rmSync(home, { recursive: true, force: true });
    }
    const { armoredKey, fingerprint, signedMessage } = made;
    expect(fingerprint).toMatch(/^[0-9A-F]{40}$/);
    const onChain = { ...challenge, fingerprint: `0x${fingerprint}` };
    expect(await verifyPgpProof(onChain, { armoredKey, signedMessage })).toEqual({
      ok: true,
      fingerprint: `0x${fingerprint.toLowerCase()}`,
    });
    const tampered = signedMessage.replace('7QK2M9XA', '7QK2M9XB');
    expect((await verifyPgpProof(onChain, { armoredKey, signedMessage: tampered })).ok).toBe(false);
  });
});
