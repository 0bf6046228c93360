/**
 * What a request has to prove and how it moves. Pure: the registrar feeds in what the chain and
 * the channels said, and stores what comes out.
 */
import { checkDisplayName } from './display-name.js';
import { FIELDS, type Field } from './fields.js';
import { canonicalValue, type FieldValue, type IdentityInfo } from './identity.js';
import {
  type Blocker,
  type FieldState,
  isProving,
  type JudgementRequest,
  type ProofSource,
  type RequestStatus,
  type Snapshot,
} from './request.js';
import { parseSubject } from './subjects.js';

export type { Blocker };

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

/** What to do for an awaiting field, where opening a mailed link is not the whole story. */
const REVIEW_HINT =
  'The registrar reviews this field by hand; nothing to do but wait (or contact the registrar).';

const WAIT_HINTS: Partial<Record<Field, string>> = {
  legal: REVIEW_HINT,
  image: REVIEW_HINT,
  github: 'Open "Prove your GitHub account" and sign in to GitHub as this account, then confirm.',
  discord: 'Open "Prove your Discord account" and sign in to Discord as this account, then confirm.',
  twitter: 'Open "Prove your X/Twitter account" and sign in to X as this account, then confirm.',
  web: 'Open "Prove your website", publish the line it shows on your site or in DNS, and press "Check now".',
  pgpFingerprint:
    'Open "Prove your PGP fingerprint", sign the text it shows with this key (gpg --clearsign) and paste it there.',
  matrix:
    "Accept the registrar bot's invitation to a direct chat on Matrix, then open the link it posted and press Confirm, or reply there with the code.",
};

export function labelOf(field: Field): string {
  return LABELS[field];
}

/** Which fields must be proven: `mask`, every field of the registrar's mask; `set`, every set one. */
export type PolicyKind = 'mask' | 'set';

export interface Policy {
  kind: PolicyKind;
  /** ignore: fields outside the mask are listed as not verified; block: they block the request. */
  extraFields: 'ignore' | 'block';
}

export const DEFAULT_POLICY: Policy = { kind: 'mask', extraFields: 'ignore' };

/** Fields that name an account somewhere, as opposed to free text (display, legal name, image). */
export const ACCOUNT_FIELDS: readonly Field[] = [
  'email',
  'matrix',
  'twitter',
  'discord',
  'github',
  'web',
  'pgpFingerprint',
];

/** Another judged identity whose display name a new one resembles. */
export interface LookAlike {
  account: string;
  display: string;
}

/** What the registrar can prove: its on-chain field mask, and the fields it has a channel for. */
export interface Capabilities {
  mask: readonly Field[];
  /** Fields proven by sending a challenge (email, Matrix, ...). Display is checked automatically. */
  channels: ReadonlySet<Field>;
  policy?: Policy;
  /** Judged identities whose display name `name` could pass for (the display-name guard). */
  lookAlikes?: (name: string) => LookAlike[];
  /**
   * Whether a display name is like a name on a sanctions list (registrar/sanctions.ts): it then
   * waits for the operator's review instead of being confirmed. Absent: not screened.
   */
  sanctionsHeld?: (name: string) => boolean;
  /** Until when this account is refused (we judged it Erroneous recently), if it is. */
  refusedUntil?: number;
}

export interface FieldPlan {
  fields: Partial<Record<Field, FieldState>>;
  unverifiable: string[];
  conditions: Blocker[];
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

const NOT_VERIFIED = 'not verified by this registrar';

/** The state of one set field inside what the registrar verifies. */
function planField(
  field: Field,
  raw: FieldValue,
  can: Capabilities,
  now: number,
  before: FieldState | undefined,
): FieldState {
  const value = canonicalValue(raw);
  const label = LABELS[field];
  if (raw.kind === 'hash') {
    return failed(
      value,
      `the ${label} is set as a ${raw.algorithm} hash, which cannot be verified`,
      `Set the ${label} as plain text instead of a hash.`,
    );
  }
  if (raw.text === undefined) {
    return failed(value, `the ${label} is not valid UTF-8 text`, `Set the ${label} as plain text.`);
  }
  // The display name's own check says more precisely what is wrong than the text grammar.
  const verdict = field === 'display' ? checkDisplayName(raw.text) : { ok: true as const };
  if (!verdict.ok) return failed(value, verdict.reason, verdict.hint);
  const parsed = parseSubject(field, raw.text);
  if (!parsed.ok) return failed(value, parsed.reason, parsed.hint);
  const { subject } = parsed;
  if (field === 'display') {
    // An operator allowed this very name for this account: it stays allowed until it changes.
    if (before?.status === 'confirmed' && before.allowedBy !== undefined && before.subject === subject) {
      return before;
    }
    const twins = can.lookAlikes?.(raw.text) ?? [];
    if (twins.length > 0) {
      const named = twins
        .slice(0, 3)
        .map((twin) => `"${twin.display}" (${twin.account})`)
        .join(', ');
      return {
        ...(failed(
          value,
          `the display name could be mistaken for the judged name${twins.length > 1 ? 's' : ''} ${named}`,
          "Choose a display name that does not look like the name of another verified identity. If this name is honestly yours (your organisation's other account, say), ask the registrar to review it.",
        ) as FieldState & { status: 'failed' }),
        lookAlike: true,
      };
    }
    if (can.sanctionsHeld?.(raw.text)) {
      // The operator allows it (`review ACCOUNT display --confirm`) as a flagged look-alike; the
      // person only waits, and is not told why (a list hit is for the operator to weigh).
      return {
        ...(failed(
          value,
          'the registrar reviews this display name by hand before confirming it',
          REVIEW_HINT,
        ) as FieldState & { status: 'failed' }),
        lookAlike: true,
        held: true,
      };
    }
    const keep = before?.status === 'confirmed' && before.subject === subject;
    return { status: 'confirmed', value, subject, confirmedAt: keep ? before.confirmedAt : now };
  }
  // What was proven stays proven, even if its channel is away now.
  if (before?.status === 'confirmed' && before.subject === subject) return before;
  if (!can.channels.has(field)) {
    return failed(
      value,
      `this registrar cannot verify the ${label} field at the moment`,
      `Wait for the registrar to restore its ${label} check, remove the ${label}, or cancel the request.`,
    );
  }
  return { status: 'awaiting', value, subject };
}

/**
 * Decides the state of every field of `info` under the policy. With `previous` (an edit of an open
 * request), a confirmed field whose subject did not change stays confirmed; every other field
 * starts again.
 */
export function planFields(
  info: IdentityInfo,
  can: Capabilities,
  now: number,
  previous: JudgementRequest['fields'] = {},
): FieldPlan {
  const policy = can.policy ?? DEFAULT_POLICY;
  const fields: FieldPlan['fields'] = {};
  const toChallenge: Field[] = [];
  for (const field of FIELDS) {
    const raw = info.values[field];
    const label = LABELS[field];
    const inMask = can.mask.includes(field);
    if (!raw) {
      if (inMask && policy.kind === 'mask') {
        fields[field] = {
          status: 'missing',
          reason: `this registrar verifies the ${label} and it is not set`,
          hint: `This registrar verifies ${label}: add your ${label} to your identity, or cancel the request.`,
        };
      }
      continue;
    }
    if (!inMask) {
      fields[field] =
        policy.extraFields === 'block'
          ? failed(
              canonicalValue(raw),
              `this registrar does not verify the ${label} field`,
              `Remove the ${label} from your identity, or ask a registrar that verifies it.`,
            )
          : { status: 'ignored', value: canonicalValue(raw), reason: NOT_VERIFIED };
      continue;
    }
    const state = planField(field, raw, can, now, previous[field]);
    fields[field] = state;
    if (state.status === 'awaiting') toChallenge.push(field);
  }
  const unverifiable = info.unverifiable ?? [];
  const conditions: Blocker[] = [];
  if (policy.extraFields === 'block') {
    for (const name of unverifiable) {
      conditions.push({
        reason: `the identity sets ${name}, which no registrar can verify`,
        hint: `Remove ${name} from your identity.`,
        kind: 'change',
      });
    }
  }
  if (policy.kind === 'set') {
    const proven = ACCOUNT_FIELDS.filter((field) => can.mask.includes(field) && info.values[field]);
    if (proven.length === 0) {
      const offered = ACCOUNT_FIELDS.filter((field) => can.mask.includes(field)).map((f) => LABELS[f]);
      conditions.push({
        reason: 'the identity sets no account this registrar verifies; a name alone is never judged',
        hint:
          offered.length > 0
            ? `Add one of these to your identity: ${offered.join(', ')}.`
            : 'This registrar verifies no accounts; ask another registrar.',
        kind: 'change',
      });
    }
  }
  if (can.refusedUntil !== undefined) {
    conditions.push({
      reason: `this registrar judged an earlier identity of this account Erroneous and does not serve it until ${new Date(can.refusedUntil).toISOString().slice(0, 10)}`,
      hint: 'Cancel the request to get your fee back, or ask another registrar.',
      kind: 'change',
      refusedUntil: can.refusedUntil,
    });
  }
  // Challenges name the snapshot they were made for, so after an edit every unconfirmed field is
  // challenged again, pinned to the new snapshot, and the old links stop working.
  const toVoid = (Object.keys(previous) as Field[]).filter((field) => previous[field]?.status === 'awaiting');
  return { fields, unverifiable, conditions, toChallenge, toVoid };
}

export function newRequest(
  id: string,
  account: string,
  registrarIndex: number,
  snapshot: Snapshot,
  plan: FieldPlan,
  now: number,
  status: 'open' | 'prepared' = 'open',
): JudgementRequest {
  return {
    id,
    account,
    registrarIndex,
    status,
    snapshot,
    fields: plan.fields,
    unverifiable: plan.unverifiable,
    conditions: plan.conditions,
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
}

/** The person edited their identity: the new snapshot replaces the old one (a prepared request stays prepared). */
export function applyEdit(
  request: JudgementRequest,
  snapshot: Snapshot,
  plan: FieldPlan,
  now: number,
): JudgementRequest {
  return {
    ...request,
    status: request.status === 'prepared' ? 'prepared' : 'open',
    snapshot,
    fields: plan.fields,
    unverifiable: plan.unverifiable,
    conditions: plan.conditions,
    updatedAt: now,
  };
}

/** Whether two states of a field say the same to the person (and to the registrar). */
function sameState(a: FieldState | undefined, b: FieldState | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.status !== b.status) return false;
  if ('reason' in a && 'reason' in b) return a.reason === b.reason;
  return ('subject' in a ? a.subject : '') === ('subject' in b ? b.subject : '');
}

/**
 * The policy, the mask or the configured channels changed under an open request (a bot is back,
 * the registrar verifies another field): the fields whose state the new plan changes take it; the
 * others, awaiting ones with their live challenges included, stay as they are.
 */
export function replan(
  request: JudgementRequest,
  plan: FieldPlan,
  now: number,
): { request: JudgementRequest; changed: Field[] } | undefined {
  const changed = FIELDS.filter((field) => !sameState(request.fields[field], plan.fields[field]));
  const sameConditions = JSON.stringify(request.conditions ?? []) === JSON.stringify(plan.conditions);
  if (changed.length === 0 && sameConditions) return undefined;
  const fields = { ...request.fields };
  for (const field of changed) {
    const state = plan.fields[field];
    if (state) fields[field] = state;
    else delete fields[field];
  }
  return {
    request: {
      ...request,
      fields,
      conditions: plan.conditions,
      unverifiable: plan.unverifiable,
      updatedAt: now,
    },
    changed,
  };
}

export type ConfirmResult =
  | { ok: true; request: JudgementRequest }
  | { ok: false; reason: 'stale' | 'closed' | 'not-awaiting' | 'other-subject' };

/**
 * A challenge for `field` of the snapshot `snapshotHash` was answered by `subject`. It confirms the
 * field only when the request is open (or prepared), still at that snapshot, and awaiting exactly that subject.
 */
export function confirmField(
  request: JudgementRequest,
  field: Field,
  snapshotHash: string,
  subject: string,
  now: number,
  source: ProofSource = {},
): ConfirmResult {
  if (!isProving(request.status)) return { ok: false, reason: 'closed' };
  if (request.snapshot.hash !== snapshotHash) return { ok: false, reason: 'stale' };
  const state = request.fields[field];
  if (state?.status !== 'awaiting') return { ok: false, reason: 'not-awaiting' };
  if (state.subject !== subject) return { ok: false, reason: 'other-subject' };
  return {
    ok: true,
    request: {
      ...request,
      fields: {
        ...request.fields,
        [field]: {
          status: 'confirmed',
          value: state.value,
          subject,
          confirmedAt: now,
          ...(source.serviceId === undefined ? {} : { serviceId: source.serviceId }),
          ...(source.postUrl === undefined ? {} : { postUrl: source.postUrl }),
        },
      },
      updatedAt: now,
    },
  };
}

/** Why the request cannot be judged yet; empty when every field is proven. */
export function blockers(request: JudgementRequest): Blocker[] {
  const entries = FIELDS.flatMap((field) => {
    const state = request.fields[field];
    return state ? [[field, state] as const] : [];
  });
  const verified = entries.filter(([, state]) => state.status !== 'ignored');
  if (verified.length === 0) {
    return [
      {
        reason: 'the identity sets nothing this registrar verifies',
        hint: 'Set at least a display name on your identity.',
        kind: 'change',
      },
      ...(request.conditions ?? []),
    ];
  }
  const ofFields = entries.flatMap(([field, state]): Blocker[] => {
    if (state.status === 'failed' || state.status === 'missing') {
      const held = state.status === 'failed' && state.held === true;
      return [{ field, reason: state.reason, hint: state.hint, kind: held ? 'wait' : 'change' }];
    }
    if (state.status === 'awaiting') {
      return [
        {
          field,
          reason: `the ${LABELS[field]} is not confirmed yet`,
          hint:
            WAIT_HINTS[field] ??
            `Open the link we sent to your ${LABELS[field]} and press Confirm, or type the code from the message at /code.`,
          kind: 'wait',
        },
      ];
    }
    return [];
  });
  return [...ofFields, ...(request.conditions ?? [])];
}

/** Whether the request can be judged as it stands, once the person answers what is out. */
export function canBeJudgedAsItStands(request: JudgementRequest): boolean {
  return blockers(request).every((blocker) => blocker.kind === 'wait');
}

export function isReadyForJudgement(request: JudgementRequest): boolean {
  return request.status === 'open' && blockers(request).length === 0;
}

export function withStatus(request: JudgementRequest, status: RequestStatus, now: number): JudgementRequest {
  return { ...request, status, updatedAt: now };
}
