/**
 * What a request has to prove and how it moves. Pure: the registrar feeds in what the chain and
 * the channels said, and stores what comes out.
 */
import { checkDisplayName } from './display-name.js';
import { FIELDS, type Field } from './fields.js';
import { canonicalValue, type IdentityInfo } from './identity.js';
import type { FieldState, JudgementRequest, RequestStatus, Snapshot } from './request.js';

const LABELS: Record<Field, string> = {
  display: 'display name',
  legal: 'legal name',
  web: 'website',
  matrix: 'Matrix account',
  email: 'email address',
  pgpFingerprint: 'PGP fingerprint',
  image: 'image',
  twitter: 'X/Twitter account',
  github: 'GitHub account',
  discord: 'Discord account',
};

export function labelOf(field: Field): string {
  return LABELS[field];
}

/** What the registrar can prove: its on-chain field mask, and the fields it has a channel for. */
export interface Capabilities {
  mask: readonly Field[];
  /** Fields proven by sending a challenge (email, Matrix, ...). Display is checked automatically. */
  channels: ReadonlySet<Field>;
}

export interface FieldPlan {
  fields: Partial<Record<Field, FieldState>>;
  /** Fields that need a new challenge sent. */
  toChallenge: Field[];
  /** Fields whose earlier challenges must no longer be accepted. */
  toVoid: Field[];
}

const failed = (value: string, reason: string, hint: string): FieldState => ({
  status: 'failed',
  value,
  reason,
  hint,
});

/**
 * Decides the state of every field of `info`. With `previous` (an edit of an open request), a
 * confirmed field whose value did not change stays confirmed; every other field starts again.
 */
export function planFields(
  info: IdentityInfo,
  can: Capabilities,
  now: number,
  previous: JudgementRequest['fields'] = {},
): FieldPlan {
  const fields: FieldPlan['fields'] = {};
  const toChallenge: Field[] = [];
  for (const field of FIELDS) {
    const raw = info.values[field];
    if (!raw) continue;
    const value = canonicalValue(raw);
    const label = LABELS[field];
    const before = previous[field];
    if (!can.mask.includes(field)) {
      fields[field] = failed(
        value,
        `this registrar does not verify the ${label} field`,
        `Remove the ${label} from your identity, or ask a registrar that verifies it.`,
      );
    } else if (raw.kind === 'hash') {
      fields[field] = failed(
        value,
        `the ${label} is set as a ${raw.algorithm} hash, which cannot be verified`,
        `Set the ${label} as plain text instead of a hash.`,
      );
    } else if (field === 'display') {
      const verdict = checkDisplayName(raw.text);
      fields[field] = verdict.ok
        ? {
            status: 'confirmed',
            value,
            confirmedAt: before?.value === value && before.status === 'confirmed' ? before.confirmedAt : now,
          }
        : failed(value, verdict.reason, verdict.hint);
    } else if (raw.text === undefined) {
      fields[field] = failed(
        value,
        `the ${label} is not valid UTF-8 text`,
        `Set the ${label} as plain text.`,
      );
    } else if (!can.channels.has(field)) {
      fields[field] = failed(
        value,
        `this registrar cannot verify the ${label} field at the moment`,
        `Remove the ${label} from your identity, or ask a registrar that verifies it.`,
      );
    } else if (before?.status === 'confirmed' && before.value === value) {
      fields[field] = before;
    } else {
      fields[field] = { status: 'awaiting', value };
      toChallenge.push(field);
    }
  }
  // Challenges name the snapshot they were made for, so after an edit every unconfirmed field is
  // challenged again, pinned to the new snapshot, and the old links stop working.
  const toVoid = (Object.keys(previous) as Field[]).filter((field) => previous[field]?.status === 'awaiting');
  return { fields, toChallenge, toVoid };
}

export function newRequest(
  id: string,
  account: string,
  registrarIndex: number,
  snapshot: Snapshot,
  plan: FieldPlan,
  now: number,
): JudgementRequest {
  return {
    id,
    account,
    registrarIndex,
    status: 'open',
    snapshot,
    fields: plan.fields,
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
}

/** The person edited their identity: the new snapshot replaces the old one. */
export function applyEdit(
  request: JudgementRequest,
  snapshot: Snapshot,
  plan: FieldPlan,
  now: number,
): JudgementRequest {
  return { ...request, status: 'open', snapshot, fields: plan.fields, updatedAt: now };
}

export type ConfirmResult =
  | { ok: true; request: JudgementRequest }
  | { ok: false; reason: 'stale' | 'closed' | 'not-awaiting' };

/** A challenge for `field` of the snapshot `snapshotHash` was answered. */
export function confirmField(
  request: JudgementRequest,
  field: Field,
  snapshotHash: string,
  now: number,
): ConfirmResult {
  if (request.status !== 'open') return { ok: false, reason: 'closed' };
  if (request.snapshot.hash !== snapshotHash) return { ok: false, reason: 'stale' };
  const state = request.fields[field];
  if (state?.status !== 'awaiting') return { ok: false, reason: 'not-awaiting' };
  return {
    ok: true,
    request: {
      ...request,
      fields: { ...request.fields, [field]: { status: 'confirmed', value: state.value, confirmedAt: now } },
      updatedAt: now,
    },
  };
}

export interface Blocker {
  field?: Field;
  reason: string;
  hint: string;
}

/** Why the request cannot be judged yet; empty when every field is proven. */
export function blockers(request: JudgementRequest): Blocker[] {
  const entries = FIELDS.flatMap((field) => {
    const state = request.fields[field];
    return state ? [[field, state] as const] : [];
  });
  if (entries.length === 0) {
    return [
      { reason: 'the identity has no fields set', hint: 'Set at least a display name on your identity.' },
    ];
  }
  return entries.flatMap(([field, state]): Blocker[] => {
    if (state.status === 'failed') return [{ field, reason: state.reason, hint: state.hint }];
    if (state.status === 'awaiting') {
      return [
        {
          field,
          reason: `the ${LABELS[field]} is not confirmed yet`,
          hint: `Open the link we sent to your ${LABELS[field]} and press Confirm.`,
        },
      ];
    }
    return [];
  });
}

export function isReadyForJudgement(request: JudgementRequest): boolean {
  return request.status === 'open' && blockers(request).length === 0;
}

export function withStatus(request: JudgementRequest, status: RequestStatus, now: number): JudgementRequest {
  return { ...request, status, updatedAt: now };
}
