/**
 * The operator's commands that act on the running daemon (`registrar pending`, `status`, `reviews`,
 * `rescan`, `sweep`, `review`, `judge`), through its admin API, and their output: tables for people, JSON
 * with --json. They need the admin API's address and token only (`loadAdminClientSettings`).
 */
import type { AdminClientSettings } from '../config.js';

export class OperatorError extends Error {}

/** The daemon's admin API: its URL and token. */
type Admin = AdminClientSettings;

/** One admin API call; `payload` goes as JSON, or as it is (a file) with `contentType`. */
export async function call<T>(
  admin: Admin,
  method: 'GET' | 'POST',
  path: string,
  payload?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: T }> {
  let response: Response;
  const json = contentType === 'application/json';
  try {
    response = await fetch(`${admin.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${admin.token.reveal()}`,
        ...(payload === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined ? {} : { body: json ? JSON.stringify(payload) : (payload as string) }),
    });
  } catch {
    throw new OperatorError(
      `no registrar answers at ${admin.url}; is the daemon running, with its admin API at this address (REGISTRAR_ADMIN_URL, or REGISTRAR_ADMIN_HOST and REGISTRAR_ADMIN_PORT)?`,
    );
  }
  if (response.status === 401)
    throw new OperatorError(
      "REGISTRAR_ADMIN_TOKEN: the daemon refused this token; give the one the daemon's admin API was started with",
    );
  if (!(response.headers.get('content-type') ?? '').includes('application/json')) {
    throw new OperatorError(`${admin.url} answered ${response.status} and is not a registrar's admin API`);
  }
  return { status: response.status, body: (await response.json()) as T };
}

/** A plain text table: a header row and aligned columns. */
export function table(rows: Record<string, string>[]): string {
  if (rows.length === 0) return '(none)\n';
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return line(columns) + rows.map((row) => line(columns.map((c) => row[c] ?? ''))).join('');
}

interface PendingRow {
  account: string;
  status: string;
  createdAt: string;
  fields: Record<string, string>;
  /** Sanctions hits of the request's identity that no review answered yet. */
  sanctionsHits?: number;
}

export async function pending(admin: Admin, json: boolean): Promise<string> {
  const { body } = await call<PendingRow[]>(admin, 'GET', '/admin/requests');
  if (json) return `${JSON.stringify(body, null, 2)}\n`;
  return table(
    body.map((r) => ({
      account: r.account,
      status: r.status,
      since: r.createdAt,
      fields: Object.entries(r.fields)
        .map(([field, state]) => `${field}:${state}`)
        .join(' '),
      sanctions: r.sanctionsHits ? `${r.sanctionsHits} hit(s)` : '',
    })),
  );
}

/** A sanctions hit as the admin API gives it (registrar/sanctions.ts, QueuedHit). */
export interface HitRow {
  account: string;
  field: string;
  identityHash: string;
  list: { format: string; source: string; listDate: string };
  uid: string;
  name: string;
  score: number;
  reason: string;
  at: number;
  reviewed?: { decision: string; reviewer: string; at: number };
}

/** Hits as a table: the entry matched, its list, and whether the operator reviewed the field since. */
export function hitsTable(hits: readonly HitRow[]): string {
  return table(
    hits.map((h) => ({
      at: new Date(h.at).toISOString(),
      account: h.account,
      field: h.field,
      list: `${h.list.format} ${h.list.listDate}`,
      entry: h.uid,
      'listed name': h.name,
      score: h.score.toFixed(2),
      reviewed: h.reviewed ? `${h.reviewed.decision} by ${h.reviewed.reviewer}` : 'no',
    })),
  );
}

export async function status(
  admin: Admin,
  account: string,
  json: boolean,
): Promise<{ text: string; found: boolean }> {
  const { status: code, body } = await call<{
    status: string;
    identityHash?: string;
    judgeable?: boolean;
    fields?: Record<string, { status: string; value?: string; reason?: string; hint?: string }>;
    blockers?: { reason: string; hint: string }[];
    sanctionsHits?: HitRow[];
    error?: string;
  }>(admin, 'GET', `/admin/requests/${encodeURIComponent(account)}`);
  if (code === 400) throw new OperatorError(body.error ?? 'not an account address');
  if (json) return { text: `${JSON.stringify(body, null, 2)}\n`, found: code === 200 };
  const hits = body.sanctionsHits ?? [];
  const screened = hits.length > 0 ? `sanctions screening hits (review queue):\n${hitsTable(hits)}` : '';
  const fields = Object.entries(body.fields ?? {}).map(([field, state]) => ({
    field,
    state: state.status,
    value: state.value ?? '',
    why: state.reason ?? '',
  }));
  const head = `request: ${body.status}${body.judgeable === undefined ? '' : `, can be judged as it stands: ${body.judgeable ? 'yes' : 'no'}`}\n${body.identityHash ? `identity: ${body.identityHash}\n` : ''}`;
  return { text: head + table(fields) + screened, found: code === 200 };
}

interface ReviewRow {
  field: string;
  decision: string;
  reviewer: string;
  identityHash: string;
  at: number;
}

/** The operators' reviews of one account (the audit log), oldest first. */
export async function reviews(admin: Admin, account: string, json: boolean): Promise<string> {
  const { status: code, body } = await call<{ reviews?: ReviewRow[]; error?: string }>(
    admin,
    'GET',
    `/admin/reviews/${encodeURIComponent(account)}`,
  );
  if (code !== 200) throw new OperatorError(body.error ?? `the daemon answered ${code}`);
  const rows = body.reviews ?? [];
  if (json) return `${JSON.stringify(rows, null, 2)}\n`;
  return table(
    rows.map((r) => ({
      at: new Date(r.at).toISOString(),
      field: r.field,
      decision: r.decision,
      by: r.reviewer,
      identity: r.identityHash,
    })),
  );
}

export async function rescan(admin: Admin): Promise<string> {
  process.stderr.write('Reading every identity in chain storage and updating the requests…\n');
  const { status: code, body } = await call<{ pending: number; error?: string }>(
    admin,
    'POST',
    '/admin/rescan',
  );
  if (code !== 200) throw new OperatorError(body.error ?? `the daemon answered ${code}`);
  return `Rescanned chain storage: ${body.pending} request(s) pending for this registrar.\n`;
}

interface SweepRow {
  account: string;
  field: string;
  outcome: string;
  reason?: string;
  graceUntil?: number;
}

/** One pass of the sweep: the judged proofs due now checked again, and what each check found. */
export async function sweep(admin: Admin, json: boolean): Promise<string> {
  process.stderr.write('Checking again the judged proofs that are due…\n');
  const { status: code, body } = await call<{ findings?: SweepRow[]; error?: string }>(
    admin,
    'POST',
    '/admin/sweep',
  );
  if (code !== 200) throw new OperatorError(body.error ?? `the daemon answered ${code}`);
  const rows = body.findings ?? [];
  if (json) return `${JSON.stringify(rows, null, 2)}\n`;
  return table(
    rows.map((r) => ({
      account: r.account,
      field: r.field,
      outcome: r.outcome,
      'grace until': r.graceUntil === undefined ? '' : new Date(r.graceUntil).toISOString(),
      why: r.reason ?? '',
    })),
  );
}

/** What the operator sees before a review: the field's value now and the identity it belongs to. */
export async function reviewSubject(
  admin: Admin,
  account: string,
  field: string,
): Promise<{ value: string; identityHash: string; hits: HitRow[] }> {
  const { status: code, body } = await call<{
    identityHash?: string;
    fields?: Record<string, { status: string; value?: string }>;
    sanctionsHits?: HitRow[];
    error?: string;
  }>(admin, 'GET', `/admin/requests/${encodeURIComponent(account)}`);
  const value = body.fields?.[field]?.value;
  if (code !== 200 || !body.identityHash || value === undefined) {
    throw new OperatorError(body.error ?? `no open request of ${account} has a ${field} to review`);
  }
  // The hits of this very field and identity: what the operator must weigh before deciding.
  const hits = (body.sanctionsHits ?? []).filter(
    (hit) => hit.field === field && hit.identityHash === body.identityHash,
  );
  return { value, identityHash: body.identityHash, hits };
}

export async function review(
  admin: Admin,
  account: string,
  field: string,
  decision: 'confirm' | 'reject',
  note: string,
  reviewer: string,
  seen: { identityHash?: string; value?: string },
): Promise<string> {
  const { status: code, body } = await call<{ ok?: boolean; message?: string; error?: string }>(
    admin,
    'POST',
    '/admin/review',
    { account, field, decision, note, reviewer, ...seen },
  );
  if (code !== 200) throw new OperatorError(body.message ?? body.error ?? `the daemon answered ${code}`);
  return `The ${field} of ${account} is ${decision === 'confirm' ? 'confirmed' : 'rejected'}.\n`;
}

export async function judge(admin: Admin, account: string, judgement: string, by: string): Promise<string> {
  const { status: code, body } = await call<{ kind?: string; blockHash?: string; error?: string }>(
    admin,
    'POST',
    '/admin/judge',
    { account, judgement, by },
  );
  if (code !== 200)
    throw new OperatorError(body.error ?? `the judgement was not given (${body.kind ?? code})`);
  return `${judgement} given to ${account} in block ${body.blockHash}.\n`;
}
