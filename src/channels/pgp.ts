/**
 * The PGP fingerprint, proven on the registrar's site: the page shows a challenge text, the person
 * pastes the text clear-signed with the key (`gpg --clearsign`) and the public key; pgp-proof.ts
 * decides. Nothing is sent to anyone.
 */

import type { ChannelMeans } from '../domain/answers.js';
import { parseSubject } from '../domain/subjects.js';
import type { CheckAnswer } from '../domain/sweep.js';
import type { ChallengeMessage, Channel, PageChallenge, PageProof, RecheckedProof } from './channel.js';
import { recheckKey } from './pgp-key-server.js';
import { type PgpAnswer, verifyPgpProof } from './pgp-proof.js';

/** The text a PGP key signs: names the registrar, the account, the fingerprint and the challenge. */
export function pgpChallengeText(c: PageChallenge & { ok: true }, registrarIndex: number): string {
  return [
    `I control the PGP key ${c.subject}`,
    `and ask registrar #${registrarIndex} to verify it for account ${c.account}.`,
    `Challenge ${c.nonce} (${new Date(c.issuedAt).toISOString()})`,
  ].join('\n');
}

export class PgpChannel implements Channel {
  readonly field = 'pgpFingerprint' as const;
  readonly means: readonly ChannelMeans[] = ['signature'];
  readonly messages = false;
  readonly page = 'pgp' as const;

  /**
   * The sweep, with a key server configured (REGISTRAR_PGP_KEY_SERVER): the judged key as the
   * server serves it now, gone when revoked or expired. Without one, PGP proofs are not checked again.
   */
  readonly recheck: ((proof: RecheckedProof) => Promise<CheckAnswer>) | undefined;

  constructor(
    private readonly registrarIndex: number,
    keyServer?: string,
    now: () => number = Date.now,
  ) {
    this.recheck = keyServer ? (proof) => recheckKey(keyServer, proof, now()) : undefined;
  }

  async send(_message: ChallengeMessage): Promise<void> {}

  async verify(challenge: PageChallenge & { ok: true }, answer: PgpAnswer): Promise<PageProof> {
    const verdict = await verifyPgpProof(
      {
        fingerprint: challenge.subject,
        text: pgpChallengeText(challenge, this.registrarIndex),
        issuedAt: challenge.issuedAt,
      },
      answer,
    );
    if (!verdict.ok) return { ok: false, message: verdict.reason };
    // The subject is the key that signed, in the on-chain value's canonical form.
    const signer = parseSubject('pgpFingerprint', verdict.fingerprint);
    return signer.ok
      ? { ok: true, subject: signer.subject }
      : { ok: false, message: 'The key that signed has no 20-byte fingerprint.' };
  }
}
