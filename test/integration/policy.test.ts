/**
 * The verification policy on the real runtime, as the compiled daemon applies it: with mask 665
 * (display, Matrix, email, X, Discord) an identity without Discord stays open and says so; under
 * REGISTRAR_EXTRA_FIELDS=block a field outside the mask blocks; under REGISTRAR_POLICY=set a display
 * name alone is never judged.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DaemonHarness, FEE, type StatusView } from '../support/harness.js';

const MASK_665 = 665;

let h: DaemonHarness;

beforeAll(async () => {
  h = await DaemonHarness.start(MASK_665);
});

afterAll(async () => {
  await h?.close();
});

async function openedFor(address: string): Promise<StatusView> {
  return h.statusBecomes(address, 'open');
}

describe('the verification policy', () => {
  it('mask: a mask field that is not set keeps the request open with a hint naming it', async () => {
    const person = await h.newPerson({
      display: 'No Discord',
      email: 'nodiscord@example.org',
      matrix: '@nodiscord:example.org',
      twitter: '@nodiscord',
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const view = await openedFor(person.address);
    expect(view.judgeable).toBe(false);
    expect(view.fields.discord).toMatchObject({ status: 'missing' });
    expect(view.blockers).toContainEqual(
      expect.objectContaining({
        field: 'discord',
        kind: 'change',
        hint: 'This registrar verifies Discord account: add your Discord account to your identity, or cancel the request.',
      }),
    );
    // No channel is configured for Matrix, X or Discord here: the status says so too.
    expect(view.fields.matrix?.reason).toBe(
      'this registrar cannot verify the Matrix account field at the moment',
    );
    expect(h.logs()).toContain('the registrar mask names fields no configured channel proves');
  });

  it('block: a field outside the mask blocks; set: a display name alone is never judged', async () => {
    await h.restart({ REGISTRAR_EXTRA_FIELDS: 'block', REGISTRAR_POLICY: 'set' });
    const legal = await h.newPerson({
      display: 'With Legal',
      legal: 'Legal Name',
      email: 'legal@example.org',
    });
    await h.chain.requestJudgement(legal, h.index, 2n * FEE);
    const blocked = await openedFor(legal.address);
    expect(blocked.fields.legal).toMatchObject({
      status: 'failed',
      reason: 'this registrar does not verify the legal name field',
    });
    expect(blocked.judgeable).toBe(false);

    const alone = await h.newPerson({ display: 'Only A Name' });
    await h.chain.requestJudgement(alone, h.index, 2n * FEE);
    const view = await openedFor(alone.address);
    expect(view.fields).toEqual({
      display: expect.objectContaining({ status: 'confirmed' }),
    });
    expect(view.judgeable).toBe(false);
    expect(view.blockers).toEqual([
      expect.objectContaining({
        reason: expect.stringContaining('a name alone is never judged'),
        kind: 'change',
      }),
    ]);
    // Nothing is judged: the slot is still FeePaid on chain.
    expect(await h.chain.judgementOf(alone.address, h.index)).toBe('FeePaid');
  });
});
