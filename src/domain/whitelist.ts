/**
 * Who is on the anonymous whitelist: the accounts whose latest judgement by this registrar is
 * Reasonable or KnownGood (a later OutOfDate, LowQuality or Erroneous takes an account off).
 */
import type { JudgementRecord } from './request.js';

const WHITELISTED: ReadonlySet<string> = new Set(['Reasonable', 'KnownGood']);

/** The accounts of `records` (the audit log, oldest first) this registrar now vouches for. */
export function whitelistedAccounts(records: readonly JudgementRecord[], registrarIndex: number): string[] {
  const latest = new Map<string, string>();
  for (const record of records) {
    if (record.registrarIndex === registrarIndex) latest.set(record.account, record.judgement);
  }
  return [...latest].filter(([, judgement]) => WHITELISTED.has(judgement)).map(([account]) => account);
}
