/**
 * The sweep's check of a judged PGP key against a local key server speaking VKS (keys.openpgp.org's
 * `GET /vks/v1/by-fingerprint/<FINGERPRINT>`), with keys made by openpgp: a key valid now holds; a
 * revoked or expired one is gone; a key the server does not have, another key, something that is
 * no key, a failing or unreachable server are no answer (never gone).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as openpgp from 'openpgp';
import { PgpChannel } from '../../src/channels/pgp.js';
import { recheckKey } from '../../src/channels/pgp-key-server.js';

/** What the key server serves, by the path asked. */
const served = new Map<string, { status: number; body: string }>();
const asked: string[] = [];
let server: Server;
let url: string;

const fingerprintOf = (key: openpgp.Key) => key.getFingerprint().toUpperCase();
const serve = (fingerprint: string, body: string, status = 200) =>
  served.set(`/vks/v1/by-fingerprint/${fingerprint}`, { status, body });
const proof = (fingerprint: string) => ({
  account: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  field: 'pgpFingerprint' as const,
  // As the judged value is kept: the canonical, lower-case fingerprint.
  subject: fingerprint.toLowerCase(),
});

let valid: openpgp.Key;
let revoked: openpgp.Key;
let expiring: openpgp.Key;
let expiresAt: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.url ?? '');
    const answer = served.get(req.url ?? '');
    if (!answer) return void res.writeHead(404).end('Not found');
    res.writeHead(answer.status, { 'content-type': 'application/pgp-keys' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  valid = (await openpgp.generateKey({ userIDs: [{ name: 'Valid' }], format: 'object' })).publicKey;
  const toRevoke = await openpgp.generateKey({ userIDs: [{ name: 'Revoked' }], format: 'object' });
  revoked = (await openpgp.revokeKey({ key: toRevoke.privateKey, format: 'object' })).publicKey;
  // Valid for an hour from its creation: expired for a check made two hours later.
  const made = await openpgp.generateKey({
    userIDs: [{ name: 'Expiring' }],
    format: 'object',
    keyExpirationTime: 3600,
  });
  expiring = made.publicKey;
  expiresAt = expiring.getCreationTime().getTime() + 3600_000;
  for (const key of [valid, revoked, expiring]) serve(fingerprintOf(key), key.armor());
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('a judged PGP key checked again at the key server', () => {
  it('holds while the server serves the key valid, asked by its fingerprint', async () => {
    await expect(recheckKey(url, proof(fingerprintOf(valid)), Date.now())).resolves.toEqual({
      kind: 'holds',
    });
    expect(asked.at(-1)).toBe(`/vks/v1/by-fingerprint/${fingerprintOf(valid)}`);
    // The expiring key is valid until its time is up.
    await expect(recheckKey(url, proof(fingerprintOf(expiring)), expiresAt - 60_000)).resolves.toEqual({
      kind: 'holds',
    });
  });

  it('is gone once the key is revoked, or expired', async () => {
    await expect(recheckKey(url, proof(fingerprintOf(revoked)), Date.now())).resolves.toEqual({
      kind: 'gone',
      reason: `the key ${fingerprintOf(revoked)} was revoked`,
    });
    await expect(recheckKey(url, proof(fingerprintOf(expiring)), expiresAt + 3600_000)).resolves.toEqual({
      kind: 'gone',
      reason: `the key ${fingerprintOf(expiring)} has expired`,
    });
  });

  it('is no answer, never gone, when the server lacks the key, fails, or sends anything but that key', async () => {
    const missing = 'AB'.repeat(20);
    const answer = (fingerprint: string) => recheckKey(url, proof(fingerprint), Date.now());
    await expect(answer(missing)).resolves.toEqual({
      kind: 'unknown',
      reason: 'the key server does not have the key',
    });
    // Another key under this fingerprint's address.
    serve(missing, valid.armor());
    await expect(answer(missing)).resolves.toMatchObject({
      kind: 'unknown',
      reason: 'the key server sent another key',
    });
    serve(missing, 'this is no key');
    await expect(answer(missing)).resolves.toMatchObject({
      kind: 'unknown',
      reason: 'the key server sent no readable key',
    });
    serve(missing, 'slow down', 429);
    await expect(answer(missing)).resolves.toMatchObject({
      kind: 'unknown',
      reason: expect.stringContaining('429'),
    });
    served.delete(`/vks/v1/by-fingerprint/${missing}`);
    // A server nobody answers at.
    const dead = await recheckKey('http://127.0.0.1:9', proof(fingerprintOf(revoked)), Date.now());
    expect(dead).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('could not be read') });
  });

  it('is what the PGP channel checks again with a key server configured, and nothing without one', async () => {
    expect(new PgpChannel(1).recheck).toBeUndefined();
    const channel = new PgpChannel(1, url, () => Date.now());
    await expect(channel.recheck?.(proof(fingerprintOf(revoked)))).resolves.toMatchObject({ kind: 'gone' });
  });
});
