import { describe, expect, it } from '@jest/globals';
import type { Field } from '../../src/domain/fields.js';
import type { FieldValue, IdentityInfo } from '../../src/domain/identity.js';
import {
  applyEdit,
  blockers,
  type Capabilities,
  canBeJudgedAsItStands,
  confirmField,
  isReadyForJudgement,
  newRequest,
  planFields,
  withStatus,
} from '../../src/domain/verification.js';

const text = (value: string): FieldValue => ({ kind: 'raw', hex: '0x00', text: value });
const identity = (values: Partial<Record<Field, FieldValue>>): IdentityInfo => ({ layout: 'people', values });
const can: Capabilities = { mask: ['display', 'email'], channels: new Set<Field>(['email']) };
const withMatrix: Capabilities = { ...can, mask: ['display', 'email', 'matrix'] };
const snap = (n: number) => ({ infoHex: `0x0${n}`, hash: `0x${String(n).repeat(64)}` });

describe('planning which fields to prove', () => {
  it('checks the display name at once and challenges the channel fields of the mask', () => {
    const plan = planFields(
      identity({ display: text('Alice'), email: text('a@example.org'), matrix: text('@a:example.org') }),
      { ...withMatrix, channels: new Set<Field>(['email', 'matrix']) },
      10,
    );
    expect(plan.fields).toEqual({
      display: { status: 'confirmed', value: 'Alice', subject: 'Alice', confirmedAt: 10 },
      email: { status: 'awaiting', value: 'a@example.org', subject: 'a@example.org' },
      matrix: { status: 'awaiting', value: '@a:example.org', subject: '@a:example.org' },
    });
    expect(plan.toChallenge).toEqual(['matrix', 'email']);
    expect(plan.toVoid).toEqual([]);
  });

  it('fails, with a reason and a hint, what cannot be proven', () => {
    const plan = planFields(
      identity({
        display: text('Bad\u202EName'),
        email: { kind: 'hash', algorithm: 'Keccak256', hex: '0x11' },
        matrix: text('@alice:matrix.org'),
        twitter: text('@alice'),
        web: { kind: 'raw', hex: '0xff', text: undefined },
      }),
      { ...withMatrix, policy: { kind: 'mask', extraFields: 'block' } },
      10,
    );
    expect(plan.toChallenge).toEqual([]);
    const reasons = Object.fromEntries(
      Object.entries(plan.fields).map(([field, state]) => [
        field,
        state.status === 'failed' ? state.reason : state.status,
      ]),
    );
    expect(reasons).toEqual({
      display: 'the display name contains text-direction override characters',
      email: 'the email address is set as a Keccak256 hash, which cannot be verified',
      matrix: 'this registrar cannot verify the Matrix account field at the moment',
      twitter: 'this registrar does not verify the X/Twitter account field',
      web: 'this registrar does not verify the website field',
    });
  });

  it('refuses raw bytes that are not text for a channel field', () => {
    const plan = planFields(identity({ email: { kind: 'raw', hex: '0xfffe', text: undefined } }), can, 10);
    expect(plan.fields.email).toMatchObject({
      status: 'failed',
      reason: 'the email address is not valid UTF-8 text',
    });
  });

  it('fails a value that is not one well-formed subject, and sends nothing for it', () => {
    const plan = planFields(
      identity({ display: text('Alice'), email: text('Alice <a@example.org>') }),
      can,
      10,
    );
    expect(plan.fields.email).toMatchObject({
      status: 'failed',
      hint: expect.stringContaining('plain address'),
    });
    expect(plan.toChallenge).toEqual([]);
  });
});

describe('the verification policy', () => {
  const mask665: Capabilities = {
    mask: ['display', 'matrix', 'email', 'twitter', 'discord'],
    channels: new Set<Field>(['email', 'matrix', 'twitter', 'discord']),
  };

  it('mask (default): a mask field that is not set blocks, naming it', () => {
    const plan = planFields(
      identity({ display: text('Alice'), email: text('a@example.org'), matrix: text('@a:example.org') }),
      mask665,
      10,
    );
    expect(plan.fields.discord).toEqual({
      status: 'missing',
      reason: 'this registrar verifies the Discord account and it is not set',
      hint: 'This registrar verifies Discord account: add your Discord account to your identity, or cancel the request.',
    });
    const request = newRequest('r', 'acct', 3, snap(1), plan, 10);
    expect(blockers(request).filter((b) => b.kind === 'change')).toEqual([
      expect.objectContaining({ field: 'twitter' }),
      expect.objectContaining({ field: 'discord' }),
    ]);
    expect(canBeJudgedAsItStands(request)).toBe(false);
  });

  it('ignores fields outside the mask under ignore, lists them, and blocks them under block', () => {
    const info = identity({ display: text('Alice'), email: text('a@example.org'), legal: text('Alice A') });
    const ignored = planFields(info, can, 10);
    expect(ignored.fields.legal).toEqual({
      status: 'ignored',
      value: 'Alice A',
      reason: 'not verified by this registrar',
    });
    const open = newRequest('r', 'acct', 3, snap(1), ignored, 10);
    expect(blockers(open).map((b) => b.field)).toEqual(['email']);
    const blocked = planFields(info, { ...can, policy: { kind: 'mask', extraFields: 'block' } }, 10);
    expect(blocked.fields.legal).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('does not verify'),
    });
  });

  it('never attests additional pairs or unknown fields: listed under ignore, blocking under block', () => {
    const info: IdentityInfo = {
      ...identity({ display: text('Alice'), email: text('a@example.org') }),
      unverifiable: ['the additional field "nickname"'],
    };
    const mask: Capabilities = { mask: ['display', 'email'], channels: new Set<Field>(['email']) };
    const ignored = planFields(info, mask, 10);
    expect(ignored.unverifiable).toEqual(['the additional field "nickname"']);
    expect(ignored.conditions).toEqual([]);
    const blocked = planFields(info, { ...mask, policy: { kind: 'mask', extraFields: 'block' } }, 10);
    expect(blocked.conditions).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('"nickname"'), kind: 'change' }),
    ]);
  });

  it('set: a display name alone is never judged, whatever the mask', () => {
    const set: Capabilities = { ...withMatrix, policy: { kind: 'set', extraFields: 'ignore' } };
    const plan = planFields(identity({ display: text('Alice') }), set, 10);
    expect(plan.fields).toEqual({
      display: { status: 'confirmed', value: 'Alice', subject: 'Alice', confirmedAt: 10 },
    });
    const request = newRequest('r', 'acct', 3, snap(1), plan, 10);
    expect(isReadyForJudgement(request)).toBe(false);
    expect(blockers(request)).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('a name alone is never judged') }),
    ]);
    // Under set, mask fields that are not set do not block; one proven account field is enough.
    const withEmail = planFields(identity({ display: text('Alice'), email: text('a@example.org') }), set, 10);
    expect(withEmail.fields.matrix).toBeUndefined();
    expect(withEmail.conditions).toEqual([]);
  });

  it('fails a display name that looks like a judged one, naming it', () => {
    const plan = planFields(
      identity({ display: text('Alice') }),
      { ...can, lookAlikes: () => [{ account: '5Judged', display: 'Аlice' }] },
      10,
    );
    expect(plan.fields.display).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining('"Аlice" (5Judged)'),
    });
  });
});

describe('a request', () => {
  const start = () => {
    const plan = planFields(identity({ display: text('Alice'), email: text('a@example.org') }), can, 10);
    return newRequest('r1', 'acct', 3, snap(1), plan, 10);
  };

  it('is ready for judgement once every field is confirmed, and not before', () => {
    const request = start();
    expect(isReadyForJudgement(request)).toBe(false);
    expect(blockers(request)).toEqual([
      expect.objectContaining({
        field: 'email',
        reason: 'the email address is not confirmed yet',
        kind: 'wait',
      }),
    ]);
    expect(canBeJudgedAsItStands(request)).toBe(true);
    const confirmed = confirmField(request, 'email', snap(1).hash, 'a@example.org', 20);
    expect(confirmed.ok).toBe(true);
    if (!confirmed.ok) return;
    expect(confirmed.request.fields.email).toEqual({
      status: 'confirmed',
      value: 'a@example.org',
      subject: 'a@example.org',
      confirmedAt: 20,
    });
    expect(isReadyForJudgement(confirmed.request)).toBe(true);
    expect(isReadyForJudgement(withStatus(confirmed.request, 'judging', 21))).toBe(false);
  });

  it('refuses a confirmation for another snapshot, a closed request, or a field not awaiting', () => {
    const request = start();
    expect(confirmField(request, 'email', snap(2).hash, 'a@example.org', 20)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(
      confirmField(withStatus(request, 'cancelled', 15), 'email', snap(1).hash, 'a@example.org', 20),
    ).toEqual({
      ok: false,
      reason: 'closed',
    });
    expect(confirmField(request, 'display', snap(1).hash, 'Alice', 20)).toEqual({
      ok: false,
      reason: 'not-awaiting',
    });
    expect(confirmField(request, 'matrix', snap(1).hash, '@a:example.org', 20)).toEqual({
      ok: false,
      reason: 'not-awaiting',
    });
    expect(confirmField(request, 'email', snap(1).hash, 'b@example.org', 20)).toEqual({
      ok: false,
      reason: 'other-subject',
    });
  });

  it('keeps confirmed unchanged fields across an edit and challenges the rest again', () => {
    const first = start();
    const confirmed = confirmField(first, 'email', snap(1).hash, 'a@example.org', 20);
    if (!confirmed.ok) throw new Error('confirmation expected');
    // Same email, new display name: the email stays confirmed.
    const renamed = planFields(
      identity({ display: text('Alice B'), email: text('a@example.org') }),
      can,
      30,
      confirmed.request.fields,
    );
    expect(renamed.fields.email).toEqual(confirmed.request.fields.email);
    expect(renamed.toChallenge).toEqual([]);
    // A new email: challenged again, and nothing proven about it yet.
    const moved = planFields(
      identity({ display: text('Alice'), email: text('b@example.org') }),
      can,
      30,
      confirmed.request.fields,
    );
    expect(moved.fields.email).toEqual({
      status: 'awaiting',
      value: 'b@example.org',
      subject: 'b@example.org',
    });
    expect(moved.toChallenge).toEqual(['email']);
    const edited = applyEdit(confirmed.request, snap(2), moved, 30);
    expect(edited.snapshot).toEqual(snap(2));
    expect(isReadyForJudgement(edited)).toBe(false);
  });

  it('re-challenges an unconfirmed field after any edit, because its link names the old snapshot', () => {
    const first = start();
    const plan = planFields(
      identity({ display: text('Alice B'), email: text('a@example.org') }),
      can,
      30,
      first.fields,
    );
    expect(plan.toVoid).toEqual(['email']);
    expect(plan.toChallenge).toEqual(['email']);
  });

  it('says an identity with no fields cannot be judged', () => {
    const empty = newRequest('r2', 'acct', 3, snap(1), planFields(identity({}), can, 10), 10);
    expect(blockers(empty)).toEqual([
      expect.objectContaining({ field: 'display', kind: 'change' }),
      expect.objectContaining({ field: 'email', kind: 'change' }),
    ]);
    expect(isReadyForJudgement(empty)).toBe(false);
  });
});
