/**
 * The proof for a PGP fingerprint: the person pastes their armored public key and the challenge
 * text clear-signed with it (`gpg --clearsign`). It holds when the key is a v4 primary key whose
 * fingerprint is the 20 bytes on chain, and a valid signature by that key or one of its subkeys
 * covers exactly the challenge text and was made after the challenge was issued. The PGP channel
 * (the page that shows the text and takes the answer) is built on this.
 */
import type * as OpenPgp from 'openpgp';

export type PgpVerdict = { ok: true; fingerprint: string } | { ok: false; reason: string };

export interface PgpAnswer {
  armoredKey: string;
  signedMessage: string;
}

export interface PgpChallenge {
  /** The on-chain fingerprint, 0x-prefixed hex of 20 bytes. */
  fingerprint: string;
  /** The exact text the person signs. */
  text: string;
  /** When the challenge was made (ms); an older signature cannot answer it. */
  issuedAt: number;
}

/** Clocks differ: a signature up to this much older than the challenge still counts. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Pasted text beyond this is no key and no signature. */
const MAX_INPUT = 64 * 1024;

/** Line ends and trailing blanks are not the signer's: clear-signing normalises them. */
const normalised = (text: string) =>
  text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trimEnd();

export async function verifyPgpProof(challenge: PgpChallenge, answer: PgpAnswer): Promise<PgpVerdict> {
  // Loaded on the first signature to check, not by a daemon that may never see one.
  const openpgp = await import('openpgp');
  if (answer.armoredKey.length > MAX_INPUT || answer.signedMessage.length > MAX_INPUT) {
    return { ok: false, reason: 'The key or the signed text is too long.' };
  }
  let key: OpenPgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: answer.armoredKey });
  } catch {
    return { ok: false, reason: 'This is not an armored PGP public key (gpg --armor --export YOUR_KEY).' };
  }
  const version = key.keyPacket.version;
  if (version !== 4) {
    return {
      ok: false,
      reason: `This is a version ${version} key: its fingerprint is 32 bytes long and can never match the 20-byte fingerprint an identity holds. Set the fingerprint of a version 4 key.`,
    };
  }
  const wanted = challenge.fingerprint.toLowerCase().replace(/^0x/, '');
  const fingerprint = key.getFingerprint().toLowerCase();
  if (fingerprint !== wanted) {
    return {
      ok: false,
      reason: 'This key is not the one whose fingerprint is set in the identity.',
    };
  }
  let message: OpenPgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: answer.signedMessage });
  } catch {
    return { ok: false, reason: 'This is not a clear-signed text (gpg --clearsign).' };
  }
  if (normalised(message.getText()) !== normalised(challenge.text)) {
    return { ok: false, reason: 'The signed text is not the challenge text shown on the page.' };
  }
  const { signatures } = await openpgp.verify({ message, verificationKeys: key, expectSigned: false });
  for (const signature of signatures) {
    try {
      await signature.verified;
      const created = (await signature.signature).packets[0]?.created;
      if (!created || created.getTime() < challenge.issuedAt - CLOCK_SKEW_MS) {
        return {
          ok: false,
          reason: 'The signature was made before this challenge was issued. Sign it anew.',
        };
      }
      return { ok: true, fingerprint: `0x${fingerprint}` };
    } catch {
      // Not by this key, or not valid: try the next signature.
    }
  }
  return { ok: false, reason: 'No valid signature by this key (or its signing subkey) is on the text.' };
}
