/**
 * The registrar's public policy and figures, as a page and as JSON: what it verifies and how (from
 * its configuration), its fee, and what it measured over the last 30 days.
 */
import type { Figures, Spread } from '../domain/figures.js';
import { escapeHtml } from '../support/html.js';
import { page, type RegistrarInfo } from './views.js';

/** How one field is proven, as the configuration has it. */
export interface FieldProof {
  field: string;
  label: string;
  how: string[];
}

export interface PublishedPolicy {
  registrar: RegistrarInfo;
  proofs: FieldProof[];
  figures: Figures;
}

/** The JSON a person, a wallet or governance reads; durations in seconds, times as ISO dates. */
export function policyJson(published: PublishedPolicy) {
  const { registrar, proofs, figures } = published;
  return {
    registrar: { index: registrar.index, account: registrar.account, fee: registrar.fee },
    policy: {
      kind: registrar.policy,
      extraFields: registrar.extraFields,
      displayOnly: registrar.displayOnly,
      verifies: proofs,
    },
    figures: {
      ...figures,
      from: new Date(figures.from).toISOString(),
      to: new Date(figures.to).toISOString(),
    },
  };
}

function duration(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 360) / 10} h`;
  return `${Math.round(seconds / 8_640) / 10} days`;
}

function spreadRow(what: string, spread: Spread): string {
  return `<tr><td>${what}</td><td>${duration(spread.p50Seconds)}</td><td>${duration(spread.p90Seconds)}</td><td>${spread.count}</td></tr>`;
}

export function aboutPage(published: PublishedPolicy): string {
  const { registrar, proofs, figures } = published;
  const kinds = Object.entries(figures.judgements);
  const given =
    kinds.length === 0
      ? '<p>No judgement was given in this time.</p>'
      : `<ul>${kinds.map(([kind, n]) => `<li>${escapeHtml(kind)}: ${n}</li>`).join('')}</ul>`;
  const rows = proofs
    .map(
      (p) =>
        `<tr><th scope="row">${escapeHtml(p.label)}</th><td>${p.how.map((h) => escapeHtml(h)).join('; or ')}</td></tr>`,
    )
    .join('\n');
  return page(
    `Registrar #${registrar.index}: policy and figures`,
    `<p>What this registrar verifies and how, its fee, and how it did over the last 30 days. The same as JSON: <a href="/about.json">/about.json</a>.</p>
<h2>What it verifies and how</h2>
${registrar.displayOnly ? '<p><strong>This registrar judges display names alone</strong>: its judgement says only that the display name is not a look-alike of a name it already judged.</p>\n' : ''}<table>
<thead><tr><th scope="col">Field</th><th scope="col">Proven by</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p>${registrar.policy === 'mask' ? 'Every field listed must be set and proven.' : 'Every field listed that the identity sets must be proven, and at least one account among them.'} ${registrar.extraFields === 'ignore' ? 'Other fields are not checked and not vouched for.' : 'Other fields must be removed before it judges.'}</p>
<dl>
<dt>Registrar</dt><dd>#${registrar.index}, account <code>${escapeHtml(registrar.account)}</code></dd>
<dt>Fee</dt><dd>${escapeHtml(registrar.fee)}</dd>
</dl>
<h2>Figures of the last 30 days</h2>
<p>From ${new Date(figures.from).toISOString().slice(0, 10)} to ${new Date(figures.to).toISOString().slice(0, 10)}: ${figures.requests} request${figures.requests === 1 ? '' : 's'}.</p>
<h3>Judgements given</h3>
${given}
<h3>How long it took</h3>
<table>
<thead><tr><th scope="col">From … to …</th><th scope="col">Median</th><th scope="col">90 % within</th><th scope="col">Requests</th></tr></thead>
<tbody>
${spreadRow('The request to the first challenge delivered', figures.requestToChallenge)}
${spreadRow('The last field proven to the judgement on chain', figures.proofToJudgement)}
${spreadRow('The request to the judgement on chain', figures.requestToJudgement)}
</tbody>
</table>
<p>Judgements an operator gave by hand count among the judgements, not in these times.</p>`,
    registrar.site,
  );
}
