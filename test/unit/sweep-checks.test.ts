/**
 * The sweep over the real SQLite store (in memory), with the chain, the judge and the channel's
 * answers scripted: what a judgement keeps, a grace that ends in OutOfDate pinned to the judged
 * identity and logged with its reason, a restored proof, an unreachable service, a judgement that
 * no longer stands, and checks spread over the ticks.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { ChainIdentity } from '../../src/chain/identity.js';
import type { GivenJudgement, Judge, JudgeOutcome } from '../../src/chain/judge.js';
import type { Channel, RecheckedProof } from '../../src/channels/channel.js';
import type { Field } from '../../src/domain/fields.js';
import type { GraceNotice } from '../../src/domain/grace-notice.js';
import type { JudgementRequest } from '../../src/domain/request.js';
import type { CheckAnswer } from '../../src/domain/sweep.js';
import { Judging } from '../../src/registrar/judging.js';
import { NO_METRICS } from '../../src/registrar/metrics.js';
import { Sweep, type SweepFinding } from '../../src/registrar/sweep.js';
import { ChallengeTokens } from '../../src/registrar/tokens.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const ACCOUNT = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';
const INDEX = 1;
const HASH = `0x${'aa'.repeat(32)}`;
const PERIOD = 100_000;
const GRACE = 50_000;

class ScriptedSite implements Channel {
  readonly means = ['published'] as const;
  readonly checked: RecheckedProof[] = [];
  /** When each check began (performance.now()). */
  readonly at: number[] = [];
  answer: CheckAnswer = { kind: 'holds' };
  /** A website by default; any field a channel checks again. */
  constructor(readonly field: Field = 'web') {}
  async send(): Promise<void> {}
  async recheck(proof: RecheckedProof): Promise<CheckAnswer> {
    this.checked.push(proof);
    this.at.push(performance.now());
    return this.answer;
  }
}

/** A channel that can tell the person of a grace (email, Matrix): what it was asked to send. */
class ScriptedNotices implements Channel {
  readonly means = ['message'] as const;
  readonly notices: GraceNotice[] = [];
  failing = false;
  constructor(readonly field: 'email' | 'matrix') {}
  async send(): Promise<void> {}
  async notify(notice: GraceNotice): Promise<void> {
    if (this.failing) throw new Error('email could not be sent (SMTP 421)');
    this.notices.push(notice);
  }
}

class ScriptedJudge implements Judge {
  readonly calls: { target: string; hash: string; judgement?: GivenJudgement }[] = [];
  outcome: JudgeOutcome = { kind: 'included', blockHash: '0xb1', extrinsicHash: '0xe1' };
  async giveJudgement(target: string, hash: string, judgement?: GivenJudgement): Promise<JudgeOutcome> {
    this.calls.push({ target, hash, ...(judgement ? { judgement } : {}) });
    return this.outcome;
  }
}

const judgedIdentity = (hash = HASH, judgement = 'Reasonable'): ChainIdentity => ({
  info: { layout: 'people', values: {} },
  snapshot: { infoHex: '0x00', hash },
  judgements: [{ registrarIndex: INDEX, judgement }],
});

const request = (account = ACCOUNT): JudgementRequest => ({
  id: `req-${account}`,
  account,
  registrarIndex: INDEX,
  status: 'judged',
  snapshot: { infoHex: '0x00', hash: HASH },
  fields: {
    display: { status: 'confirmed', value: 'Alice', subject: 'Alice', confirmedAt: 1 },
    email: { status: 'confirmed', value: 'a@example.org', subject: 'a@example.org', confirmedAt: 1 },
    web: { status: 'confirmed', value: 'example.org', subject: 'example.org', confirmedAt: 1 },
  },
  createdAt: 1,
  updatedAt: 1,
  version: 1,
});

describe('the sweep', () => {
  let store: SqliteStore;
  let site: ScriptedSite;
  let mail: ScriptedNotices;
  let matrix: ScriptedNotices;
  let judge: ScriptedJudge;
  let chain: ChainIdentity | Error | undefined;
  let now: number;
  const tokens = new ChallengeTokens('unit-test-secret-0123456789abcdef0123', INDEX);

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    site = new ScriptedSite();
    mail = new ScriptedNotices('email');
    matrix = new ScriptedNotices('matrix');
    judge = new ScriptedJudge();
    chain = judgedIdentity();
    now = 1_000_000;
  });
  afterEach(async () => {
    await store.close();
  });

  function sweep(extra = new Map<Field, Channel>()): Sweep {
    const log = pino({ level: 'silent' });
    const judging = new Judging({
      store,
      judge,
      registrarIndex: INDEX,
      log,
      now: () => now,
      chainState: async () => 'gone',
      reverify: async () => undefined,
      metrics: NO_METRICS,
    });
    return new Sweep({
      store,
      chain: {
        identity: async () => {
          if (chain instanceof Error) throw chain;
          return chain;
        },
      },
      channels: new Map<Field, Channel>([['web', site], ['email', mail], ['matrix', matrix], ...extra]),
      registrarIndex: INDEX,
      times: { periodMs: PERIOD, graceMs: GRACE },
      judging,
      tokens,
      metrics: NO_METRICS,
      log,
      now: () => now,
      publicUrl: 'https://registrar.example',
      operator: { index: INDEX, name: 'Acme Identity' },
      sendTimeoutMs: 5_000,
    });
  }

  /** A judged request whose web field was proven by answering challenge `chl-web`. */
  async function judged(s: Sweep, account = ACCOUNT): Promise<void> {
    await store.insertChallenge({
      id: `chl-web-${account}`,
      requestId: `req-${account}`,
      account,
      field: 'web',
      snapshotHash: HASH,
      subject: 'example.org',
      createdAt: 1,
      expiresAt: 2,
      usedAt: 1,
    });
    await s.judged(request(account), 'Reasonable');
  }

  /** A sweep with one judged proof, found gone at its check a period later: what that pass found. */
  async function goneAtFirstCheck(): Promise<{ s: Sweep; found: SweepFinding[] }> {
    const s = sweep();
    await judged(s);
    now += PERIOD;
    site.answer = { kind: 'gone', reason: 'the file is not there' };
    return { s, found: await s.pass() };
  }

  /** A sweep whose one judged proof is in its grace. */
  async function inGrace(): Promise<Sweep> {
    return (await goneAtFirstCheck()).s;
  }

  it('keeps, of a judgement, the proofs a channel can check again, with the published line', async () => {
    const s = sweep();
    await judged(s);
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toEqual([
      {
        account: ACCOUNT,
        registrarIndex: INDEX,
        field: 'web',
        subject: 'example.org',
        nonce: tokens.nonceFor(`chl-web-${ACCOUNT}`),
        identityHash: HASH,
        judgedAt: now,
        nextCheckAt: now + PERIOD,
      },
    ]);
    // Nothing is due before its period; then it is checked with what was kept.
    expect(await s.pass()).toEqual([]);
    now += PERIOD;
    expect(await s.pass()).toEqual([{ account: ACCOUNT, field: 'web', outcome: 'holds' }]);
    expect(site.checked).toEqual([
      {
        account: ACCOUNT,
        field: 'web',
        subject: 'example.org',
        nonce: tokens.nonceFor(`chl-web-${ACCOUNT}`),
      },
    ]);
    // A judgement not earned by proofs keeps nothing.
    await s.judged(request(), 'LowQuality');
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toEqual([]);
  });

  it('keeps a PGP fingerprint by the fingerprint itself, where the PGP channel checks keys again', async () => {
    const s = sweep(new Map<Field, Channel>([['pgpFingerprint', new ScriptedSite('pgpFingerprint')]]));
    const fingerprint = 'ab'.repeat(20);
    await s.judged(
      {
        ...request(),
        fields: {
          pgpFingerprint: { status: 'confirmed', value: fingerprint, subject: fingerprint, confirmedAt: 1 },
        },
      },
      'Reasonable',
    );
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toMatchObject([
      { field: 'pgpFingerprint', subject: fingerprint, identityHash: HASH },
    ]);
  });

  it('keeps a proof by a post with its address and line, and an account signed in with its ID only', async () => {
    const github = new ScriptedSite('github');
    const twitter = new ScriptedSite('twitter');
    const s = sweep(
      new Map<Field, Channel>([
        ['github', github],
        ['twitter', twitter],
      ]),
    );
    const gist = 'https://gist.github.com/0123456789abcdef0123';
    await store.insertChallenge({
      id: 'chl-github',
      requestId: `req-${ACCOUNT}`,
      account: ACCOUNT,
      field: 'github',
      snapshotHash: HASH,
      subject: 'alice-gh',
      createdAt: 1,
      expiresAt: 2,
      usedAt: 1,
    });
    await s.judged(
      {
        ...request(),
        fields: {
          github: {
            status: 'confirmed',
            value: 'Alice-GH',
            subject: 'alice-gh',
            confirmedAt: 1,
            serviceId: '501',
            postUrl: gist,
          },
          twitter: {
            status: 'confirmed',
            value: '@alice',
            subject: 'alice',
            confirmedAt: 1,
            serviceId: '42',
          },
        },
      },
      'Reasonable',
    );
    now += PERIOD;
    await s.pass();
    expect(github.checked).toEqual([
      {
        account: ACCOUNT,
        field: 'github',
        subject: 'alice-gh',
        serviceId: '501',
        nonce: tokens.nonceFor('chl-github'),
        postUrl: gist,
      },
    ]);
    // A sign-in publishes nothing: no line, no address; the account is found by its ID.
    expect(twitter.checked).toEqual([
      { account: ACCOUNT, field: 'twitter', subject: 'alice', serviceId: '42' },
    ]);
  });

  it('tells the person of a grace once, through the email proven for the judgement, and writes to nothing unproven', async () => {
    await store.insertRequest(request());
    const { s } = await goneAtFirstCheck();
    // The Matrix ID is not in the judged identity: nothing goes there.
    expect(matrix.notices).toEqual([]);
    expect(mail.notices).toEqual([
      {
        account: ACCOUNT,
        subject: 'a@example.org',
        field: 'web',
        reason: 'the file is not there',
        until: now + GRACE,
        statusUrl: `https://registrar.example/status/${ACCOUNT}`,
        operator: { index: INDEX, name: 'Acme Identity' },
      },
    ]);
    // Still gone at the next check within the grace: not told again.
    now += GRACE / 2;
    await s.pass();
    now += GRACE / 2;
    await s.pass();
    expect(mail.notices).toHaveLength(1);
  });

  it('tells the gone account itself where its channel writes to the ID proven (a Discord bot), and the email', async () => {
    /** A Discord field whose bot can write to a member by ID. */
    class ScriptedBot extends ScriptedSite {
      readonly notices: GraceNotice[] = [];
      async notify(notice: GraceNotice): Promise<void> {
        this.notices.push(notice);
      }
    }
    const bot = new ScriptedBot('discord');
    const s = sweep(new Map<Field, Channel>([['discord', bot]]));
    const judgedDiscord: JudgementRequest = {
      ...request(),
      fields: {
        ...request().fields,
        discord: {
          status: 'confirmed',
          value: 'alice.dc',
          subject: 'alice.dc',
          confirmedAt: 1,
          serviceId: '3007',
        },
      },
    };
    await store.insertRequest(judgedDiscord);
    await s.judged(judgedDiscord, 'Reasonable');
    now += PERIOD;
    bot.answer = {
      kind: 'gone',
      reason: 'the Discord account that was proven no longer has the handle alice.dc',
    };
    await s.pass();
    const told = {
      account: ACCOUNT,
      field: 'discord',
      reason: 'the Discord account that was proven no longer has the handle alice.dc',
      until: now + GRACE,
      statusUrl: `https://registrar.example/status/${ACCOUNT}`,
      operator: { index: INDEX, name: 'Acme Identity' },
    };
    expect(bot.notices).toEqual([{ ...told, subject: 'alice.dc', serviceId: '3007' }]);
    expect(mail.notices).toEqual([{ ...told, subject: 'a@example.org' }]);
  });

  it('gives the grace all the same when the notice cannot be sent, or the judged values are no longer kept', async () => {
    mail.failing = true;
    await store.insertRequest(request());
    const [failed] = (await goneAtFirstCheck()).found;
    expect(failed?.outcome).toBe('grace-started');
    // The request was deleted with its retention: nobody to tell, the grace stands.
    mail.failing = false;
    await store.close();
    store = new SqliteStore(':memory:');
    const [untold] = (await goneAtFirstCheck()).found;
    expect(untold?.outcome).toBe('grace-started');
    expect(mail.notices).toEqual([]);
  });

  it('gives a gone proof a grace, then OutOfDate pinned to the judged identity, logged with the reason', async () => {
    const { s, found: first } = await goneAtFirstCheck();
    expect(first).toEqual([
      {
        account: ACCOUNT,
        field: 'web',
        outcome: 'grace-started',
        reason: 'the file is not there',
        graceUntil: now + GRACE,
      },
    ]);
    expect(judge.calls).toEqual([]);
    // Not due again before the grace ends; then still gone: OutOfDate.
    now += GRACE - 1;
    expect(await s.pass()).toEqual([]);
    now += 1;
    const [found] = await s.pass();
    expect(found).toMatchObject({
      outcome: 'out-of-date',
      reason: 'the web proof is gone: the file is not there',
    });
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: HASH, judgement: 'OutOfDate' }]);
    expect(await store.listJudgements(ACCOUNT)).toEqual([
      expect.objectContaining({
        judgement: 'OutOfDate',
        identityHash: HASH,
        by: 'sweep',
        reason: 'the web proof is gone: the file is not there',
      }),
    ]);
    // Its proofs go with the judgement.
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toEqual([]);
  });

  it('cancels the grace when the proof is restored before its end', async () => {
    const s = await inGrace();
    site.answer = { kind: 'holds' };
    now += GRACE;
    expect(await s.pass()).toEqual([{ account: ACCOUNT, field: 'web', outcome: 'restored' }]);
    expect(judge.calls).toEqual([]);
    const [kept] = await store.listJudgedProofs(ACCOUNT, INDEX);
    expect(kept?.grace).toBeUndefined();
    expect(kept?.nextCheckAt).toBe(now + PERIOD);
  });

  it('never gives OutOfDate while the service or the chain cannot be asked', async () => {
    const s = await inGrace();
    now += GRACE;
    site.answer = { kind: 'unknown', reason: 'the site did not answer within 10 s' };
    for (let i = 0; i < 5; i++) {
      const [found] = await s.pass();
      expect(found?.outcome).toBe('unknown');
      now += PERIOD;
    }
    site.answer = { kind: 'gone', reason: 'the file is not there' };
    chain = new Error('no connection');
    expect((await s.pass())[0]?.outcome).toBe('unknown');
    expect(judge.calls).toEqual([]);
    expect((await store.listJudgedProofs(ACCOUNT, INDEX))[0]?.grace).toBeDefined();
  });

  it('keeps the grace when the chain refuses the OutOfDate, and tries again', async () => {
    const s = await inGrace();
    now += GRACE;
    judge.outcome = { kind: 'failed', error: 'no connection' };
    expect((await s.pass())[0]?.outcome).toBe('out-of-date-failed');
    expect(await store.listJudgements(ACCOUNT)).toEqual([]);
    judge.outcome = { kind: 'included', blockHash: '0xb1', extrinsicHash: '0xe1' };
    now += PERIOD;
    expect((await s.pass())[0]?.outcome).toBe('out-of-date');
    expect(judge.calls).toHaveLength(2);
  });

  it('drops the proofs of a judgement that no longer stands, without judging', async () => {
    // The person edited the identity: our judgement is gone with the old hash.
    chain = judgedIdentity(`0x${'bb'.repeat(32)}`, 'Reasonable');
    const { s, found } = await goneAtFirstCheck();
    expect(found).toEqual([
      {
        account: ACCOUNT,
        field: 'web',
        outcome: 'dropped',
        reason: 'the judgement no longer stands on chain',
      },
    ]);
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toEqual([]);
    expect(site.checked).toEqual([]);
    // An event for the account does the same at once; one that leaves the judgement standing does not.
    await s.judged(request(), 'Reasonable');
    chain = judgedIdentity();
    await s.changed(ACCOUNT);
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toHaveLength(1);
    chain = judgedIdentity(HASH, 'FeePaid');
    await s.changed(ACCOUNT);
    expect(await store.listJudgedProofs(ACCOUNT, INDEX)).toEqual([]);
    expect(judge.calls).toEqual([]);
  });

  it('a tick checks only its even share of what is due, spread over it, never a burst across ticks', async () => {
    const s = sweep();
    for (let i = 0; i < 20; i++) await judged(s, `account-${i}`);
    chain = judgedIdentity();
    now += PERIOD;
    // 20 proofs over a period of 100 s. A 0.1 s tick takes 1; a 4 s tick 1 too, at most 1 a
    // second, and not within a second of the last tick's; a 10 s tick takes 2, at least 2.5 s apart.
    expect(await s.tick(100)).toHaveLength(1);
    expect(await s.tick(4_000)).toHaveLength(1);
    expect(await s.tick(10_000)).toHaveLength(2);
    expect(site.checked).toHaveLength(4);
    const gaps = site.at.slice(1).map((t, i) => t - (site.at[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(999);
    expect(gaps[2]).toBeGreaterThanOrEqual(2_499);
  }, 30_000);
});
