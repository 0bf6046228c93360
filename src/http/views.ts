/**
 * The HTML pages people see: the start page, the status of a request (updated live), the page behind
 * a challenge link, and the code form. Server-rendered, small, readable on a phone, one external
 * script (the live status), every value escaped.
 */
import type { Field } from '../domain/fields.js';
import { contactHref, type OperatorInfo, registrarName } from '../domain/operator.js';
import { RESEND_INTERVAL_MS } from '../registrar/proofs.js';
import type { RequestStatusView } from '../registrar/registrar.js';
import { escapeHtml } from '../support/html.js';

export type { OperatorInfo };

/** What the pages say about the registrar itself, read from the chain and the configuration. */
export interface RegistrarInfo {
  index: number;
  account: string;
  /** The fee, formatted with the chain's token, e.g. "1 PAS". */
  fee: string;
  /** The fee in the chain's smallest unit, as `requestJudgement`'s `max_fee` takes it. */
  feePlanck?: string;
  /** Proving before paying is offered, and a prepared request is kept this many hours. */
  preparedHours?: number;
  /** Labels of the fields of the on-chain mask. */
  verifies: string[];
  /** The fields of the on-chain mask. */
  fields?: readonly Field[];
  policy: 'mask' | 'set';
  extraFields: 'ignore' | 'block';
  /** The mask holds no account field under the `mask` policy: judgements rest on the display name alone. */
  displayOnly: boolean;
  challengeTtlHours: number;
  /** Days a closed request's values are kept (REGISTRAR_RETENTION_DAYS). */
  retentionDays: number;
  /** Days between checks of a judged website's line (REGISTRAR_RECHECK_JUDGED_DAYS); absent: none. */
  recheckJudgedDays?: number;
  /** Days to restore a proof found gone before OutOfDate (REGISTRAR_GRACE_DAYS). */
  graceDays?: number;
  /** Who runs the registrar: every page's header says it. */
  site: OperatorInfo;
}

// Long values (addresses, email addresses, proof lines) wrap rather than push the page sideways on
// a phone: \`overflow-wrap:anywhere\` on values also lets a table column shrink to the screen,
// while labels break between words only.
const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1b1b1b;background:#fff;overflow-wrap:break-word}
header{border-bottom:1px solid #ccc;margin-bottom:1rem}header p{margin:.3rem 0}header .site a{color:#1b1b1b;font-weight:600;text-decoration:none}header .about{font-size:.95rem;color:#333}header a,.hint{overflow-wrap:anywhere}th{overflow-wrap:normal}
a{color:#0b57d0}code{overflow-wrap:anywhere;background:#f2f2f2;padding:.1rem .3rem;border-radius:.2rem}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f2f2f2;padding:.5rem}textarea{max-width:100%;box-sizing:border-box}
button{font-size:1.1rem;padding:.6rem 1.6rem;border:0;border-radius:.3rem;background:#b3005c;color:#fff;cursor:pointer}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}
input,select{max-width:100%;box-sizing:border-box;font-size:1rem;padding:.3rem}.error{color:#a00000}.state-confirmed{color:#05620f}.state-failed,.state-missing{color:#a00000}.state-grace{color:#8a3c00}.hint{font-size:.95rem;color:#333}`;

/** The header of every page: who runs the registrar, on which chain, and whom to ask. */
function masthead(site: OperatorInfo | undefined): string {
  if (!site) return '<header><p class="site"><a href="/">Identity registrar</a></p></header>';
  const href = site.contact ? contactHref(site.contact) : undefined;
  const contact = site.contact
    ? ` Contact: ${href ? `<a href="${escapeHtml(href)}">${breakable(site.contact)}</a>` : escapeHtml(site.contact)}`
    : '';
  return `<header><p class="site"><a href="/">${escapeHtml(site.name ?? 'Identity registrar')}</a></p>
<p class="about">Registrar #${site.index}${site.chain ? ` on ${escapeHtml(site.chain)}` : ''}.${contact}</p></header>`;
}

/** `value` escaped, with places to break a line after the dots, @, slashes and dashes of addresses. */
export function breakable(value: string): string {
  return escapeHtml(value).replace(/([@./_-])/g, '$1<wbr>');
}

/**
 * A whole page. `site` (who runs the registrar) makes the header, the same on every page; only the
 * starting page, served before the chain is reached, may lack parts of it.
 */
export function page(
  title: string,
  body: string,
  site: OperatorInfo | undefined,
  options: { script?: string } = {},
): string {
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
${masthead(site)}
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

/** How long a closed request's values are kept, in the start page's words. */
/**
 * What the sweep keeps while a judgement stands, and why: the website and the published line's
 * code, the GitHub login and ID, to read them again without the person.
 */
function judgedProofsKept(about: Pick<RegistrarInfo, 'recheckJudgedDays' | 'graceDays'>): string {
  if (about.recheckJudgedDays === undefined) return '';
  return ` While a judgement stands, what its proofs can be read again by is kept: a website or the address of a gist or post and the code of the line published there, an account's handle and the service's ID of it, a PGP key's fingerprint. They are read again about every ${about.recheckJudgedDays} days, so keep the line published; if one is gone, you have ${about.graceDays ?? 0} days to restore it before the judgement becomes OutOfDate. They are deleted when the judgement is replaced, cleared or becomes OutOfDate.`;
}

function retention(days: number): string {
  if (days === 0) return 'deleted shortly after it closes';
  return `deleted ${days} ${days === 1 ? 'day' : 'days'} after it closes`;
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
  const chain = about.site.chain ?? 'this People chain';
  return page(
    `Identity registrar #${about.index}`,
    `<p>This registrar checks on-chain identities on ${escapeHtml(chain)} and, when every required field is
proven, gives the judgement <strong>Reasonable</strong>, pinned to exactly the identity it verified.</p>
<h2>What it verifies</h2>
<p>${policy} ${extra} Display names are checked automatically, also against look-alikes of every name already judged.</p>
${displayOnly}<dl>
<dt>Registrar</dt><dd>#${about.index}${about.site.name ? `, run by ${escapeHtml(about.site.name)}` : ''}, account <code>${escapeHtml(about.account)}</code></dd>
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
${prepareForm(about)}
<p>Received a code instead of opening a link? <a href="/code">Enter it here</a>.</p>
<h2>Your data</h2>
<p>The registrar keeps what it needs to judge: your account, a copy of the identity it verified, the state of each field and when each was proven. Links and codes expire ${about.challengeTtlHours} hours after they are sent. A request's values (your identity's fields) and its links are ${retention(about.retentionDays)} (judged, cancelled, or the identity cleared); the account, each field's state and, for a judgement, an audit record of the identity hash and the block stay, so that the judgement can be explained.${judgedProofsKept(about)} Nothing is shared with anyone; the registrar contacts only the accounts your identity names, and only for this check.</p>`,
    about.site,
  );
}

/** Proving before paying: the start page's form, when the registrar offers it. */
function prepareForm(about: RegistrarInfo): string {
  if (about.preparedHours === undefined) return '';
  return `<h2>Prove your fields before you pay</h2>
<p>Set your identity first, then enter your account: the registrar reads the identity from the chain and sends the links and codes now, to the fields the identity names. Nothing is paid until you request the judgement; when you do, for the same identity, it is given in the next block. An identity never requested is deleted after ${about.preparedHours} hours.</p>
<form method="post" action="/prepare">
<p><label for="prepare-account">Your account address</label><br><input id="prepare-account" name="account" required size="50" autocomplete="off"> <button type="submit">Prove my fields now</button></p>
</form>`;
}

const STATE_WORDS: Record<string, string> = {
  confirmed: 'Proven',
  awaiting: 'Waiting for you',
  failed: 'Cannot be verified',
  missing: 'Missing',
  ignored: 'Not verified by this registrar',
};

const REQUEST_WORDS: Record<RequestStatusView['status'], string> = {
  prepared: 'Not requested yet: you can prove your fields now',
  open: 'Open: proving the fields',
  judging: 'Every field is proven: the judgement is being given on chain',
  judged: 'Judged: the judgement is on chain',
  cancelled: 'Cancelled',
  cleared: 'Ended: the identity was cleared',
  none: 'No request',
};

/** `text` as a sentence: a capital first, a full stop last. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Fields waiting for a message from the registrar (not a page of its own, not the operator's review). */
function messagedFields(view: RequestStatusView): string[] {
  return Object.values(view.fields)
    .filter((f) => f?.status === 'awaiting' && !f.proveAt && !f.review)
    .map((f) => f?.label ?? '');
}

/** "a, b and c" */
function and(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** A named account: its name (chosen on chain by the parent) and a link to its status. */
function accountLink(account: string, name?: string): string {
  const link = `<a href="/status/${encodeURIComponent(account)}"><code>${escapeHtml(account)}</code></a>`;
  return name === undefined ? link : `<strong>${escapeHtml(name)}</strong> (${link})`;
}

/** Where the account stands among sub-identities: whose sub it is, and the subs a judged identity names. */
function family(view: RequestStatusView): string {
  const parts: string[] = [];
  if (view.subOf) {
    const { parent, name, parentJudgement } = view.subOf;
    parts.push(
      `<p id="sub-of">This account is a sub-identity${name === undefined ? '' : ` named <strong>${escapeHtml(name)}</strong>`} of ${accountLink(parent)}. ${
        parentJudgement
          ? `Its parent's identity is judged ${escapeHtml(parentJudgement)} by this registrar; wallets show this account under it, and it needs no judgement of its own.`
          : "Its parent's identity is not judged by this registrar; wallets show this account under it."
      }</p>`,
    );
  }
  if (view.subs?.length) {
    parts.push(
      `<p id="subs">Sub-identities of this identity: ${view.subs.map((sub) => accountLink(sub.account, sub.name)).join(', ')}.</p>`,
    );
  }
  return parts.join('\n');
}

/** The part of the status page that is replaced live. */
export function statusFragment(view: RequestStatusView, about: RegistrarInfo): string {
  const rows = (Object.entries(view.fields) as [Field, NonNullable<RequestStatusView['fields'][Field]>][])
    .map(([field, state]) => {
      const waiting =
        state.nextMessageAt === undefined
          ? undefined
          : `The message for it goes out at ${new Date(state.nextMessageAt).toUTCString()} (limits against unwanted mail, or a retry).`;
      const sent = state.sent
        ? `Sent to ${state.sent.to} at ${new Date(state.sent.at).toUTCString()}.`
        : undefined;
      const refused = state.refusal
        ? `Last try refused (${new Date(state.refusal.at).toUTCString()}): ${sentence(state.refusal.reason)}`
        : undefined;
      const gone = state.grace
        ? `No longer proven (${state.grace.reason}). Restore it before ${new Date(state.grace.until).toUTCString()}, or the judgement becomes OutOfDate.`
        : undefined;
      // The next step: the field's own hint, else what the request's blockers say to do for it.
      const next = state.hint ?? view.blockers.find((b) => b.field === field)?.hint;
      const detail = [
        ...new Set([state.reason && sentence(state.reason), next, sent, waiting, refused, gone]),
      ]
        .filter((t): t is string => Boolean(t))
        .map((t) => escapeHtml(t));
      if (state.proveAt)
        detail.push(`<a href="${escapeHtml(state.proveAt)}">Prove your ${escapeHtml(state.label)}</a>`);
      // Judged, but the sweep found its proof gone: still proven on chain until the grace ends.
      const words = state.grace
        ? 'Proof gone'
        : state.review
          ? 'Awaiting operator review'
          : (STATE_WORDS[state.status] ?? state.status);
      return `<tr data-field="${field}"><th scope="row">${escapeHtml(sentence(state.label).slice(0, -1))}</th><td>${state.value === undefined ? '' : `<code>${escapeHtml(state.value)}</code>`}</td>
<td class="state-${state.grace ? 'grace' : state.status}">${escapeHtml(words)}${detail.length ? `<div class="hint">${detail.join('<br>')}</div>` : ''}</td></tr>`;
    })
    .join('\n');
  const others = view.blockers.filter((b) => !b.field);
  const next =
    view.status === 'prepared'
      ? view.judgeable
        ? 'The judgement goes out when you request it: once every field waiting for you is proven and the request is on chain, in the next block.'
        : 'This identity could not be judged as it stands: change what is marked above before you request a judgement.'
      : view.status === 'open'
        ? view.judgeable
          ? 'Once every field waiting for you is proven, the judgement is given in the next block.'
          : 'This request cannot be judged as it stands: change what is marked above (editing your identity keeps what is proven and unchanged), or cancel the request.'
        : view.status === 'judged'
          ? Object.values(view.fields).some((f) => f?.grace)
            ? 'Restore what is marked above to keep the judgement.'
            : 'Nothing more to do.'
          : view.status === 'judging'
            ? 'The judgement is on its way; this page updates when the chain shows it.'
            : view.subOf
              ? ''
              : `Request a judgement from registrar #${about.index} to start.`;
  const messaged = view.status === 'open' || view.status === 'prepared' ? messagedFields(view) : [];
  const call =
    view.status === 'prepared'
      ? `<p id="request-call">To request it (fee ${escapeHtml(about.fee)}), send <code>identity.requestJudgement(${about.index}, ${escapeHtml(about.feePlanck ?? about.fee)})</code> from this account (polkadot.js apps: Developer → Extrinsics).</p>`
      : '';
  const resend = messaged.length
    ? `<form method="post" action="/status/${escapeHtml(view.account)}/resend"><p><button type="submit">Send new links</button></p>
<p class="hint">A link or code that expired, was used up or never arrived? This sends a new link and code to your ${escapeHtml(and(messaged))}, for each whose earlier link no longer works; links that still work are not replaced, and nothing is sent for them. You can ask once every ${Math.round(RESEND_INTERVAL_MS / 60_000)} minutes.</p></form>`
    : '';
  return `<p id="request-state"><strong>${escapeHtml(REQUEST_WORDS[view.status])}</strong></p>
${rows ? `<table><caption>Fields of your identity</caption><thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">State</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : ''}
${others.map((b) => `<p class="error">${escapeHtml(sentence(b.reason))} ${escapeHtml(b.hint)}</p>`).join('\n')}
${view.unverifiable.length ? `<p>Not verified by any registrar: ${list(view.unverifiable)}.</p>` : ''}
${family(view)}
${next ? `<p>${escapeHtml(next)} Fee: ${escapeHtml(about.fee)}.</p>` : ''}
${call}
${resend}`;
}

export function statusPage(view: RequestStatusView, about: RegistrarInfo, notice?: string): string {
  return page(
    'Judgement request status',
    `<p>Account <code>${escapeHtml(view.account)}</code>.</p>
${notice ? `<p role="status">${escapeHtml(notice)}</p>` : ''}
<section id="status" aria-live="polite" data-events="/status/${escapeHtml(view.account)}/events">
${statusFragment(view, about)}
</section>`,
    about.site,
    { script: '/assets/status.js' },
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
  site: OperatorInfo;
}): string {
  const named = view.display
    ? `<strong>${escapeHtml(view.display)}</strong> (<code>${escapeHtml(short(view.account))}</code>)`
    : `<code>${escapeHtml(view.account)}</code>`;
  return page(
    'Confirm your identity field',
    `<p>Account ${named} asked ${escapeHtml(registrarName(view.site))} to verify its
${escapeHtml(view.label)} <code>${escapeHtml(view.value)}</code>.</p>
${view.display ? `<p>Full address: <code>${escapeHtml(view.account)}</code></p>\n` : ''}<p>Confirming says that this ${escapeHtml(view.label)} is yours and belongs to that account.</p>
<p>If this is you, press Confirm. If you did not ask for this, close this page: nothing happens.</p>
<form method="post"><button type="submit">Confirm</button></form>`,
    view.site,
  );
}

/** The link to an account's status page, for the pages that end a step. */
function statusLink(account: string, text = 'See the status of your request'): string {
  return `<a href="/status/${encodeURIComponent(account)}">${escapeHtml(text)}</a>`;
}

/** What the page after a confirmation says of the request: the fields still to prove, and whether it is only prepared. */
export function stillToProve(view: RequestStatusView | undefined): {
  remaining: string[];
  prepared: boolean;
} {
  return {
    remaining: Object.values(view?.fields ?? {})
      .filter((f) => f && f.status !== 'confirmed' && f.status !== 'ignored')
      .map((f) => f?.label ?? ''),
    prepared: view?.status === 'prepared',
  };
}

export function confirmedPage(view: {
  account: string;
  label: string;
  site: OperatorInfo;
  remaining?: string[];
  /** The request is only prepared: the judgement waits for the request on chain. */
  prepared?: boolean;
}): string {
  const remaining = view.remaining ?? [];
  const done = view.prepared
    ? 'Every field is proven: request the judgement on chain (your status page shows the call) and it is given in the next block.'
    : 'Every field is proven: the judgement is given on chain in the next block.';
  return page(
    'Confirmed',
    `<p>Your ${escapeHtml(view.label)} is confirmed for account <code>${escapeHtml(view.account)}</code>.</p>
<p>${
      remaining.length === 0
        ? done
        : `Still missing: ${list(remaining)}. The judgement is given once every field is proven.`
    }</p>
<p>${statusLink(view.account)}</p>`,
    view.site,
  );
}

/**
 * A refusal: what went wrong, and where to go on. With the account known (a link's own, a form's),
 * it links to that account's status page, which says what is still needed and can send new links.
 */
export function refusedPage(
  message: string,
  site: OperatorInfo | undefined,
  o: { title?: string; account?: string } = {},
): string {
  const onward = o.account
    ? `<p>${statusLink(o.account, 'The status page of your request')} says what is still needed and can send new links.</p>`
    : "<p>Your request's status page (<code>/status/&lt;your address&gt;</code>, or the form on the start page) says what is still needed and can send new links.</p>";
  return page(
    o.title ?? 'This link cannot be used',
    `<p class="error">${escapeHtml(message)}</p>
${onward}
<p><a href="/">Start page</a></p>`,
    site,
  );
}

/** The page where a code received in a message is typed in instead of opening the link. */
export function codePage(
  fields: readonly { field: string; label: string }[],
  site: OperatorInfo,
  o: { message?: string; account?: string; field?: string } = {},
): string {
  const options = fields
    .map(
      (f) =>
        `<option value="${escapeHtml(f.field)}"${f.field === o.field ? ' selected' : ''}>${escapeHtml(sentence(f.label).slice(0, -1))}</option>`,
    )
    .join('');
  const onward =
    o.message && o.account && /^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(o.account)
      ? `<p>${statusLink(o.account, 'The status page of this account')} says what each field still needs.</p>`
      : '';
  return page(
    'Enter a verification code',
    `${o.message ? `<p class="error" role="alert">${escapeHtml(o.message)}</p>\n${onward}` : ''}
<p>The messages this registrar sends (by email, on Matrix, by the Discord bot) hold a link and a short code. Instead of opening the link, you can type the code here.</p>
<form method="post" action="/code">
<p><label for="account">Your account address</label><br><input id="account" name="account" required size="50" value="${escapeHtml(o.account ?? '')}"></p>
<p><label for="field">Field</label><br><select id="field" name="field">${options}</select></p>
<p><label for="code">Code from the message</label><br><input id="code" name="code" required autocomplete="one-time-code"></p>
<p><button type="submit">Confirm</button></p>
</form>`,
    site,
  );
}
