/** The HTML pages behind challenge links. Small, no scripts, every value escaped. */
import { escapeHtml } from '../html.js';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
code{word-break:break-all;background:#f2f2f2;padding:.1rem .3rem;border-radius:.2rem}
button{font-size:1.1rem;padding:.6rem 1.6rem;border:0;border-radius:.3rem;background:#e6007a;color:#fff;cursor:pointer}
.error{color:#a00000}
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`;
}

export function confirmPage(view: {
  account: string;
  display?: string;
  label: string;
  value: string;
  registrarIndex: number;
}): string {
  const named = view.display ? ` (display name <strong>${escapeHtml(view.display)}</strong>)` : '';
  return page(
    'Confirm your identity field',
    `<p>Account <code>${escapeHtml(view.account)}</code>${named} asked registrar #${view.registrarIndex} to verify its
${escapeHtml(view.label)} <code>${escapeHtml(view.value)}</code>.</p>
<p>Confirming says that this ${escapeHtml(view.label)} is yours and belongs to that account.</p>
<p>If this is you, press Confirm. If you did not ask for this, close this page: nothing happens.</p>
<form method="post"><button type="submit">Confirm</button></form>`,
  );
}

export function confirmedPage(view: { account: string; label: string }): string {
  return page(
    'Confirmed',
    `<p>Your ${escapeHtml(view.label)} is confirmed for account <code>${escapeHtml(view.account)}</code>.</p>
<p>The judgement is given on chain once every field of your identity is confirmed.</p>`,
  );
}

export function refusedPage(message: string): string {
  return page('This link cannot be used', `<p class="error">${escapeHtml(message)}</p>`);
}

/** The page where a code received in a message is typed in instead of opening the link. */
export function codePage(fields: readonly { field: string; label: string }[], message?: string): string {
  const options = fields
    .map((f) => `<option value="${escapeHtml(f.field)}">${escapeHtml(f.label)}</option>`)
    .join('');
  return page(
    'Enter a verification code',
    `${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/code">
<p><label for="account">Your account address</label><br><input id="account" name="account" required size="50"></p>
<p><label for="field">Field</label><br><select id="field" name="field">${options}</select></p>
<p><label for="code">Code from the message</label><br><input id="code" name="code" required autocomplete="one-time-code"></p>
<p><button type="submit">Confirm</button></p>
</form>`,
  );
}
