/**
 * `registrar sanctions import FILE [--format ofac|eu]`, `sanctions status` and `sanctions hits`:
 * a list file uploaded to the running daemon through its admin API (which reads it, keeps it and
 * screens judged names again), the kept lists, and the review queue's hits.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AdminClientSettings } from '../config.js';
import { MAX_SANCTIONS_FILE_BYTES } from '../domain/sanctions.js';
import { call, type HitRow, hitsTable, OperatorError, table } from './admin-client.js';

interface ListRow {
  format: string;
  source: string;
  listDate: string;
  importedAt: number;
  entryCount: number;
}

export async function importList(admin: AdminClientSettings, file: string, format?: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new OperatorError(`cannot read ${file}`);
  }
  if (size > MAX_SANCTIONS_FILE_BYTES) {
    throw new OperatorError(
      `${file} is larger than ${MAX_SANCTIONS_FILE_BYTES} bytes: is it a sanctions list?`,
    );
  }
  const query = new URLSearchParams({ source: basename(file).slice(0, 200), ...(format ? { format } : {}) });
  const { status: code, body } = await call<{
    list?: ListRow;
    screened?: number;
    hits?: number;
    screeningFailed?: string;
    error?: string;
  }>(admin, 'POST', `/admin/sanctions/import?${query}`, await readFile(file, 'utf8'), 'application/xml');
  if (code !== 200 || !body.list) {
    throw new OperatorError(`${body.error ?? `the daemon answered ${code}`}; the kept list is unchanged`);
  }
  const imported = `Imported the ${body.list.format} list of ${body.list.listDate} (${body.list.entryCount} entries) from ${body.list.source}.\n`;
  if (body.screeningFailed) {
    throw new OperatorError(
      `${imported}Screening again against it failed (${body.screeningFailed}); import it again to screen`,
    );
  }
  return `${imported}Screened ${body.screened} name(s) again: ${body.hits} new hit(s) in the review queue.\n`;
}

async function sanctionsState(admin: AdminClientSettings): Promise<{ lists: ListRow[]; hits: HitRow[] }> {
  const { status: code, body } = await call<{ lists?: ListRow[]; hits?: HitRow[]; error?: string }>(
    admin,
    'GET',
    '/admin/sanctions',
  );
  if (code !== 200) throw new OperatorError(body.error ?? `the daemon answered ${code}`);
  return { lists: body.lists ?? [], hits: body.hits ?? [] };
}

export async function status(admin: AdminClientSettings, json: boolean): Promise<string> {
  const { lists, hits } = await sanctionsState(admin);
  if (json) return `${JSON.stringify({ lists, hits: hits.length }, null, 2)}\n`;
  const open = hits.filter((hit) => !hit.reviewed).length;
  return `${table(
    lists.map((l) => ({
      format: l.format,
      source: l.source,
      'list date': l.listDate,
      imported: new Date(l.importedAt).toISOString(),
      entries: String(l.entryCount),
    })),
  )}review queue: ${hits.length} hit(s), ${open} not reviewed (registrar sanctions hits)\n`;
}

export async function hits(admin: AdminClientSettings, json: boolean): Promise<string> {
  const { hits } = await sanctionsState(admin);
  return json ? `${JSON.stringify(hits, null, 2)}\n` : hitsTable(hits);
}
