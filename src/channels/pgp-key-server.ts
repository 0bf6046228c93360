/**
 * The sweep's check of a judged PGP fingerprint: the key as a key server speaking VKS
 * (keys.openpgp.org's interface, `GET /vks/v1/by-fingerprint/<FINGERPRINT>`) serves it now. Gone
 * when the server serves the key revoked or expired; a key the server does not have, a server that
 * fails, limits or serves something else is no answer (a key need not be on any server).
 */
import type { CheckAnswer } from '../domain/sweep.js';
import { errorText } from '../support/errors.js';
import type { RecheckedProof } from './channel.js';

const TIMEOUT_MS = 10_000;
/** Far above any real key with its signatures; a server sending more is not answering the question. */
const MAX_KEY_BYTES = 1024 * 1024;

export async function recheckKey(server: string, proof: RecheckedProof, now: number): Promise<CheckAnswer> {
  const fingerprint = proof.subject.toUpperCase();
  const url = new URL(`/vks/v1/by-fingerprint/${encodeURIComponent(fingerprint)}`, server);
  let armoredKey: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    if (response.status === 404) return { kind: 'unknown', reason: 'the key server does not have the key' };
    if (response.status !== 200)
      return { kind: 'unknown', reason: `the key server answered with status ${response.status}` };
    armoredKey = await response.text();
  } catch (error) {
    return { kind: 'unknown', reason: `the key server could not be read (${errorText(error)})` };
  }
  if (armoredKey.length > MAX_KEY_BYTES)
    return { kind: 'unknown', reason: 'the key server sent more than a key' };
  const openpgp = await import('openpgp');
  let key: Awaited<ReturnType<typeof openpgp.readKey>>;
  try {
    key = await openpgp.readKey({ armoredKey });
  } catch {
    return { kind: 'unknown', reason: 'the key server sent no readable key' };
  }
  if (key.getFingerprint().toUpperCase() !== fingerprint)
    return { kind: 'unknown', reason: 'the key server sent another key' };
  if (await key.isRevoked(undefined, undefined, new Date(now)))
    return { kind: 'gone', reason: `the key ${fingerprint} was revoked` };
  try {
    // Throws when the primary key is revoked, expired, or has no valid self-signature at `now`.
    await key.verifyPrimaryKey(new Date(now));
  } catch (error) {
    const why = errorText(error);
    if (/expired/i.test(why)) return { kind: 'gone', reason: `the key ${fingerprint} has expired` };
    if (/revoked/i.test(why)) return { kind: 'gone', reason: `the key ${fingerprint} was revoked` };
    return { kind: 'unknown', reason: 'the key server sent a key that does not verify' };
  }
  return { kind: 'holds' };
}
