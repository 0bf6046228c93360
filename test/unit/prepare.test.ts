/**
 * Proving before paying, decided by the registrar: a prepared request is proven like a request and
 * never judged; the chain's request takes it over (judged at once, or only exact values kept after
 * an edit); strangers are limited; it expires. Real SQLite store (in memory), scripted chain and judge.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { ChainIdentity, RegistrarEntry } from '../../src/chain/identity.js';
import type { ChallengeMessage } from '../../src/channels/channel.js';
import { Registrar } from '../../src/registrar/registrar.js';
import { ChallengeTokens } from '../../src/registrar/tokens.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  ACCOUNT,
  CLIENT,
  INDEX,
  identity,
  RecordingChannel,
  ScriptedJudge,
  STRANGER,
} from '../support/scripted.js';

const HOUR = 3_600_000;
const KEPT = 24 * HOUR;
const INCLUDED = { kind: 'included', blockHash: '0x03', extrinsicHash: '0x04' } as const;

/** The identity with no judgement of ours yet: set, not requested. */
function unrequested(email: string, hash: string): ChainIdentity {
  return { ...identity(email, hash), judgements: [] };
}

describe('proving before paying', () => {
  let store: SqliteStore;
  let chainIdentity: ChainIdentity;
  let channel: RecordingChannel;
  let judge: ScriptedJudge;
  let clock: number;
  const entry: RegistrarEntry = { account: 'registrar', fee: 1n, mask: 17n, fields: ['display', 'email'] };

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    channel = new RecordingChannel();
    judge = new ScriptedJudge([INCLUDED]);
    chainIdentity = unrequested('a@example.org', '0xaaaa');
    clock = Date.UTC(2026, 0, 1);
  });
  afterEach(async () => {
    await store.close();
  });

  function registrar(
    limits = { perAccountPerDay: 1, perClientPerDay: 5 },
    read: () => Promise<ChainIdentity> = async () => chainIdentity,
  ): Registrar {
    return new Registrar({
      now: () => clock,
      store,
      chain: { identity: read, registrar: async () => entry, accountId: (a) => a },
      judge,
      channels: [channel],
      tokens: new ChallengeTokens('unit-test-secret-0123456789abcdef0123', INDEX),
      registrarIndex: INDEX,
      publicUrl: 'https://registrar.example',
      challengeTtlMs: 60 * 60_000,
      log: pino({ level: 'silent' }),
      preparing: { keptMs: KEPT, limits },
    });
  }
  const tokenOf = (message: ChallengeMessage | undefined) => message?.link.split('/confirm/')[1] ?? '';
  const requested = { kind: 'requested' as const, account: ACCOUNT, blockHash: '0x01', blockNumber: 1 };
  /** The person prepares a request and proves the email with the link it sent. */
  const proveBeforeRequest = async (r: Registrar) => {
    expect(await r.prepare(ACCOUNT, CLIENT)).toEqual({ ok: true, kind: 'prepared' });
    await r.outbox.flush();
    expect((await r.confirm(tokenOf(channel.sent[0]))).ok).toBe(true);
  };
  /** The person requests on chain: the identity now holds FeePaid for us. */
  const request = (r: Registrar, email = 'a@example.org', hash = '0xaaaa') => {
    chainIdentity = identity(email, hash);
    return r.onEvent(requested);
  };

  it('proves the email before the request, never judges it, and judges at once with no new message once the same identity is requested', async () => {
    const r = registrar();
    expect(await r.prepare(ACCOUNT, CLIENT)).toEqual({ ok: true, kind: 'prepared' });
    await r.outbox.flush();
    expect(channel.sent.map((m) => m.subject)).toEqual(['a@example.org']);
    const prepared = await r.status(ACCOUNT);
    expect(prepared).toMatchObject({ status: 'prepared', identityHash: '0xaaaa', judgeable: true });
    expect(prepared?.fields.email?.sent).toEqual({ to: 'a***@e***.org', at: clock });

    expect((await r.confirm(tokenOf(channel.sent[0]))).ok).toBe(true);
    await r.judgeReady();
    await r.reconcile(new Map(), 'all');
    await r.drain();
    // Every field proven, nothing paid: no judgement, and the request waits for the chain's.
    expect(judge.calls).toEqual([]);
    expect((await r.status(ACCOUNT))?.status).toBe('prepared');
    expect((await r.status(ACCOUNT))?.blockers).toEqual([]);

    clock += HOUR;
    await request(r);
    await r.drain();
    await r.outbox.flush();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xaaaa' }]);
    expect(channel.sent).toHaveLength(1);
    const open = await store.findOpenRequest(ACCOUNT, INDEX);
    expect(open).toMatchObject({ status: 'judging', createdAt: clock, preparedAt: clock - HOUR });
    expect(open?.submission?.identityHash).toBe('0xaaaa');
  });

  it('takes over a prepared request found by a storage scan as well as by the event', async () => {
    const r = registrar();
    await proveBeforeRequest(r);
    chainIdentity = identity('a@example.org', '0xaaaa');
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), [ACCOUNT]);
    await r.drain();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xaaaa' }]);
  });

  it('takes over a request prepared in the very moment the request on chain is being opened', async () => {
    let racing = true;
    const r: Registrar = registrar(undefined, async () => {
      if (racing) {
        // The start page's form lands between the event's look in the store and its insert.
        racing = false;
        expect(await r.prepare(ACCOUNT, CLIENT)).toEqual({ ok: true, kind: 'prepared' });
        chainIdentity = identity('a@example.org', '0xaaaa');
      }
      return chainIdentity;
    });
    await r.onEvent(requested);
    await r.outbox.flush();
    expect(await r.status(ACCOUNT)).toMatchObject({ status: 'open', identityHash: '0xaaaa' });
    expect(channel.sent.map((m) => m.subject)).toEqual(['a@example.org']);
    expect((await r.confirm(tokenOf(channel.sent[0]))).ok).toBe(true);
    await r.drain();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xaaaa' }]);
  });

  it('keeps after an edit only the proofs of exactly the values now on chain', async () => {
    const r = registrar();
    await proveBeforeRequest(r);
    // The same mailbox by its canonical subject, but not the value proven: proven again (after
    // the cooldown between two messages to one mailbox).
    clock += HOUR;
    await request(r, 'a@EXAMPLE.org', '0xbbbb');
    await r.drain();
    await r.outbox.flush();
    expect(judge.calls).toEqual([]);
    const status = await r.status(ACCOUNT);
    expect(status).toMatchObject({ status: 'open', identityHash: '0xbbbb' });
    expect(status?.fields.email?.status).toBe('awaiting');
    // The display name did not change: it stays proven (checked automatically, as before).
    expect(status?.fields.display?.status).toBe('confirmed');
    expect(channel.sent.map((m) => m.subject)).toEqual(['a@example.org', 'a@example.org']);
    expect(await r.checkLink(tokenOf(channel.sent[0]))).toMatchObject({ ok: false });

    expect((await r.confirm(tokenOf(channel.sent[1]))).ok).toBe(true);
    await r.drain();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xbbbb' }]);
  });

  it('carries a proven value that is exactly the one on chain into an edited identity', async () => {
    const r = registrar();
    await proveBeforeRequest(r);
    // Another hash (another field edited, here only the hash stands for it), the same email value.
    await request(r, 'a@example.org', '0xcccc');
    await r.drain();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xcccc' }]);
    expect(channel.sent).toHaveLength(1);
  });

  it('re-plans a prepared request edited before any request, still prepared and unjudged', async () => {
    const r = registrar();
    await proveBeforeRequest(r);
    chainIdentity = unrequested('b@example.org', '0xdddd');
    await r.onEvent({ ...requested, kind: 'identity-set' });
    await r.drain();
    await r.outbox.flush();
    expect(await r.status(ACCOUNT)).toMatchObject({ status: 'prepared', identityHash: '0xdddd' });
    expect(channel.sent.map((m) => m.subject)).toEqual(['a@example.org', 'b@example.org']);
    expect(judge.calls).toEqual([]);
  });

  it('refuses what it must not prepare: no identity, one it judged, and says so; one pending is opened as the request', async () => {
    const r = registrar();
    chainIdentity = undefined as unknown as ChainIdentity;
    expect(await r.prepare(ACCOUNT, CLIENT)).toMatchObject({ ok: false, code: 404 });
    chainIdentity = identity('a@example.org', '0xaaaa', 'Reasonable');
    expect(await r.prepare(ACCOUNT, STRANGER)).toMatchObject({ ok: false, code: 409 });
    chainIdentity = identity('a@example.org', '0xaaaa');
    expect(await r.prepare(ACCOUNT, '192.0.2.1')).toEqual({ ok: true, kind: 'requested' });
    expect((await r.status(ACCOUNT))?.status).toBe('open');
    expect(channel.sent).toEqual([]);
  });

  it('limits strangers: once a day per account, a few accounts a day per client, and asking again sends nothing', async () => {
    const r = registrar({ perAccountPerDay: 1, perClientPerDay: 3 });
    expect(await r.prepare(ACCOUNT, STRANGER)).toMatchObject({ ok: true, kind: 'prepared' });
    await r.outbox.flush();
    // Asked again while it is prepared: nothing new is made or sent.
    expect(await r.prepare(ACCOUNT, STRANGER)).toEqual({ ok: true, kind: 'exists' });
    await r.outbox.flush();
    expect(channel.sent).toHaveLength(1);
    // Deleted (it expired), it cannot be made again the same day, from any client.
    clock += KEPT / 4;
    await store.deletePreparedRequest((await store.findOpenRequest(ACCOUNT, INDEX))?.id ?? '', 0);
    expect(await r.prepare(ACCOUNT, CLIENT)).toMatchObject({ ok: false, code: 429 });
    // One client, many accounts: the third try of the day is its last.
    for (const account of ['acct-2', 'acct-3']) {
      expect(await r.prepare(account, STRANGER)).toMatchObject({ ok: true });
    }
    expect(await r.prepare('acct-4', STRANGER)).toMatchObject({ ok: false, code: 429 });
    // Its IPv6 neighbours in the same /64 are the same client.
    for (const account of ['acct-5', 'acct-6', 'acct-7']) await r.prepare(account, '2001:db8::1');
    expect(await r.prepare('acct-8', '2001:db8::2')).toMatchObject({ ok: false, code: 429 });
    // A day later both may again.
    clock += 25 * HOUR;
    expect(await r.prepare(ACCOUNT, CLIENT)).toMatchObject({ ok: true, kind: 'prepared' });
    expect(await r.prepare('acct-4', STRANGER)).toMatchObject({ ok: true, kind: 'prepared' });
  });

  it('is off with no prepares per account', async () => {
    const r = registrar({ perAccountPerDay: 0, perClientPerDay: 5 });
    expect(await r.prepare(ACCOUNT, CLIENT)).toMatchObject({ ok: false, code: 403 });
    expect(await store.findOpenRequest(ACCOUNT, INDEX)).toBeUndefined();
  });

  it('deletes a prepared request never requested, with its challenges, once its time is up', async () => {
    const r = registrar();
    await r.prepare(ACCOUNT, CLIENT);
    await r.outbox.flush();
    const id = (await store.findOpenRequest(ACCOUNT, INDEX))?.id ?? '';
    clock += KEPT - 1;
    await r.reconcile(new Map(), 'all');
    expect(await store.getRequest(id)).toBeDefined();
    clock += 1;
    await r.reconcile(new Map(), 'all');
    expect(await store.getRequest(id)).toBeUndefined();
    expect(await store.listChallenges(id)).toEqual([]);
    expect((await r.status(ACCOUNT))?.status).toBe('none');
    expect(await r.checkLink(tokenOf(channel.sent[0]))).toMatchObject({ ok: false });
  });

  it('does not expire one the chain requested in time, even if the scan sees it late', async () => {
    const r = registrar();
    await r.prepare(ACCOUNT, CLIENT);
    clock += KEPT + HOUR;
    chainIdentity = identity('a@example.org', '0xaaaa');
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    expect((await r.status(ACCOUNT))?.status).toBe('open');
  });
});
