/**
 * What every Store adapter promises. `connect` opens a new connection to the same database each
 * time it is called, so two connections can act as two workers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Field } from '../../src/domain/fields.js';
import type { Challenge, JudgementRequest } from '../../src/domain/request.js';
import { hitId, type SanctionsHit, type SanctionsList } from '../../src/domain/sanctions.js';
import type { JudgedProof } from '../../src/domain/sweep.js';
import { DuplicateError, type Store } from '../../src/store/store.js';

export interface StoreHarness {
  connect(): Promise<Store>;
  /** Drops everything; called once before the suite. */
  reset?(): Promise<void>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++counter}`;

export function request(overrides: Partial<JudgementRequest> = {}): JudgementRequest {
  return {
    id: unique('req'),
    account: unique('acct'),
    registrarIndex: 7,
    status: 'open',
    snapshot: { infoHex: '0x00', hash: `0x${'ab'.repeat(32)}` },
    fields: { email: { status: 'awaiting', value: 'a@example.org', subject: 'a@example.org' } },
    createdAt: 1_000,
    updatedAt: 1_000,
    version: 0,
    ...overrides,
  };
}

function challenge(requestId: string, overrides: Partial<Challenge> = {}): Challenge {
  return {
    id: unique('chl'),
    requestId,
    account: 'acct',
    field: 'email',
    snapshotHash: `0x${'ab'.repeat(32)}`,
    subject: 'a@example.org',
    createdAt: 1_000,
    expiresAt: 10_000,
    ...overrides,
  };
}

function defined<T>(value: T | undefined): T {
  expect(value).toBeDefined();
  return value as T;
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    let other: Store;
    beforeAll(async () => {
      await harness.reset?.();
      store = await harness.connect();
      other = await harness.connect();
    });
    afterAll(async () => {
      await store?.close();
      await other?.close();
    });

    it('keeps a request and finds it by id, by account and among the open ones', async () => {
      const r = request();
      await store.insertRequest(r);
      expect(await store.getRequest(r.id)).toEqual(r);
      expect(await other.findOpenRequest(r.account, r.registrarIndex)).toEqual(r);
      expect(await store.findOpenRequest(r.account, r.registrarIndex + 1)).toBeUndefined();
      expect((await store.listOpenRequests(r.registrarIndex)).map((x) => x.id)).toContain(r.id);
      expect(await store.getRequest('no-such-id')).toBeUndefined();
    });

    it('allows one open request per account and registrar, and a new one once it is closed', async () => {
      const first = request();
      await store.insertRequest(first);
      const second = request({ account: first.account });
      await expect(other.insertRequest(second)).rejects.toBeInstanceOf(DuplicateError);
      await expect(store.insertRequest({ ...first })).rejects.toBeInstanceOf(DuplicateError);
      // Another registrar index is another request.
      await store.insertRequest(request({ account: first.account, registrarIndex: 8 }));

      const judged = defined(await store.updateRequest({ ...first, status: 'judged' }));
      expect(judged.status).toBe('judged');
      expect(await store.findOpenRequest(first.account, first.registrarIndex)).toBeUndefined();
      expect((await store.listOpenRequests(first.registrarIndex)).map((x) => x.id)).not.toContain(first.id);
      await store.insertRequest({ ...second, createdAt: 2_000 });
      expect((await store.latestRequest(first.account, first.registrarIndex))?.id).toBe(second.id);
      // Reopening the old one would make two open requests.
      await expect(store.updateRequest({ ...judged, status: 'open' })).rejects.toBeInstanceOf(DuplicateError);
    });

    it('lists the snapshot of every open request by account, and none of a closed one', async () => {
      const index = 40;
      const open = request({
        registrarIndex: index,
        snapshot: { infoHex: '0x0102', hash: `0x${'cd'.repeat(32)}` },
      });
      const closed = request({ registrarIndex: index, status: 'judged' });
      await store.insertRequest(open);
      await store.insertRequest(closed);
      await store.insertRequest(request({ registrarIndex: index + 100 }));
      expect(await other.listOpenSnapshots(index)).toEqual(new Map([[open.account, open.snapshot]]));
    });

    it('counts the open requests by status, and no closed one', async () => {
      const index = 42;
      expect(await store.countOpenRequests(index)).toEqual({});
      await store.insertRequest(request({ registrarIndex: index }));
      await store.insertRequest(request({ registrarIndex: index }));
      await store.insertRequest(request({ registrarIndex: index, status: 'judging' }));
      await store.insertRequest(request({ registrarIndex: index, status: 'judged' }));
      await store.insertRequest(request({ registrarIndex: index + 100 }));
      expect(await other.countOpenRequests(index)).toEqual({ open: 2, judging: 1 });
    });

    it('lists the open requests ready for judgement, and as they change', async () => {
      const index = 41;
      const confirmed = {
        status: 'confirmed',
        value: 'a@example.org',
        subject: 'a@example.org',
        confirmedAt: 2,
      };
      const waiting = request({ registrarIndex: index });
      const ready = request({
        registrarIndex: index,
        fields: { email: confirmed } as JudgementRequest['fields'],
      });
      const judged = request({ ...ready, id: unique('req'), account: unique('acct'), status: 'judged' });
      await store.insertRequest(waiting);
      await store.insertRequest(ready);
      await store.insertRequest(judged);
      await store.insertRequest({
        ...ready,
        id: unique('req'),
        account: unique('acct'),
        registrarIndex: index + 100,
      });
      const ids = async () => (await other.listReadyRequests(index)).map((r) => r.id);
      expect(await ids()).toEqual([ready.id]);
      // The last field proven (by another instance, say): listed from then on.
      const proven = defined(await other.updateRequest({ ...waiting, fields: ready.fields }));
      expect((await ids()).sort()).toEqual([ready.id, waiting.id].sort());
      // Being judged, it is no longer ready; reopened, it is again.
      const judging = defined(await store.updateRequest({ ...proven, status: 'judging' }));
      expect(await ids()).toEqual([ready.id]);
      await store.updateRequest({ ...judging, status: 'open' });
      expect((await ids()).sort()).toEqual([ready.id, waiting.id].sort());
    });

    it('lets exactly one of two workers win a write made from the same version', async () => {
      const r = request();
      await store.insertRequest(r);
      const [a, b] = await Promise.all([
        store.updateRequest({ ...r, status: 'judging' }),
        other.updateRequest({ ...r, status: 'cancelled' }),
      ]);
      expect([a, b].filter((x) => x !== undefined)).toHaveLength(1);
      const stored = defined(await store.getRequest(r.id));
      expect(stored.version).toBe(1);
      expect(stored.status).toBe((a ?? b)?.status);
      // The loser's version is stale: retrying it blindly fails too.
      expect(await store.updateRequest({ ...r, status: 'open' })).toBeUndefined();
      expect(await store.updateRequest({ ...stored, status: 'judged' })).toMatchObject({ version: 2 });
    });

    it('consumes a challenge once, even when two workers race for it', async () => {
      const c = challenge('r1');
      await store.insertChallenge(c);
      await expect(other.insertChallenge({ ...c })).rejects.toBeInstanceOf(DuplicateError);
      const outcomes = await Promise.all([
        store.consumeChallenge(c.id, 2_000),
        other.consumeChallenge(c.id, 2_000),
      ]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.find((o) => !o.ok)).toMatchObject({ ok: false, reason: 'used' });
      expect((await store.getChallenge(c.id))?.usedAt).toBe(2_000);
      expect(await store.consumeChallenge(c.id, 2_001)).toMatchObject({ ok: false, reason: 'used' });
    });

    it('refuses unknown, expired and voided challenges and says which', async () => {
      expect(await store.consumeChallenge('missing', 2_000)).toEqual({ ok: false, reason: 'unknown' });
      const expired = challenge('r2', { expiresAt: 1_500 });
      await store.insertChallenge(expired);
      expect(await store.consumeChallenge(expired.id, 1_500)).toMatchObject({ ok: false, reason: 'expired' });

      const email = challenge('r3', { field: 'email' });
      const matrix = challenge('r3', { field: 'matrix' });
      const used = challenge('r3', { field: 'display' });
      for (const c of [email, matrix, used]) await store.insertChallenge(c);
      expect((await store.consumeChallenge(used.id, 2_000)).ok).toBe(true);
      expect(await store.voidChallenges('r3', 3_000, ['email'])).toBe(1);
      expect(await store.consumeChallenge(email.id, 3_001)).toMatchObject({ ok: false, reason: 'voided' });
      expect(await store.voidChallenges('r3', 3_000, [])).toBe(0);
      // Voiding all leaves used challenges as they were.
      expect(await store.voidChallenges('r3', 3_500)).toBe(1);
      expect(await store.consumeChallenge(matrix.id, 3_501)).toMatchObject({ ok: false, reason: 'voided' });
      expect((await store.getChallenge(used.id))?.voidedAt).toBeUndefined();
    });

    it('lists the challenges of a request, oldest first, as they now are', async () => {
      const first = challenge('r5', { createdAt: 1 });
      const second = challenge('r5', { createdAt: 2, field: 'matrix' });
      await store.insertChallenge(first);
      await other.insertChallenge(second);
      await store.insertChallenge(challenge('r6'));
      await store.consumeChallenge(first.id, 3);
      expect(await other.listChallenges('r5')).toEqual([{ ...first, usedAt: 3 }, second]);
      expect(await store.listChallenges('no-such-request')).toEqual([]);
    });

    it('finds the live challenges of a field made for one subject, and only those', async () => {
      const subject = unique('@alice:example.org');
      const first = challenge('r7', { field: 'matrix', subject, createdAt: 1 });
      const second = challenge('r8', { field: 'matrix', subject, createdAt: 2 });
      const used = challenge('r9', { field: 'matrix', subject, createdAt: 3 });
      const expired = challenge('r9', { field: 'matrix', subject, expiresAt: 1_500 });
      const otherField = challenge('r9', { field: 'email', subject });
      const otherSubject = challenge('r9', { field: 'matrix', subject: `${subject}x` });
      for (const c of [first, second, used, expired, otherField, otherSubject])
        await store.insertChallenge(c);
      await store.consumeChallenge(used.id, 1_100);
      expect(await other.findLiveChallenges('matrix', subject, 2_000)).toEqual([first, second]);
      await store.voidChallenges('r7', 2_100);
      expect(await store.findLiveChallenges('matrix', subject, 2_200)).toEqual([second]);
    });

    it('deletes expired challenges and keeps live ones', async () => {
      const old = challenge('r4', { expiresAt: 50 });
      const live = challenge('r4', { expiresAt: 1_000_000_000 });
      await store.insertChallenge(old);
      await store.insertChallenge(live);
      expect(await store.deleteExpiredChallenges(100)).toBeGreaterThanOrEqual(1);
      expect(await store.getChallenge(old.id)).toBeUndefined();
      expect(await store.getChallenge(live.id)).toEqual(live);
    });

    it('keeps the judgement audit log in order, per account', async () => {
      const account = unique('judged');
      const entry = {
        account,
        registrarIndex: 7,
        judgement: 'Reasonable',
        identityHash: '0x01',
        blockHash: '0x02',
        extrinsicHash: '0x03',
        at: 5,
      };
      await store.appendJudgement(entry);
      await other.appendJudgement({ ...entry, judgement: 'Erroneous', at: 6 });
      expect((await store.listJudgements(account)).map((j) => j.judgement)).toEqual([
        'Reasonable',
        'Erroneous',
      ]);
      expect(await store.listJudgements(account)).toContainEqual(entry);
      expect((await store.listJudgements()).length).toBeGreaterThanOrEqual(2);
    });

    it('gives the judgements and counts the requests of a registrar since a time, for the public figures', async () => {
      // A registrar index of this run's own, so that what other tests wrote does not count.
      const index = 100_000 + (process.pid % 1_000) * 100 + (++counter % 100);
      const entry = (at: number, registrarIndex = index) => ({
        account: unique('figures'),
        registrarIndex,
        judgement: 'Reasonable',
        identityHash: '0x01',
        blockHash: '0x02',
        extrinsicHash: '0x03',
        at,
        timing: { requestedAt: at - 60_000, challengedAt: at - 59_000, provenAt: at - 2_000 },
      });
      const before = entry(4_000_000);
      const first = entry(5_000_000);
      const second = entry(6_000_000);
      await store.appendJudgement(before);
      await other.appendJudgement(first);
      await store.appendJudgement(entry(5_500_000, index + 1));
      await store.appendJudgement(second);
      expect(await other.judgementsSince(index, 5_000_000)).toEqual([first, second]);
      expect(await store.judgementsSince(index, 7_000_000)).toEqual([]);

      await store.insertRequest(request({ registrarIndex: index, createdAt: 900 }));
      await store.insertRequest(request({ registrarIndex: index, createdAt: 1_000, status: 'judged' }));
      await other.insertRequest(request({ registrarIndex: index, createdAt: 2_000 }));
      await store.insertRequest(request({ registrarIndex: index + 1, createdAt: 2_000 }));
      // A prepared request was not requested on chain: no request to count.
      await store.insertRequest(request({ registrarIndex: index, createdAt: 3_000, status: 'prepared' }));
      expect(await store.countRequestsSince(index, 1_000)).toBe(2);
      expect(await other.countRequestsSince(index, 2_001)).toBe(0);
    });

    it('holds a prepared request as the one open request of its account, taken over in place or deleted with its challenges', async () => {
      const prepared = request({ status: 'prepared' });
      await store.insertRequest(prepared);
      expect((await other.findOpenRequest(prepared.account, prepared.registrarIndex))?.status).toBe(
        'prepared',
      );
      await expect(other.insertRequest(request({ account: prepared.account }))).rejects.toBeInstanceOf(
        DuplicateError,
      );
      const c = challenge(prepared.id);
      await store.insertChallenge(c);
      // The chain's request took it over: no longer prepared, so it is not deleted.
      const requested = defined(
        await store.updateRequest({ ...prepared, status: 'open', createdAt: 2_000, preparedAt: 1_000 }),
      );
      expect(await other.deletePreparedRequest(requested.id, requested.version)).toBe(false);
      expect(await store.getChallenge(c.id)).toBeDefined();

      const other2 = request({ status: 'prepared' });
      await store.insertRequest(other2);
      const c2 = challenge(other2.id);
      await store.insertChallenge(c2);
      // A stale version is not deleted (someone wrote since), the current one is, with its challenges.
      const touched = defined(await store.updateRequest({ ...other2, updatedAt: 1_500 }));
      expect(await other.deletePreparedRequest(other2.id, other2.version)).toBe(false);
      expect(await other.deletePreparedRequest(other2.id, touched.version)).toBe(true);
      expect(await store.getRequest(other2.id)).toBeUndefined();
      expect(await store.getChallenge(c2.id)).toBeUndefined();
      expect(await store.findOpenRequest(other2.account, other2.registrarIndex)).toBeUndefined();
    });

    it('keeps the review log in order, per account', async () => {
      const account = unique('reviewed');
      const entry = {
        account,
        registrarIndex: 7,
        field: 'legal',
        decision: 'confirm' as const,
        reviewer: 'alice',
        identityHash: '0x01',
        at: 5,
      };
      await store.appendReview(entry);
      await other.appendReview({ ...entry, field: 'image', decision: 'reject', reviewer: 'bob', at: 6 });
      expect(await store.listReviews(account)).toEqual([
        entry,
        { ...entry, field: 'image', decision: 'reject', reviewer: 'bob', at: 6 },
      ]);
      expect(await store.listReviews(unique('nobody'))).toEqual([]);
    });

    it('keeps checkpoints, the newest value winning', async () => {
      const key = unique('checkpoint');
      expect(await store.getCheckpoint(key)).toBeUndefined();
      await store.setCheckpoint(key, '100');
      await other.setCheckpoint(key, '200');
      expect(await store.getCheckpoint(key)).toBe('200');
    });

    it('forgets a checkpoint when its time runs out or when told, and keeps one without a time', async () => {
      const lasting = unique('lasting');
      const expiring = unique('expiring');
      const later = unique('later');
      const deleted = unique('deleted');
      await store.setCheckpoint(lasting, 'kept');
      await store.setCheckpoint(expiring, 'gone', 1_000);
      await store.setCheckpoint(later, 'stays', 5_000);
      await store.setCheckpoint(deleted, 'gone', 5_000);
      await other.deleteCheckpoint(deleted);
      expect(await other.deleteExpiredCheckpoints(1_000)).toBeGreaterThanOrEqual(1);
      expect(await store.getCheckpoint(lasting)).toBe('kept');
      expect(await store.getCheckpoint(expiring)).toBeUndefined();
      expect(await store.getCheckpoint(later)).toBe('stays');
      expect(await store.getCheckpoint(deleted)).toBeUndefined();
      // Set again without a time, it is kept for good.
      await store.setCheckpoint(later, 'for good');
      await other.deleteExpiredCheckpoints(10_000);
      expect(await store.getCheckpoint(later)).toBe('for good');
    });

    it("counts a bot's reply against its target's and account's limits", async () => {
      const target = unique('reply-target');
      const account = unique('reply-account');
      await store.recordMessage(target, account, 4_000);
      await other.recordMessage(target, account, 6_000);
      expect(await store.deliveryTimes({ target }, 5_000)).toEqual([6_000]);
      expect(await store.deliveryTimes({ account }, 0)).toEqual([4_000, 6_000]);
    });

    it('keeps the highest finalized block seen per chain: never lowered, by either writer', async () => {
      const chain = unique('0xgenesis');
      expect(await store.highestFinalized(chain)).toBeUndefined();
      expect(await store.raiseFinalized(chain, 120)).toBe(120);
      // A lagging endpoint's lower head, written by another instance, does not lower it.
      expect(await other.raiseFinalized(chain, 90)).toBe(120);
      expect(await store.highestFinalized(chain)).toBe(120);
      await Promise.all([store.raiseFinalized(chain, 150), other.raiseFinalized(chain, 140)]);
      expect(await other.highestFinalized(chain)).toBe(150);
      // Another chain (another genesis) has its own.
      expect(await store.highestFinalized(unique('0xother'))).toBeUndefined();
    });

    it('keeps an outbox: due undelivered challenges, retried later, gone once delivered', async () => {
      const r = request();
      await store.insertRequest(r);
      const due = challenge(r.id, { nextDeliveryAt: 2_000, expiresAt: 50_000 });
      const later = challenge(r.id, { nextDeliveryAt: 9_000, expiresAt: 50_000 });
      const used = challenge(r.id, { nextDeliveryAt: 2_000, expiresAt: 50_000 });
      await store.insertChallenge(due);
      await store.insertChallenge(later);
      await store.insertChallenge(used);
      await store.consumeChallenge(used.id, 2_500);
      const ids = async (now: number) =>
        (await other.dueDeliveries(now, 100))
          .map((c) => c.id)
          .filter((id) => id.includes(String(process.pid)));
      expect(await ids(3_000)).toEqual([due.id]);
      // The try timed out: the message may have gone out, and that stays known after later tries.
      await store.recordDelivery(due.id, { retryAt: 9_000, attempts: 1, expiresAt: 60_000, uncertain: true });
      await store.recordDelivery(due.id, { retryAt: 10_000, attempts: 1, expiresAt: 60_000 });
      expect((await other.getChallenge(due.id))?.deliveryUncertain).toBe(true);
      expect((await other.getChallenge(later.id))?.deliveryUncertain).toBeUndefined();
      expect(await ids(3_000)).toEqual([]);
      expect(await ids(10_000)).toEqual([later.id, due.id]);
      // One channel's lane takes only its own fields.
      const chat = challenge(r.id, { field: 'matrix', nextDeliveryAt: 2_500, expiresAt: 50_000 });
      await store.insertChallenge(chat);
      const laneIds = async (fields: readonly Field[]) =>
        (await other.dueDeliveries(10_000, 100, false, fields))
          .map((c) => c.id)
          .filter((id) => id.includes(String(process.pid)));
      expect(await laneIds(['matrix'])).toEqual([chat.id]);
      expect(await laneIds(['email', 'matrix'])).toEqual([chat.id, later.id, due.id]);
      expect(await laneIds([])).toEqual([]);
      await store.recordDelivery(chat.id, { deliveredAt: 2_600, target: unique('chat'), expiresAt: 50_000 });
      // At a restart every undelivered one is tried, whatever its backoff.
      expect(
        (await other.dueDeliveries(3_000, 100, true))
          .map((c) => c.id)
          .filter((id) => id.includes(String(process.pid))),
      ).toEqual([later.id, due.id]);
      const target = unique('target');
      const domain = unique('domain');
      await store.recordDelivery(due.id, {
        deliveredAt: 10_500,
        target,
        expiresAt: 70_000,
        also: [domain],
        deliveredTo: '4000000000000000001',
      });
      // A second report of the same delivery counts once, and changes nothing of the first.
      await other.recordDelivery(due.id, {
        deliveredAt: 10_600,
        target,
        expiresAt: 80_000,
        also: [domain],
        deliveredTo: '4000000000000000002',
      });
      expect(await ids(10_000)).toEqual([later.id]);
      expect(await store.getChallenge(due.id)).toEqual(
        expect.objectContaining({
          deliveredAt: 10_500,
          deliveryAttempts: 1,
          expiresAt: 70_000,
          deliveredTo: '4000000000000000001',
        }),
      );
      expect((await store.getChallenge(chat.id))?.deliveredTo).toBeUndefined();
      expect((await store.getChallenge(due.id))?.nextDeliveryAt).toBeUndefined();
      expect(await other.deliveryTimes({ target }, 0)).toEqual([10_500]);
      expect(await other.deliveryTimes({ target }, 10_501)).toEqual([]);
      expect(await other.deliveryTimes({ account: due.account }, 10_000)).toContain(10_500);
      // The domain counts the delivery too, and the account counts it once.
      expect(await other.deliveryTimes({ target: domain }, 0)).toEqual([10_500]);
      expect(
        (await other.deliveryTimes({ account: due.account }, 10_000)).filter((at) => at === 10_500),
      ).toHaveLength(1);
    });

    it('counts wrong codes per challenge', async () => {
      const r = request();
      await store.insertRequest(r);
      const a = challenge(r.id);
      const b = challenge(r.id);
      await store.insertChallenge(a);
      await store.insertChallenge(b);
      expect(await store.recordWrongCode([a.id])).toBe(1);
      expect(await other.recordWrongCode([a.id, b.id])).toBe(2);
      expect((await store.getChallenge(b.id))?.wrongCodes).toBe(1);
      expect(await store.recordWrongCode([])).toBe(0);
    });

    it("lists closed requests not yet forgotten and deletes a request's challenges", async () => {
      const closed = request({ status: 'cancelled', updatedAt: 500 });
      const recent = request({ status: 'judged', updatedAt: 5_000 });
      const open = request({ updatedAt: 500 });
      for (const r of [closed, recent, open]) await store.insertRequest(r);
      const c = challenge(closed.id);
      await store.insertChallenge(c);
      const listed = (await other.listClosedRequests(1_000, 10_000)).map((r) => r.id);
      expect(listed).toContain(closed.id);
      expect(listed).not.toContain(recent.id);
      expect(listed).not.toContain(open.id);
      const stored = defined(await store.updateRequest({ ...closed, forgottenAt: 900 }));
      expect(stored.forgottenAt).toBe(900);
      expect((await other.listClosedRequests(1_000, 10_000)).map((r) => r.id)).not.toContain(closed.id);
      expect(await store.deleteChallenges(closed.id)).toBe(1);
      expect(await store.getChallenge(c.id)).toBeUndefined();
    });

    it('grants a lease to one owner at a time until it lapses or is released', async () => {
      const lease = unique('lease');
      expect(await store.claimLease(lease, 'a', 1_000, 0)).toBe(true);
      expect(await other.claimLease(lease, 'b', 1_500, 500)).toBe(false);
      expect(await store.claimLease(lease, 'a', 2_000, 900)).toBe(true);
      expect(await other.claimLease(lease, 'b', 2_500, 1_500)).toBe(false);
      expect(await other.claimLease(lease, 'b', 3_000, 2_000)).toBe(true);
      expect(await store.claimLease(lease, 'a', 3_000, 2_100)).toBe(false);
      await store.releaseLease(lease, 'a');
      expect(await store.claimLease(lease, 'a', 3_500, 2_200)).toBe(false);
      await other.releaseLease(lease, 'b');
      expect(await store.claimLease(lease, 'a', 4_000, 2_300)).toBe(true);
      const both = await Promise.all([
        store.claimLease(unique('race'), 'a', 10, 0),
        other.claimLease(unique('race'), 'b', 10, 0),
      ]);
      expect(both).toEqual([true, true]);
      const contested = unique('contested');
      const race = await Promise.all([
        store.claimLease(contested, 'a', 10, 0),
        other.claimLease(contested, 'b', 10, 0),
      ]);
      expect(race.filter(Boolean)).toHaveLength(1);
    });

    it("keeps proven handles by key and request, finds their holders, and drops a request's", async () => {
      const key = unique('handle');
      const other_key = unique('handle');
      const claim = (account: string, requestId: string, field: Field, k = key) => ({
        key: k,
        account,
        requestId,
        field,
        at: 1_000,
      });
      expect(await store.handleHolders([key])).toEqual([]);
      await store.claimHandles([
        claim('acct-a', 'req-a1', 'email'),
        claim('acct-a', 'req-a1', 'github', other_key),
      ]);
      // Written again (a proof replayed after a restart): nothing changes.
      await other.claimHandles([claim('acct-a', 'req-a1', 'email')]);
      await other.claimHandles([claim('acct-b', 'req-b1', 'email')]);
      expect(await other.handleHolders([key])).toEqual(['acct-a', 'acct-b']);
      expect(await store.handleHolders([other_key, unique('none')])).toEqual(['acct-a']);
      expect(await store.handleHolders([])).toEqual([]);
      // The fields a request lost, then all it held.
      expect(await store.releaseHandles('req-a1', ['github'])).toBe(1);
      expect(await store.handleHolders([other_key])).toEqual([]);
      expect(await store.releaseHandles('req-a1', [])).toBe(0);
      expect(await other.releaseHandles('req-a1')).toBe(1);
      expect(await store.handleHolders([key])).toEqual(['acct-b']);
    });

    it('keeps one sanctions list per format, a new one in place of the old, and its info apart', async () => {
      const list = (listDate: string, uids: string[]): SanctionsList => ({
        format: 'ofac',
        source: 'sdn.xml',
        listDate,
        importedAt: 5_000,
        entries: uids.map((uid) => ({ uid, kind: 'Individual', names: [`Name ${uid}`, `Alias ${uid}`] })),
      });
      await store.replaceSanctionsList(list('2026-11-01', ['1', '2', '3']));
      await store.replaceSanctionsList({ ...list('2026-11-02', ['9']), format: 'eu', source: 'eu.xml' });
      const next = list('2026-11-28', ['4', '5']);
      await other.replaceSanctionsList(next);
      const kept = await store.sanctionsLists();
      expect(kept.find((l) => l.format === 'ofac')).toEqual(next);
      expect(kept.find((l) => l.format === 'eu')?.entries.map((e) => e.uid)).toEqual(['9']);
      expect(await other.sanctionsListInfo()).toEqual(
        expect.arrayContaining([
          { format: 'ofac', source: 'sdn.xml', listDate: '2026-11-28', importedAt: 5_000, entryCount: 2 },
          { format: 'eu', source: 'eu.xml', listDate: '2026-11-02', importedAt: 5_000, entryCount: 1 },
        ]),
      );
    });

    it('records each sanctions hit once, says which were new, and lists them by account', async () => {
      const account = unique('acct');
      const hit = (uid: string, at: number): SanctionsHit => {
        const key = {
          account,
          registrarIndex: 7,
          field: 'legal' as const,
          identityHash: `0x${'cd'.repeat(32)}`,
          list: { format: 'ofac' as const, source: 'sdn.xml', listDate: '2026-11-28' },
          uid,
        };
        return { ...key, id: hitId(key), name: `Name ${uid}`, score: 0.9, reason: 'request', at };
      };
      const first = hit('1', 1_000);
      expect(await store.recordSanctionsHits([first])).toEqual([first]);
      // Screened again (a restart, another instance): the same hit adds nothing; a new one does.
      const second = hit('2', 2_000);
      expect(await other.recordSanctionsHits([{ ...first, at: 3_000 }, second])).toEqual([second]);
      expect(await store.recordSanctionsHits([])).toEqual([]);
      expect(await other.listSanctionsHits(account)).toEqual([first, second]);
      expect((await store.listSanctionsHits()).filter((h) => h.account === account)).toEqual([first, second]);
      expect(await store.listSanctionsHits(unique('acct'))).toEqual([]);
    });

    it('keeps judged proofs per account and field, finds the due ones in order, counts and deletes them', async () => {
      // A registrar index of its own: the counts are of this test's proofs alone.
      const index = 1_000 + (counter % 1_000_000);
      const account = unique('judged');
      const other_account = unique('judged');
      const proof = (a: string, field: Field, nextCheckAt: number, extra: Partial<JudgedProof> = {}) => ({
        account: a,
        registrarIndex: index,
        field,
        subject: `${field}-subject`,
        identityHash: `0x${'cd'.repeat(32)}`,
        judgedAt: 1_000,
        nextCheckAt,
        ...extra,
      });
      await store.saveJudgedProof(proof(account, 'web', 5_000, { nonce: 'NONCE234' }));
      await store.saveJudgedProof(proof(account, 'github', 3_000, { serviceId: '42' }));
      await other.saveJudgedProof(proof(other_account, 'web', 4_000));
      // Another registrar's proof is none of this one's.
      await store.saveJudgedProof({ ...proof(account, 'web', 1_000), registrarIndex: index + 1 });
      expect(await store.countJudgedProofs(index)).toEqual({ proofs: 3, inGrace: 0 });
      expect((await other.dueJudgedProofs(index, 4_500, 10)).map((p) => [p.account, p.field])).toEqual([
        [account, 'github'],
        [other_account, 'web'],
      ]);
      expect(await store.dueJudgedProofs(index, 10_000, 1)).toEqual([
        proof(account, 'github', 3_000, { serviceId: '42' }),
      ]);
      expect(await store.dueJudgedProofs(index, 2_999, 10)).toEqual([]);
      // Saved again: replaced, not added; a grace is counted.
      const grace = { since: 6_000, until: 9_000, reason: 'the line is gone' };
      await other.saveJudgedProof(proof(account, 'web', 9_000, { nonce: 'NONCE234', grace }));
      expect(await store.countJudgedProofs(index)).toEqual({ proofs: 3, inGrace: 1 });
      expect(await store.listJudgedProofs(account, index)).toEqual([
        proof(account, 'github', 3_000, { serviceId: '42' }),
        proof(account, 'web', 9_000, { nonce: 'NONCE234', grace }),
      ]);
      expect(await other.deleteJudgedProofs(account, index)).toBe(2);
      expect(await store.listJudgedProofs(account, index)).toEqual([]);
      expect(await store.countJudgedProofs(index)).toEqual({ proofs: 1, inGrace: 0 });
      expect(await store.listJudgedProofs(account, index + 1)).toHaveLength(1);
      expect(await store.deleteJudgedProofs(account, index)).toBe(0);
    });

    it('has everything written still there after it is closed and opened again', async () => {
      const writer = await harness.connect();
      const r = request();
      const c = challenge(r.id);
      await writer.insertRequest(r);
      await writer.insertChallenge(c);
      await writer.setCheckpoint('reopen', 'yes');
      await writer.close();
      const reader = await harness.connect();
      try {
        expect(await reader.getRequest(r.id)).toEqual(r);
        expect(await reader.getChallenge(c.id)).toEqual(c);
        expect(await reader.getCheckpoint('reopen')).toBe('yes');
      } finally {
        await reader.close();
      }
    });
  });
}
