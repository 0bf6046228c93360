/**
 * The pages where a person proves a field on the registrar's own site: sign in with the service,
 * paste a signature, or publish a code and have it checked. Every value escaped; every action a POST.
 */
import { pgpChallengeText } from '../channels/pgp.js';
import { escapeHtml } from '../html.js';
import type { PageChallenge } from '../registrar/proofs.js';
import { page } from './views.js';

type Open = PageChallenge & { ok: true };

function whose(c: Open): string {
  return c.display
    ? `<strong>${escapeHtml(c.display)}</strong> (<code>${escapeHtml(c.account)}</code>)`
    : `<code>${escapeHtml(c.account)}</code>`;
}

const message = (text?: string) => (text ? `<p class="error" role="alert">${escapeHtml(text)}</p>` : '');

export function signInStartPage(c: Open, service: string, index: number, notice?: string): string {
  return page(
    `Prove your ${c.label}`,
    `${message(notice)}<p>Account ${whose(c)} asked registrar #${index} to verify its ${escapeHtml(c.label)}
<code>${escapeHtml(c.value)}</code>.</p>
<p>Sign in to ${escapeHtml(service)} as <code>${escapeHtml(c.value)}</code>: the registrar reads only which account signed in, and asks you to confirm before anything counts.</p>
<form method="post"><button type="submit">Sign in with ${escapeHtml(service)}</button></form>`,
    { index },
  );
}

export function signedInPage(
  c: Open,
  o: { service: string; handle: string; sealed: string; index: number },
): string {
  return page(
    'Confirm your account',
    `<p><strong>${escapeHtml(o.handle)}</strong> on ${escapeHtml(o.service)} is yours and belongs to account ${whose(c)}?</p>
<p>Confirming proves the ${escapeHtml(c.label)} of this account to registrar #${o.index}. If this is not what you meant, close this page: nothing happens.</p>
<form method="post" action="/sign-in/confirm"><input type="hidden" name="signedIn" value="${escapeHtml(o.sealed)}"><button type="submit">Confirm</button></form>`,
    { index: o.index },
  );
}

export function pgpPage(c: Open, index: number, notice?: string): string {
  return page(
    `Prove your ${c.label}`,
    `${message(notice)}<p>Account ${whose(c)} asked registrar #${index} to verify its PGP fingerprint
<code>${escapeHtml(c.value)}</code>.</p>
<p>Save the text below to a file (say <code>challenge.txt</code>), sign it with that key (<code>gpg --clearsign challenge.txt</code>), and paste the signed text and your public key (<code>gpg --armor --export ${escapeHtml(c.subject)}</code>).</p>
<pre id="challenge-text">${escapeHtml(pgpChallengeText(c, index))}</pre>
<form method="post">
<p><label for="signed">Signed text (challenge.txt.asc)</label><br><textarea id="signed" name="signedMessage" rows="12" cols="64" required></textarea></p>
<p><label for="key">Public key</label><br><textarea id="key" name="armoredKey" rows="12" cols="64" required></textarea></p>
<p><button type="submit">Check the signature</button></p>
</form>`,
    { index },
  );
}

export function webPage(c: Open, o: { index: number; path: string; label: string }, notice?: string): string {
  const proof = `polkadot-registrar=${c.code}`;
  return page(
    `Prove your ${c.label}`,
    `${message(notice)}<p>Account ${whose(c)} asked registrar #${o.index} to verify its website
<code>${escapeHtml(c.value)}</code>.</p>
<p>Publish this line, either way:</p>
<pre id="web-proof">${escapeHtml(proof)}</pre>
<ul>
<li>as the file <code>https://${escapeHtml(c.subject)}${escapeHtml(o.path)}</code> (plain text, HTTPS with a valid certificate), or</li>
<li>as a DNS TXT record at <code>${escapeHtml(o.label)}.${escapeHtml(c.subject)}</code>.</li>
</ul>
<p>Then press the button. The registrar also looks again by itself every few minutes.</p>
<form method="post"><button type="submit">Check now</button></form>`,
    { index: o.index },
  );
}
