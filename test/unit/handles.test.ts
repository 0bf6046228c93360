/**
 * One account per handle, below the daemon: which names a proof holds (the email address as its
 * limits count it, the service's ID beside the handle), and the guard over a real store: another
 * person's account is refused, the same person's (parent, sub, sibling sub) is not, `warn` and
 * `off` let it through, two proving one handle at once are not both let through, and a request that
 * closed unjudged holds nothing.
 */
import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { HandleRule } from '../../src/domain/handles.js';
import { handleNames } from '../../src/domain/handles.js';
import type { JudgementRequest } from '../../src/domain/request.js';
import { HandleGuard } from '../../src/registrar/handles.js';
import { SqliteStore } from '../../src/store/sqlite.js';

describe('the names a proof holds', () => {
  it('holds an email address however it is spelled, as the message limits count it', () => {
    expect(handleNames('email', 'Alice+news@example.org')).toEqual(['email:alice@example.org']);
    expect(handleNames('email', 'alice@example.org')).toEqual(['email:alice@example.org']);
  });

  it("holds an account's handle and, where the proof has it, the service's numeric ID", () => {
    expect(handleNames('github', 'octocat', '583231')).toEqual(['github:octocat', 'github#id:583231']);
    expect(handleNames('twitter', 'gav')).toEqual(['twitter:gav']);
    // A Matrix ID or a website has no service ID to hold.
    expect(handleNames('matrix', '@a:example.org', '1')).toEqual(['matrix:@a:example.org']);
    expect(handleNames('web', 'example.org')).toEqual(['web:example.org']);
    expect(handleNames('pgpFingerprint', 'AB'.repeat(20))).toEqual([`pgpFingerprint:${'AB'.repeat(20)}`]);
  });

  it('holds nothing for a name many people may share', () => {
    expect(handleNames('display', 'Alice')).toEqual([]);
    expect(handleNames('legal', 'Alice Smith')).toEqual([]);
  });
});

describe('the handle guard', () => {
  let store: SqliteStore;
  /** Sub-identity → parent, as SuperOf says. */
  const parents = new Map([
    ['sub-1', 'parent'],
    ['sub-2', 'parent'],
  ]);
  const guard = (rule: HandleRule) =>
    new HandleGuard({
      rule,
      store,
      key: (handle) => createHmac('sha256', 'secret').update(handle).digest('hex'),
      parentOf: async (account) => parents.get(account),
      log: pino({ level: 'silent' }),
      now: () => 1_000,
    });
  const requestOf = (account: string) => ({ id: `req-${account}`, account }) as JudgementRequest;

  beforeEach(() => {
    store = new SqliteStore(':memory:');
  });
  afterEach(() => store.close());

  it("refuses another person's account, by handle or by the service's ID, without naming the holder", async () => {
    await guard('refuse').claim(requestOf('alice'), 'github', 'alice-gh', '7');
    const refusal = await guard('refuse').refusal('mallory', 'github', 'alice-gh');
    expect(refusal).toMatch(/already proven for another account/);
    expect(refusal).not.toContain('alice');
    // Renamed: the ID is still Alice's account.
    expect(await guard('refuse').refusal('mallory', 'github', 'new-name', '7')).toMatch(/already proven/);
    expect(await guard('refuse').refusal('alice', 'github', 'alice-gh', '7')).toBeUndefined();
    expect(await guard('refuse').refusal('mallory', 'github', 'other-gh', '8')).toBeUndefined();
  });

  it('lets the same person prove it: the parent, its sub-identities, and subs of one parent', async () => {
    await guard('refuse').claim(requestOf('parent'), 'email', 'ops@example.org');
    expect(await guard('refuse').refusal('sub-1', 'email', 'ops@example.org')).toBeUndefined();
    await guard('refuse').claim(requestOf('sub-1'), 'email', 'team@example.org');
    expect(await guard('refuse').refusal('sub-2', 'email', 'team@example.org')).toBeUndefined();
    expect(await guard('refuse').refusal('parent', 'email', 'team@example.org')).toBeUndefined();
    expect(await guard('refuse').refusal('stranger', 'email', 'Team+x@example.org')).toMatch(
      /already proven/,
    );
  });

  it('lets it through under warn and off', async () => {
    await guard('refuse').claim(requestOf('alice'), 'email', 'alice@example.org');
    expect(await guard('warn').refusal('mallory', 'email', 'alice@example.org')).toBeUndefined();
    expect(await guard('off').refusal('mallory', 'email', 'alice@example.org')).toBeUndefined();
  });

  it('never lets two people prove one handle at the same instant', async () => {
    const alice = { ...requestOf('alice'), fields: {} } as JudgementRequest;
    const mallory = { ...requestOf('mallory'), fields: {} } as JudgementRequest;
    // Both look before either has claimed: each then sees the other's claim.
    const outcomes = await Promise.all([
      guard('refuse').reserve(alice, 'email', 'alice@example.org'),
      guard('refuse').reserve(mallory, 'email', 'Alice+x@example.org'),
    ]);
    expect(outcomes.filter((o) => o === undefined).length).toBeLessThanOrEqual(1);
    // Whoever was refused holds nothing: a later try of the other goes through.
    if (outcomes.every((o) => o !== undefined)) {
      expect(await guard('refuse').reserve(alice, 'email', 'alice@example.org')).toBeUndefined();
    }
    expect(await guard('refuse').reserve(mallory, 'email', 'alice@example.org')).toMatch(/already proven/);
    // A proof that did not go through gives its reservation back.
    await guard('refuse').withdraw(alice, 'email');
    expect(await guard('refuse').reserve(mallory, 'email', 'alice@example.org')).toBeUndefined();
  });

  it('keeps the claim of a field proven before when a later proof of it fails', async () => {
    const alice = { ...requestOf('alice'), fields: { email: { status: 'confirmed' } } } as JudgementRequest;
    expect(await guard('refuse').reserve(alice, 'email', 'alice@example.org')).toBeUndefined();
    await guard('refuse').withdraw(alice, 'email');
    expect(await guard('refuse').refusal('mallory', 'email', 'alice@example.org')).toMatch(/already proven/);
  });

  it('holds nothing for a request that closed unjudged, or for the fields it lost', async () => {
    await guard('refuse').claim(requestOf('alice'), 'email', 'alice@example.org');
    await guard('refuse').claim(requestOf('alice'), 'github', 'alice-gh');
    await guard('refuse').release('req-alice', ['github']);
    expect(await guard('refuse').refusal('bob', 'github', 'alice-gh')).toBeUndefined();
    expect(await guard('refuse').refusal('bob', 'email', 'alice@example.org')).toMatch(/already proven/);
    await guard('refuse').release('req-alice');
    expect(await guard('refuse').refusal('bob', 'email', 'alice@example.org')).toBeUndefined();
  });
});
