/**
 * The HTML pages people see: the start page, the status of a request (updated live), the page behind
 * a challenge link, and the code form. Server-rendered, small, readable on a phone, one external
 * script (the live status), every value escaped.
 */
import type { Field } from '../domain/fields.js';
import type { RequestStatusView } from '../registrar/registrar.js';
import { escapeHtml } from '../support/html.js';

/** What the pages say about the registrar itself, read from the chain and the configuration. */
export interface RegistrarInfo {
  index: number;
  account: string;
  /** The fee, formatted with the chain's token, e.g. "1 PAS". */
  fee: string;
  /** Labels of the fields of the on-chain mask. */
  verifies: string[];
  /** The fields of the on-chain mask. */
  fields?: readonly Field[];
  policy: 'mask' | 'set';
  extraFields: 'ignore' | 'block';
  /** The mask holds no account field under the `mask` policy: judgements rest on the display name alone. */
  displayOnly: boolean;
  challengeTtlHours: number;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1b1b1b;background:#fff}
header{border-bottom:1px solid #ccc;margin-bottom:1rem}header a{color:#1b1b1b;font-weight:600;text-decoration:none}
a{color:#0b57d0}code{word-break:break-all;background:#f2f2f2;padding:.1rem .3rem;border-radius:.2rem}
button{font-size:1.1rem;padding:.6rem 1.6rem;border:0;border-radius:.3rem;background:#b3005c;color:#fff;cursor:pointer}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}
input,select{max-width:100%;box-sizing:border-box;font-size:1rem;padding:.3rem}.error{color:#a00000}.state-confirmed{color:#05620f}.state-failed,.state-missing{color:#a00000}.hint{font-size:.95rem;color:#333}`;

export function page(title: string, body: string, options: { index?: number; script?: string } = {}): string {
  const script = options.script ? `\n<script src="${escapeHtml(options.script)}" defer></script>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>${script}
</head>
<body>
<header><p><a href="/">Identity registrar${options.index === undefined ? '' : ` #${options.index}`}</a></p></header>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

const short = (account: string) => `${account.slice(0, 6)}…${account.slice(-6)}`;

function list(items: string[]): string {
  return items.length === 0 ? 'nothing' : items.map(escapeHtml).join(', ');
}

export function startPage(about: RegistrarInfo): string {
  const policy =
    about.policy === 'mask'
      ? `Every field this registrar verifies (${list(about.verifies)}) must be set in your identity and proven by you.`
      : `Every field you set that this registrar verifies (${list(about.verifies)}) must be proven by you, and at least one of them must be an account (email, Matrix, X, Discord, GitHub, website or PGP key); a name alone is never judged.`;
  const extra =
    about.extraFields === 'ignore'
      ? 'Other fields of your identity are not checked and not vouched for.'
      : 'Fields this registrar does not verify must be removed before it judges.';
  const displayOnly = about.displayOnly
    ? `<p><strong>This registrar judges display names alone.</strong> Its judgement means only that the display name is not a look-alike of a name it already judged; it does not verify that any account, address or name belongs to the person.</p>\n`
    : '';
  return page(
    `Identity registrar #${about.index}`,
    `<p>This registrar checks on-chain identities on this People chain and, when every required field is
proven, gives the judgement <strong>Reasonable</strong>, pinned to exactly the identity it verified.</p>
<h2>What it verifies</h2>
<p>${policy} ${extra} Display names are checked automatically, also against look-alikes of every name already judged.</p>
${displayOnly}<dl>
<dt>Registrar</dt><dd>#${about.index}, account <code>${escapeHtml(about.account)}</code></dd>
<dt>Fee</dt><dd>${escapeHtml(about.fee)}, paid when you request the judgement and kept by the registrar once it judges</dd>
</dl>
<p>How each field is proven, and how long judgements took over the last 30 days: <a href="/about">policy and figures</a>.</p>
<h2>How to ask for a judgement</h2>
<ol>
<li>Set your identity (display name and the fields above) in polkadot.js apps (Accounts → Set on-chain identity), a wallet that supports identities, or Subsquare.</li>
<li>Request a judgement from registrar #${about.index} with a maximum fee of at least ${escapeHtml(about.fee)} (polkadot.js apps: Developer → Extrinsics → identity.requestJudgement).</li>
<li>Follow the links or codes this registrar sends to each field, and watch your status page: <code>/status/&lt;your address&gt;</code>.</li>
</ol>
<form method="get" action="/status" role="search">
<p><label for="account">Your account address</label><br><input id="account" name="account" required size="50" autocomplete="off"> <button type="submit">Show status</button></p>
</form>
<p>Received a code instead of opening a link? <a href="/code">Enter it here</a>.</p>
<h2>Your data</h2>
<p>The registrar keeps what it needs to judge: your account, a copy of the identity it verified, the state of each field, and when each was proven; for every judgement, an audit record of the identity hash and the block. These stay as long as the registrar runs, so that a judgement can be explained. Challenge links expire after ${about.challengeTtlHours} hours and are deleted a week later. Nothing is shared with anyone; the registrar contacts only the accounts your identity names, and only for this check.</p>`,
    { index: about.index },
  );
}

const STATE_WORDS: Record<string, string> = {
  confirmed: 'Proven',
  awaiting: 'Waiting for you',
  failed: 'Cannot be verified',
  missing: 'Missing',
  ignored: 'Not verified by this registrar',
};

const REQUEST_WORDS: Record<RequestStatusView['status'], string> = {
  open: 'Open: proving the fields',
  judging: 'Every field is proven: the judgement is being given on chain',
  judged: 'Judged: the judgement is on chain',
  cancelled: 'Cancelled',
  cleared: 'Ended: the identity was cleared',
  none: 'No request',
};

/** The part of the status page that is replaced live. */
export function statusFragment(view: RequestStatusView, about: RegistrarInfo): string {
  const rows = (Object.entries(view.fields) as [Field, NonNullable<RequestStatusView['fields'][Field]>][])
    .map(([field, state]) => {
      const waiting =
        state.nextMessageAt === undefined
          ? undefined
          : `The message for it goes out at ${new Date(state.nextMessageAt).toUTCString()} (limits against unwanted mail, or a retry).`;
      const refused = state.refusal
        ? `Last try, ${new Date(state.refusal.at).toUTCString()}: ${state.refusal.reason}`
        : undefined;
      const detail = [state.reason, state.hint, waiting, refused]
        .filter(Boolean)
        .map((t) => escapeHtml(t ?? ''));
      if (state.proveAt)
        detail.push(`<a href="${escapeHtml(state.proveAt)}">Prove your ${escapeHtml(state.label)}</a>`);
      return `<tr data-field="${field}"><th scope="row">${escapeHtml(state.label)}</th><td>${state.value === undefined ? '' : `<code>${escapeHtml(state.value)}</code>`}</td>
<td class="state-${state.status}">${escapeHtml(state.review ? 'Awaiting operator review' : (STATE_WORDS[state.status] ?? state.status))}${detail.length ? `<div class="hint">${detail.join('<br>')}</div>` : ''}</td></tr>`;
    })
    .join('\n');
  const others = view.blockers.filter((b) => !b.field);
  const next =
    view.status === 'open'
      ? view.judgeable
        ? 'Once every field waiting for you is proven, the judgement is given in the next block.'
        : 'This request cannot be judged as it stands: change what is marked above (editing your identity keeps what is proven and unchanged), or cancel the request.'
      : view.status === 'judged'
        ? 'Nothing more to do.'
        : view.status === 'judging'
          ? 'The judgement is on its way; this page updates when the chain shows it.'
          : `Request a judgement from registrar #${about.index} to start.`;
  const canResend =
    view.status === 'open' && Object.values(view.fields).some((f) => f?.status === 'awaiting');
  return `<p id="request-state"><strong>${escapeHtml(REQUEST_WORDS[view.status])}</strong></p>
${rows ? `<table><caption>Fields of your identity</caption><thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">State</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : ''}
${others.map((b) => `<p class="error">${escapeHtml(b.reason)}. ${escapeHtml(b.hint)}</p>`).join('\n')}
${view.unverifiable.length ? `<p>Not verified by any registrar: ${list(view.unverifiable)}.</p>` : ''}
<p>${escapeHtml(next)} Fee: ${escapeHtml(about.fee)}.</p>
${canResend ? `<form method="post" action="/status/${escapeHtml(view.account)}/resend"><p><button type="submit">Send new links</button> for fields whose link expired or never arrived.</p></form>` : ''}`;
}

export function statusPage(view: RequestStatusView, about: RegistrarInfo, notice?: string): string {
  return page(
    'Judgement request status',
    `<p>Account <code>${escapeHtml(view.account)}</code> with registrar #${about.index}.</p>
${notice ? `<p role="status">${escapeHtml(notice)}</p>` : ''}
<section id="status" aria-live="polite" data-events="/status/${escapeHtml(view.account)}/events">
${statusFragment(view, about)}
</section>`,
    { index: about.index, script: '/assets/status.js' },
  );
}

/** Keeps the status section current from the server's events; without it the page is still whole. */
export const STATUS_SCRIPT = `'use strict';
(function () {
  var section = document.getElementById('status');
  if (!section || !window.EventSource) return;
  var source = new EventSource(section.getAttribute('data-events'));
  source.addEventListener('status', function (event) { section.innerHTML = event.data; });
  // Nothing changed for a long while: the server ended the stream; reloading the page starts another.
  source.addEventListener('idle', function () {
    source.close();
    var note = document.createElement('p');
    note.textContent = 'Live updates paused. Reload this page to see the latest status.';
    section.appendChild(note);
  });
})();
`;

export function confirmPage(view: {
  account: string;
  display?: string;
  label: string;
  value: string;
  registrarIndex: number;
}): string {
  const named = view.display
    ? `<strong>${escapeHtml(view.display)}</strong> (<code>${escapeHtml(short(view.account))}</code>)`
    : `<code>${escapeHtml(view.account)}</code>`;
  return page(
    'Confirm your identity field',
    `<p>Account ${named} asked registrar #${view.registrarIndex} to verify its
${escapeHtml(view.label)} <code>${escapeHtml(view.value)}</code>.</p>
<p>Full address: <code>${escapeHtml(view.account)}</code></p>
<p>Confirming says that this ${escapeHtml(view.label)} is yours and belongs to that account.</p>
<p>If this is you, press Confirm. If you did not ask for this, close this page: nothing happens.</p>
<form method="post"><button type="submit">Confirm</button></form>`,
    { index: view.registrarIndex },
  );
}

export function confirmedPage(view: {
  account: string;
  label: string;
  registrarIndex?: number;
  remaining?: string[];
}): string {
  const remaining = view.remaining ?? [];
  return page(
    'Confirmed',
    `<p>Your ${escapeHtml(view.label)} is confirmed for account <code>${escapeHtml(view.account)}</code>.</p>
<p>${
      remaining.length === 0
        ? 'Every field is proven: the judgement is given on chain in the next block.'
        : `Still missing: ${list(remaining)}. The judgement is given once every field is proven.`
    }</p>
<p><a href="/status/${escapeHtml(view.account)}">See the status of your request</a></p>`,
    view.registrarIndex === undefined ? {} : { index: view.registrarIndex },
  );
}

export function refusedPage(message: string, title = 'This link cannot be used'): string {
  return page(
    title,
    `<p class="error">${escapeHtml(message)}</p>
<p>Your request's status page (<code>/status/&lt;your address&gt;</code>) says what is still needed and can send new links. <a href="/">Start page</a></p>`,
  );
}

/** The page where a code received in a message is typed in instead of opening the link. */
export function codePage(fields: readonly { field: string; label: string }[], message?: string): string {
  const options = fields
    .map((f) => `<option value="${escapeHtml(f.field)}">${escapeHtml(f.label)}</option>`)
    .join('');
  return page(
    'Enter a verification code',
    `${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/code">
<p><label for="account">Your account address</label><br><input id="account" name="account" required size="50"></p>
<p><label for="field">Field</label><br><select id="field" name="field">${options}</select></p>
<p><label for="code">Code from the message</label><br><input id="code" name="code" required autocomplete="one-time-code"></p>
<p><button type="submit">Confirm</button></p>
</form>`,
  );
}
