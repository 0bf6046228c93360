/**
 * The pages where a person proves a field on the registrar's own site: sign in with the service,
 * paste a signature, or publish a code and have it checked. Every value escaped; every action a POST.
 */
import { proofLine } from '../channels/account.js';
import type { PageChallenge } from '../channels/channel.js';
import { pgpChallengeText } from '../channels/pgp.js';
import { registrarName } from '../domain/operator.js';
import { escapeHtml } from '../support/html.js';
import { type OperatorInfo, page } from './views.js';

type Open = PageChallenge & { ok: true };

function whose(c: Open): string {
  return c.display
    ? `<strong>${escapeHtml(c.display)}</strong> (<code>${escapeHtml(c.account)}</code>)`
    : `<code>${escapeHtml(c.account)}</code>`;
}

const message = (text?: string) => (text ? `<p class="error" role="alert">${escapeHtml(text)}</p>` : '');

/** The page of an account field: sign in with the service, or publish a post of the line, or both. */
export function accountPage(
  c: Open,
  o: { site: OperatorInfo; signIn?: string; post?: { where: string; what: string }; readAgain: boolean },
  notice?: string,
): string {
  const signIn = o.signIn
    ? `<h2>Sign in with ${escapeHtml(o.signIn)}</h2>
<p>Sign in to ${escapeHtml(o.signIn)} as <code>${escapeHtml(c.value)}</code>: the registrar reads only which account signed in, and asks you to confirm before anything counts.</p>
<form method="post"><input type="hidden" name="method" value="sign-in"><button type="submit">Sign in with ${escapeHtml(o.signIn)}</button></form>`
    : '';
  const post = o.post
    ? `<h2>${o.signIn ? 'Or publish a post' : 'Publish a post'}</h2>
<p>As <code>${escapeHtml(c.value)}</code>, publish ${escapeHtml(o.post.where)} containing this line, then paste ${escapeHtml(o.post.what)} here:</p>
<pre id="post-proof">${escapeHtml(proofLine(c))}</pre>
<form method="post"><input type="hidden" name="method" value="post">
<p><label for="url">${escapeHtml(o.post.what.replace(/^the /, 'The '))}</label><br><input id="url" name="url" type="url" required size="60"></p>
<p><button type="submit">Check the post</button></p></form>${o.readAgain ? '\n<p>Keep the post up while the judgement stands: the registrar reads it again from time to time.</p>' : ''}`
    : '';
  return page(
    `Prove your ${c.label}`,
    `${message(notice)}<p>Account ${whose(c)} asked ${escapeHtml(registrarName(o.site))} to verify its ${escapeHtml(c.label)}
<code>${escapeHtml(c.value)}</code>.</p>
${signIn}
${post}`,
    o.site,
  );
}

export function signedInPage(
  c: Open,
  o: { service: string; handle: string; sealed: string; site: OperatorInfo },
): string {
  return page(
    'Confirm your account',
    `<p><strong>${escapeHtml(o.handle)}</strong> on ${escapeHtml(o.service)} is yours and belongs to account ${whose(c)}?</p>
<p>Confirming proves the ${escapeHtml(c.label)} of this account to ${escapeHtml(registrarName(o.site))}. If this is not what you meant, close this page: nothing happens.</p>
<form method="post" action="/sign-in/confirm"><input type="hidden" name="signedIn" value="${escapeHtml(o.sealed)}"><button type="submit">Confirm</button></form>`,
    o.site,
  );
}

export function pgpPage(c: Open, site: OperatorInfo, notice?: string): string {
  return page(
    `Prove your ${c.label}`,
    `${message(notice)}<p>Account ${whose(c)} asked ${escapeHtml(registrarName(site))} to verify its PGP fingerprint
<code>${escapeHtml(c.value)}</code>.</p>
<p>Save the text below to a file (say <code>challenge.txt</code>), sign it with that key (<code>gpg --clearsign challenge.txt</code>), and paste the signed text and your public key (<code>gpg --armor --export ${escapeHtml(c.subject)}</code>).</p>
<pre id="challenge-text">${escapeHtml(pgpChallengeText(c, site.index))}</pre>
<form method="post">
<p><label for="signed">Signed text (challenge.txt.asc)</label><br><textarea id="signed" name="signedMessage" rows="12" cols="64" required></textarea></p>
<p><label for="key">Public key</label><br><textarea id="key" name="armoredKey" rows="12" cols="64" required></textarea></p>
<p><button type="submit">Check the signature</button></p>
</form>`,
    site,
  );
}

export function webPage(
  c: Open,
  o: { site: OperatorInfo; path: string; label: string; readAgain: boolean },
  notice?: string,
): string {
  const proof = proofLine(c);
  return page(
    `Prove your ${c.label}`,
    `${message(notice)}<p>Account ${whose(c)} asked ${escapeHtml(registrarName(o.site))} to verify its website
<code>${escapeHtml(c.value)}</code>.</p>
<p>Publish this line, either way:</p>
<pre id="web-proof">${escapeHtml(proof)}</pre>
<ul>
<li>as the file <code>https://${escapeHtml(c.subject)}${escapeHtml(o.path)}</code> (plain text, HTTPS with a valid certificate), or</li>
<li>as a DNS TXT record at <code>${escapeHtml(o.label)}.${escapeHtml(c.subject)}</code>.</li>
</ul>
<p>Then press the button. The registrar also looks again by itself every few minutes.${o.readAgain ? ' Keep the line published while the judgement stands: it is read again from time to time.' : ''}</p>
<form method="post"><button type="submit">Check now</button></form>`,
    o.site,
  );
}
