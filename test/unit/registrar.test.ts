/**
 * The orchestrator's decisions that the chain rarely lets a test provoke: a judgement refused
 * because the identity changed under it, and a submission that fails. The store is the real
 * SQLite store (in memory); the chain and the judge are scripted.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { encodeAddress } from '@polkadot/util-crypto';
import { pino } from 'pino';
import type { ChainIdentity, RegistrarEntry } from '../../src/chain/identity.js';
import type { Judge, JudgeOutcome } from '../../src/chain/judge.js';
import type { ChallengeMessage, Channel, Delivery } from '../../src/channels/channel.js';
import { eventually } from '../../src/dev/waiting.js';
import type { ChannelMeans } from '../../src/domain/answers.js';
import { DEFAULT_LIMITS } from '../../src/registrar/outbox.js';
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

describe('the registrar', () => {
  let store: SqliteStore;
  let chainIdentity: ChainIdentity;
  let outbox: RecordingChannel;
  const entry: RegistrarEntry = { account: 'registrar', fee: 1n, mask: 17n, fields: ['display', 'email'] };

  beforeEach(() => {
    store = new SqliteStore(':memory:');
    outbox = new RecordingChannel();
    chainIdentity = identity('a@example.org', '0xaaaa');
  });
  afterEach(async () => {
    await store.close();
  });

  function registrar(
    judge: Judge,
    now: () => number = Date.now,
    extra: Partial<ConstructorParameters<typeof Registrar>[0]> = {},
  ): Registrar {
    return new Registrar({
      now,
      store,
      chain: { identity: async () => chainIdentity, registrar: async () => entry, accountId: (a) => a },
      judge,
      channels: [outbox],
      tokens: new ChallengeTokens('unit-test-secret-0123456789abcdef0123', INDEX),
      registrarIndex: INDEX,
      publicUrl: 'https://registrar.example',
      challengeTtlMs: 60_000,
      log: pino({ level: 'silent' }),
      ...extra,
    });
  }

  /** The identity with its email and a Matrix ID, and a registrar asking for both, by `channels`. */
  function withMatrix(
    channels: Channel[],
    extra: Partial<ConstructorParameters<typeof Registrar>[0]> = {},
  ): { identity: ChainIdentity; r: Registrar } {
    const twoFields: ChainIdentity = {
      ...chainIdentity,
      info: {
        layout: 'people',
        values: {
          ...chainIdentity.info.values,
          matrix: { kind: 'raw', hex: '0x00', text: '@alice:matrix.org' },
        },
      },
    };
    const r = registrar(new ScriptedJudge([]), Date.now, {
      channels,
      chain: {
        identity: async () => twoFields,
        registrar: async () => ({ ...entry, fields: ['display', 'email', 'matrix'] }),
        accountId: (a) => a,
      },
      ...extra,
    });
    return { identity: twoFields, r };
  }

  const tokenOf = (message: ChallengeMessage | undefined) => message?.link.split('/confirm/')[1] ?? '';
  const event = (kind: 'requested' | 'identity-set' | 'judgement-given') => ({
    kind,
    account: ACCOUNT,
    blockHash: '0x01',
    blockNumber: 1,
  });

  it('re-verifies instead of resubmitting when the chain says the identity changed', async () => {
    // The person edits right between the registrar's last look and the judgement's inclusion.
    const judge = new ScriptedJudge([{ kind: 'different-identity', blockHash: '0x02' }]);
    const r = registrar(judge);
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    const original = tokenOf(outbox.sent[0]);
    expect((await r.checkLink(original)).ok).toBe(true);
    const edited = identity('b@example.org', '0xbbbb');
    judge.giveJudgement = async (target, hash) => {
      judge.calls.push({ target, hash });
      chainIdentity = edited;
      return { kind: 'different-identity', blockHash: '0x02' };
    };

    expect((await r.confirm(original)).ok).toBe(true);
    await r.drain();
    await r.outbox.flush();

    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xaaaa' }]);
    const status = await r.status(ACCOUNT);
    expect(status?.status).toBe('open');
    expect(status?.fields.email).toEqual({
      status: 'awaiting',
      label: 'email address',
      value: 'b@example.org',
      // Where the last message went, masked: the page is anyone's to open.
      sent: { to: 'b***@e***.org', at: expect.any(Number) },
    });
    expect(outbox.sent.map((m) => m.subject)).toEqual(['a@example.org', 'b@example.org']);
    expect(await r.checkLink(original)).toMatchObject({ ok: false });
  });

  it('holds a proven handle for the account, and lets it go when an edit unproves it or the request is cancelled', async () => {
    const r = registrar(new ScriptedJudge([]), Date.now, {
      judges: () => false,
      handles: { rule: 'refuse', parentOf: async () => undefined },
    });
    const tokens = new ChallengeTokens('unit-test-secret-0123456789abcdef0123', INDEX);
    const holders = (email: string) => store.handleHolders([tokens.handleKey(`email:${email}`)]);
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect((await r.confirm(tokenOf(outbox.sent[0]))).ok).toBe(true);
    expect(await holders('a@example.org')).toEqual([ACCOUNT]);

    chainIdentity = identity('b@example.org', '0xbbbb');
    await r.onEvent(event('identity-set'));
    expect(await holders('a@example.org')).toEqual([]);
    await r.outbox.flush();
    expect((await r.confirm(tokenOf(outbox.sent[1]))).ok).toBe(true);
    expect(await holders('b@example.org')).toEqual([ACCOUNT]);

    await r.onEvent({ ...event('requested'), kind: 'unrequested' });
    expect(await holders('b@example.org')).toEqual([]);
  });

  it('does not judge again what an earlier attempt already judged', async () => {
    const judge = new ScriptedJudge([
      { kind: 'failed', error: 'connection lost while waiting for inclusion' },
    ]);
    const r = registrar(judge);
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect((await r.confirm(tokenOf(outbox.sent[0]))).ok).toBe(true);
    await r.drain();
    expect(judge.calls).toHaveLength(1);

    // The lost attempt was included after all: the chain shows the judgement, so a restart's
    // reconciliation closes the request without a second submission.
    chainIdentity = identity('a@example.org', '0xaaaa', 'Reasonable');
    await r.reconcile(new Map(), 'all');
    await r.outbox.flush();
    expect(judge.calls).toHaveLength(1);
    expect((await r.status(ACCOUNT))?.status).toBe('judged');
  });

  it('keeps trying an undelivered challenge with backoff instead of dropping it', async () => {
    let now = 1_000_000;
    const failing = outbox;
    failing.send = async () => {
      throw new Error('email could not be sent (SMTP 421)');
    };
    const r = registrar(new ScriptedJudge([]), () => now);
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect(failing.sent).toEqual([]);
    const [queued] = await store.listChallenges((await store.findOpenRequest(ACCOUNT, INDEX))?.id ?? '');
    expect(queued).toMatchObject({ deliveryAttempts: 1, nextDeliveryAt: now + 30_000 });
    expect(queued?.voidedAt).toBeUndefined();
    expect((await r.status(ACCOUNT))?.fields.email?.nextMessageAt).toBe(now + 30_000);

    // The mail server is back; the retry is not due yet, then it is, and the same challenge goes.
    failing.send = RecordingChannel.prototype.send;
    now += 10_000;
    await r.outbox.flush();
    expect(failing.sent).toEqual([]);
    now += 20_000;
    await r.outbox.flush();
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    await r.outbox.flush();
    expect(failing.sent).toHaveLength(1);
    expect((await r.checkLink(tokenOf(failing.sent[0]))).ok).toBe(true);
    expect(await r.answerCodeOf(ACCOUNT, 'email', failing.sent[0]?.code ?? '', CLIENT)).toMatchObject({
      ok: true,
    });
  });

  it('tries every undelivered message again at start, whatever its backoff', async () => {
    const now = 1_000_000;
    outbox.send = async () => {
      throw new Error('email could not be sent (SMTP 421)');
    };
    const first = registrar(new ScriptedJudge([]), () => now);
    await first.onEvent(event('requested'));
    await first.outbox.flush();
    await first.drain();
    expect(outbox.sent).toEqual([]);
    // The operator fixed the mail settings and restarted: no waiting out the 30 s backoff.
    outbox.send = RecordingChannel.prototype.send;
    const second = registrar(new ScriptedJudge([]), () => now);
    second.outbox.start();
    await second.outbox.idle();
    expect(outbox.sent).toHaveLength(1);
    await second.drain();
  });

  it('replaces an expired link, but not before the cooldown, and caps messages per target a day', async () => {
    let now = 1_000_000;
    const r = registrar(new ScriptedJudge([]), () => now);
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(1);
    const expire = async () => {
      now += 61_000;
      await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
      await r.outbox.flush();
    };
    // Expired after a minute: a new challenge is made, but held back by the ten-minute cooldown.
    await expire();
    expect(outbox.sent).toHaveLength(1);
    const held = (await r.status(ACCOUNT))?.fields.email?.nextMessageAt;
    expect(held).toBe(1_000_000 + 10 * 60_000);
    now = held ?? now;
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(2);
    // The third goes after another cooldown; the fourth waits a day from the first.
    now += 10 * 60_000;
    await expire();
    expect(outbox.sent).toHaveLength(3);
    for (let i = 0; i < 5; i++) await expire();
    expect(outbox.sent).toHaveLength(3);
    const next = (await r.status(ACCOUNT))?.fields.email?.nextMessageAt;
    expect(next).toBe(1_000_000 + 86_400_000);
    now = next ?? now;
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(4);
  });

  it('sends new links only for fields without a live one; asking when none is needed starts no wait', async () => {
    let now = 1_000_000;
    const operator = {
      index: INDEX,
      name: 'Acme Identity',
      contact: 'ops@acme.example',
      chain: 'Paseo People',
    };
    const r = registrar(new ScriptedJudge([]), () => now, { operator });
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(1);
    // Every message names who runs the registrar.
    expect(outbox.sent[0]?.operator).toEqual(operator);
    // The link still works: nothing is sent, and asking again at once is no different.
    await expect(r.resend(ACCOUNT)).resolves.toEqual({ kind: 'sent', fields: [] });
    await expect(r.resend(ACCOUNT)).resolves.toEqual({ kind: 'sent', fields: [] });
    // Expired: a new link goes out, and only then does the wait start.
    now += 61_000;
    await expect(r.resend(ACCOUNT)).resolves.toEqual({ kind: 'sent', fields: ['email'] });
    await expect(r.resend(ACCOUNT)).resolves.toEqual({ kind: 'limited', retryAt: now + 5 * 60_000 });
  });

  it('never voids codes for wrong ones typed on the public form, but makes that client wait', async () => {
    let now = 1_000_000;
    const r = registrar(new ScriptedJudge([]), () => now, { challengeTtlMs: 7 * 86_400_000 });
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    const code = outbox.sent[0]?.code ?? '';
    const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
    for (let i = 0; i < 2; i++) {
      expect(await r.answerCodeOf(ACCOUNT, 'email', wrong, STRANGER)).toMatchObject({
        ok: false,
        message: expect.stringContaining('not valid'),
      });
    }
    // From the third wrong code on, this client waits longer each time.
    const third = await r.answerCodeOf(ACCOUNT, 'email', wrong, STRANGER);
    expect(third).toMatchObject({ ok: false, retryAt: now + 2_000 });
    // While it waits, not even the right code is looked at from that client.
    expect(await r.answerCodeOf(ACCOUNT, 'email', code, STRANGER)).toMatchObject({
      ok: false,
      retryAt: now + 2_000,
    });
    now += 2_000;
    expect(await r.answerCodeOf(ACCOUNT, 'email', wrong, STRANGER)).toMatchObject({ retryAt: now + 4_000 });
    for (let i = 0; i < 30; i++) {
      now += 3_600_000;
      await r.answerCodeOf(ACCOUNT, 'email', wrong, STRANGER);
    }
    // Nothing of the person's was voided: the link still opens, and their own code still works.
    expect(await r.checkLink(tokenOf(outbox.sent[0]))).toMatchObject({ ok: true });
    expect(await r.answerCodeOf(ACCOUNT, 'email', code, CLIENT)).toMatchObject({ ok: true });
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('confirmed');
  });

  it('voids the codes of a field after five wrong ones sent by the subject itself', async () => {
    outbox = new RecordingChannel('email', ['message', 'bot']);
    const r = registrar(new ScriptedJudge([]));
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    const code = outbox.sent[0]?.code ?? '';
    const subject = outbox.sent[0]?.subject ?? '';
    const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
    for (let i = 0; i < 4; i++) {
      expect(await r.answerCode('email', subject, wrong)).toMatchObject({
        ok: false,
        message: expect.stringContaining('not valid'),
      });
    }
    expect(await r.answerCode('email', subject, wrong)).toMatchObject({
      ok: false,
      message: expect.stringContaining('Too many wrong codes'),
    });
    expect(await r.answerCode('email', subject, code)).toMatchObject({ ok: false });
    expect(await r.checkLink(tokenOf(outbox.sent[0]))).toMatchObject({
      ok: false,
      message: expect.stringContaining('no longer valid'),
    });
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('awaiting');
  });

  it('starts a bot in the background: one that never answers holds up neither the rest nor its own messages for good', async () => {
    let started: (() => void) | undefined;
    const bot = new RecordingChannel('matrix', ['message', 'bot']);
    const hanging = Object.assign(bot, {
      start: () =>
        new Promise<void>((resolve) => {
          started = resolve;
        }),
    });
    const { identity: twoFields, r } = withMatrix([outbox, hanging]);
    r.outbox.start(60_000);
    // The pass and the opening do not wait for the bot, and the mail goes out meanwhile.
    await r.reconcile(new Map([[ACCOUNT, twoFields]]), 'all');
    await r.outbox.flush();
    expect(outbox.sent.map((m) => m.field)).toEqual(['email']);
    expect(bot.sent).toHaveLength(0);
    expect((await r.status(ACCOUNT))?.fields.matrix?.status).toBe('awaiting');
    // Up at last: its message goes out at once, not after a retry's wait.
    started?.();
    await eventually(async () => (bot.sent.length === 1 ? true : undefined), 'the Matrix message', 5_000);
    await r.outbox.stop();
  });

  it('gives each channel its own lane: a mail server that never answers holds up no chat message', async () => {
    let release: (() => void) | undefined;
    outbox.send = () =>
      new Promise<void>((resolve) => {
        release = resolve;
      });
    const bot = new RecordingChannel('matrix', ['message', 'bot']);
    const chatter = encodeAddress(new Uint8Array(32).fill(7), 0);
    const chatOnly: ChainIdentity = {
      ...chainIdentity,
      snapshot: { infoHex: '0x00', hash: '0xbbbb' },
      info: {
        layout: 'people',
        values: {
          display: { kind: 'raw', hex: '0x00', text: 'Bob' },
          matrix: { kind: 'raw', hex: '0x00', text: '@bob:matrix.org' },
        },
      },
    };
    const r = registrar(new ScriptedJudge([]), Date.now, {
      channels: [outbox, bot],
      chain: {
        identity: async (account) => (account === chatter ? chatOnly : chainIdentity),
        registrar: async () => ({ ...entry, fields: ['display', 'email', 'matrix'] }),
        accountId: (a) => a,
      },
      // Far longer than the wait below: only a lane of its own lets the chat message through.
      limits: { ...DEFAULT_LIMITS, timeoutMs: 600_000 },
    });
    r.outbox.start(60_000);
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    await eventually(async () => (release ? true : undefined), 'the mail on its way', 30_000);
    // The mail server holds the first message; a second person asks, by Matrix only.
    await r.reconcile(new Map([[chatter, chatOnly]]), 'all');
    await eventually(async () => (bot.sent.length === 1 ? true : undefined), 'the Matrix message', 30_000);
    expect(bot.sent[0]?.account).toBe(chatter);
    // The mail is still on its way, not given up on: it is delivered when the server answers.
    expect((await store.dueDeliveries(Date.now(), 10)).map((c) => c.field)).toEqual(['email']);
    release?.();
    await r.outbox.stop();
    expect(await store.dueDeliveries(Date.now(), 10)).toEqual([]);
  });

  it("counts a message another lane is sending against the account's daily limit", async () => {
    // Each channel holds its message until released: whichever lane goes first is still sending,
    // not yet recorded, when the other looks at the limit.
    const releases: (() => void)[] = [];
    const bot = new RecordingChannel('matrix', ['message', 'bot']);
    for (const channel of [outbox, bot]) {
      channel.send = (message) =>
        new Promise<void>((resolve) => {
          channel.sent.push(message);
          releases.push(resolve);
        });
    }
    const { identity: both, r } = withMatrix([outbox, bot], {
      limits: { ...DEFAULT_LIMITS, perAccountPerDay: 1 },
    });
    r.outbox.start(60_000);
    await r.reconcile(new Map([[ACCOUNT, both]]), 'all');
    const request = await store.latestRequest(ACCOUNT, INDEX);
    const heldBack = await eventually(async () => {
      const challenges = await store.listChallenges(request?.id ?? '');
      return challenges.find((c) => c.nextDeliveryAt !== undefined && c.nextDeliveryAt > Date.now());
    }, 'one message held back by the limit');
    for (const release of releases) release();
    await r.outbox.stop();
    expect(heldBack.deliveredAt).toBeUndefined();
    expect(outbox.sent.length + bot.sent.length).toBe(1);
    expect([...outbox.sent, ...bot.sent][0]?.field).not.toBe(heldBack.field);
  });

  it('takes a code only from the ways its channel defines', async () => {
    // A channel that messages but hears no answers: a code sent "by the subject" is no proof here.
    const r = registrar(new ScriptedJudge([]));
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    const { code = '', subject = '' } = outbox.sent[0] ?? {};
    expect(await r.answerCode('email', subject, code)).toMatchObject({
      ok: false,
      message: expect.stringContaining('cannot be confirmed this way'),
    });
    // A field this registrar has no channel for takes no code at all.
    expect(await r.answerCodeOf(ACCOUNT, 'web', code, CLIENT)).toMatchObject({ ok: false });
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('awaiting');
  });

  it.each([[['published']], [['signature']], [['sign-in', 'post']], [['review']]] as ChannelMeans[][][])(
    'gives a challenge of a channel of %j no code at all',
    async (means) => {
      outbox = new RecordingChannel('email', means);
      const r = registrar(new ScriptedJudge([]));
      await r.onEvent(event('requested'));
      await r.outbox.flush();
      const request = await store.findOpenRequest(ACCOUNT, INDEX);
      const challenges = await store.listChallenges(request?.id ?? '');
      expect(challenges.length).toBeGreaterThan(0);
      for (const c of challenges) expect(c.codeHash).toBeUndefined();
      // Not even the code the channel was handed (a page shows none) confirms anything.
      const { code = '' } = outbox.sent.at(-1) ?? {};
      expect(await r.answerCodeOf(ACCOUNT, 'email', code, CLIENT)).toMatchObject({ ok: false });
      expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('awaiting');
    },
  );

  it("shows a closed request's states, never its values", async () => {
    const r = registrar(new ScriptedJudge([]));
    await r.onEvent(event('requested'));
    expect((await r.status(ACCOUNT))?.fields.email?.value).toBe('a@example.org');
    await r.onEvent({ ...event('requested'), kind: 'unrequested' });
    const status = await r.status(ACCOUNT);
    expect(status?.status).toBe('cancelled');
    expect(status?.fields.email).toEqual({ status: 'awaiting', label: 'email address' });
    expect(status?.fields.display).toEqual({ status: 'confirmed', label: 'display name' });
    expect(JSON.stringify(status)).not.toContain('example.org');
    expect(JSON.stringify(status)).not.toContain('Alice');
  });

  it('keeps the ID of the account a message reached, unless an earlier try timed out and may have reached another', async () => {
    /** A channel that finds the account by name, as the Discord bot does, and says which it reached. */
    class FindingChannel implements Channel {
      readonly field = 'email' as const;
      readonly means = ['message'] as const;
      readonly sent: ChallengeMessage[] = [];
      constructor(
        private readonly reached: string[],
        private slowFirst: boolean,
      ) {}
      async send(message: ChallengeMessage): Promise<Delivery> {
        this.sent.push(message);
        if (this.slowFirst) {
          this.slowFirst = false;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        return { serviceId: this.reached.shift() ?? 'nobody' };
      }
    }
    let clock = Date.now();
    const emailOf = async () => (await store.findOpenRequest(ACCOUNT, INDEX))?.fields.email;
    const challengeOf = async () =>
      (await store.listChallenges((await store.findOpenRequest(ACCOUNT, INDEX))?.id ?? ''))[0];

    // Reached at once: a link pressed (no ID of its own) proves the field for the account reached.
    const quick = new FindingChannel(['member-a'], false);
    const r = registrar(new ScriptedJudge([]), () => clock, { channels: [quick] });
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect((await challengeOf())?.deliveredTo).toBe('member-a');
    expect((await r.confirm(tokenOf(quick.sent[0]))).ok).toBe(true);
    expect(await emailOf()).toMatchObject({ status: 'confirmed', serviceId: 'member-a' });
    await r.outbox.stop();

    // The first try times out (its message may have reached someone); the retry reaches another
    // account: whom the link reached is not known, and no ID is kept.
    await store.close();
    store = new SqliteStore(':memory:');
    const slow = new FindingChannel(['member-a', 'member-b'], true);
    const s = registrar(new ScriptedJudge([]), () => clock, {
      store,
      channels: [slow],
      limits: { ...DEFAULT_LIMITS, cooldownMs: 0, timeoutMs: 100 },
    });
    await s.onEvent(event('requested'));
    await s.outbox.flush();
    expect(await challengeOf()).toMatchObject({ deliveryUncertain: true, deliveryAttempts: 1 });
    clock += 31_000;
    await s.outbox.flush();
    expect(slow.sent).toHaveLength(2);
    const retried = await challengeOf();
    expect(retried?.deliveredAt).toBeDefined();
    expect(retried?.deliveredTo).toBeUndefined();
    expect((await s.confirm(tokenOf(slow.sent[1]))).ok).toBe(true);
    const email = await emailOf();
    expect(email?.status).toBe('confirmed');
    expect(email && 'serviceId' in email ? email.serviceId : undefined).toBeUndefined();
    await s.outbox.stop();
  });

  it('changes nothing for a link it refuses, and uses a good link only once', async () => {
    const r = registrar(new ScriptedJudge([{ kind: 'included', blockHash: '0x03', extrinsicHash: '0x04' }]));
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    const token = tokenOf(outbox.sent[0]);
    expect(await r.confirm(`${token}x`)).toMatchObject({
      ok: false,
      message: expect.stringContaining('not valid'),
    });
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('awaiting');
    expect((await r.confirm(token)).ok).toBe(true);
    expect(await r.confirm(token)).toMatchObject({
      ok: false,
      message: expect.stringContaining('already used'),
    });
    await r.drain();
    // Included in a best block, which may yet be retracted: not in the audit log until final.
    expect(await store.listJudgements(ACCOUNT)).toEqual([]);
    await r.onEvent({ ...event('judgement-given'), blockHash: '0x09', extrinsicHash: '0x04' });
    expect(await store.listJudgements(ACCOUNT)).toEqual([
      expect.objectContaining({ identityHash: '0xaaaa', blockHash: '0x09', extrinsicHash: '0x04' }),
    ]);
    expect((await r.status(ACCOUNT))?.status).toBe('judged');
  });

  it('does not record its submission when the final judgement came from another extrinsic', async () => {
    // Ours sat on a block that was retracted, and meanwhile the operator judged by hand: the
    // chain's final judgement is the operator's, which was recorded when it was included.
    const r = registrar(new ScriptedJudge([{ kind: 'included', blockHash: '0x03', extrinsicHash: '0x04' }]));
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect((await r.confirm(tokenOf(outbox.sent[0]))).ok).toBe(true);
    await r.drain();
    await r.onEvent({ ...event('judgement-given'), blockHash: '0x09', extrinsicHash: '0x0e' });
    expect(await store.listJudgements(ACCOUNT)).toEqual([]);
    expect((await r.status(ACCOUNT))?.status).toBe('judged');
  });

  it('writes the audit entry of a judgement once, when the chain shows it final, however it learns so', async () => {
    const judge = new ScriptedJudge([{ kind: 'included', blockHash: '0x03', extrinsicHash: '0x04' }]);
    const r = registrar(judge);
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect((await r.confirm(tokenOf(outbox.sent[0]))).ok).toBe(true);
    await r.settle();
    expect(judge.calls).toHaveLength(1);
    expect(await store.listJudgements(ACCOUNT)).toEqual([]);
    // Down while it became final: the next full pass finds the slot judged and closes the request.
    chainIdentity = { ...chainIdentity, judgements: [{ registrarIndex: INDEX, judgement: 'Reasonable' }] };
    await r.reconcile(new Map(), 'all');
    expect((await r.status(ACCOUNT))?.status).toBe('judged');
    // The event seen after that writes nothing more.
    await r.onEvent({ ...event('judgement-given'), blockHash: '0x09' });
    expect(await store.listJudgements(ACCOUNT)).toEqual([
      expect.objectContaining({ judgement: 'Reasonable', blockHash: '0x03', extrinsicHash: '0x04' }),
    ]);
  });

  it('takes up a field again when its channel comes back, keeping what is proven and live', async () => {
    const withMatrix: RegistrarEntry = { ...entry, mask: 25n, fields: ['display', 'matrix', 'email'] };
    chainIdentity = {
      ...chainIdentity,
      info: {
        layout: 'people',
        values: {
          ...chainIdentity.info.values,
          matrix: { kind: 'raw', hex: '0x00', text: '@alice:example.org' },
        },
      },
    };
    const build = (channels: Channel[]) =>
      new Registrar({
        store,
        chain: {
          identity: async () => chainIdentity,
          registrar: async () => withMatrix,
          accountId: (a) => a,
        },
        judge: new ScriptedJudge([]),
        channels,
        tokens: new ChallengeTokens('unit-test-secret-0123456789abcdef0123', INDEX),
        registrarIndex: INDEX,
        publicUrl: 'https://registrar.example',
        challengeTtlMs: 60_000,
        log: pino({ level: 'silent' }),
      });
    // The Matrix bot is away (its credentials are being rotated): the field cannot be verified.
    const first = build([outbox]);
    await first.onEvent(event('requested'));
    await first.outbox.flush();
    expect((await first.status(ACCOUNT))?.fields.matrix).toMatchObject({
      status: 'failed',
      reason: 'this registrar cannot verify the Matrix account field at the moment',
    });
    expect(outbox.sent).toHaveLength(1);

    // It is back after a restart: the next reconciliation sends the Matrix challenge, and only that.
    const matrix = new RecordingChannel('matrix');
    const second = build([outbox, matrix]);
    await second.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    await second.outbox.flush();
    const status = await second.status(ACCOUNT);
    expect(status?.fields.matrix?.status).toBe('awaiting');
    expect(status?.fields.email?.status).toBe('awaiting');
    expect(matrix.sent.map((m) => m.subject)).toEqual(['@alice:example.org']);
    expect(outbox.sent).toHaveLength(1);
    // Nothing changes at the next pass.
    await second.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    await second.outbox.flush();
    expect(matrix.sent).toHaveLength(1);
  });

  it('keeps a request open that the pending list misses but its own fresh read shows pending', async () => {
    // The list came from a node behind the one that answers the account's own read.
    const r = registrar(new ScriptedJudge([]));
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    const token = tokenOf(outbox.sent[0]);
    await r.reconcile(new Map(), 'all');
    expect((await r.status(ACCOUNT))?.status).toBe('open');
    expect((await r.checkLink(token)).ok).toBe(true);
    // Gone from the chain for real: closed.
    chainIdentity = identity('a@example.org', '0xaaaa', 'Reasonable');
    await r.reconcile(new Map(), 'all');
    expect((await r.status(ACCOUNT))?.status).toBe('judged');
  });

  it('refuses an account it judged Erroneous within the refusal time, and sends it nothing', async () => {
    let now = 10 * 86_400_000;
    await store.appendJudgement({
      account: ACCOUNT,
      registrarIndex: INDEX,
      judgement: 'Erroneous',
      identityHash: '0x01',
      blockHash: '0x02',
      extrinsicHash: '0x03',
      at: now - 86_400_000,
    });
    const r = registrar(new ScriptedJudge([]), () => now, { refusalMs: 30 * 86_400_000 });
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    expect(outbox.sent).toEqual([]);
    const status = await r.status(ACCOUNT);
    expect(status?.judgeable).toBe(false);
    expect(status?.blockers).toContainEqual(
      expect.objectContaining({
        reason: expect.stringContaining('judged an earlier identity of this account Erroneous'),
      }),
    );
    // After the refusal time it is served again (at the next edit or reconciliation).
    now += 30 * 86_400_000;
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(1);
  });

  it('deletes the values of closed requests after the retention time, keeping the audit log', async () => {
    let now = 1_000_000;
    const r = registrar(new ScriptedJudge([]), () => now, { retentionMs: 86_400_000 });
    await r.onEvent(event('requested'));
    await r.outbox.flush();
    await r.onEvent({ ...event('requested'), kind: 'unrequested' });
    const closed = await store.latestRequest(ACCOUNT, INDEX);
    await r.reconcile(new Map(), 'all');
    expect(JSON.stringify(await store.getRequest(closed?.id ?? ''))).toContain('a@example.org');
    now += 86_400_000;
    await r.reconcile(new Map(), 'all');
    const kept = await store.getRequest(closed?.id ?? '');
    expect(JSON.stringify(kept)).not.toContain('a@example.org');
    expect(JSON.stringify(kept)).not.toContain('Alice');
    expect(kept).toMatchObject({ status: 'cancelled', snapshot: { infoHex: '', hash: '0xaaaa' } });
    expect(kept?.forgottenAt).toBe(now);
    expect(await store.listChallenges(closed?.id ?? '')).toEqual([]);
  });

  it('reconciles open requests from the identities it is handed, re-planning only when the mask changed', async () => {
    const reads = { identity: 0, registrar: 0 };
    let current = entry;
    const r = registrar(new ScriptedJudge([]), Date.now, {
      chain: {
        identity: async () => {
          reads.identity += 1;
          return chainIdentity;
        },
        registrar: async () => {
          reads.registrar += 1;
          return current;
        },
        accountId: (a) => a,
      },
    });
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(1);
    reads.identity = 0;
    reads.registrar = 0;

    // A periodic pass: the identities read for it, no chain read per request, one of the entry.
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), [ACCOUNT]);
    expect(reads).toEqual({ identity: 0, registrar: 1 });
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('awaiting');

    // The mask no longer names the email: the next pass plans the request again.
    current = { ...entry, mask: 1n, fields: ['display'] };
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), [ACCOUNT]);
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('ignored');
  });

  it('opens what a full scan found before the scan ends, and the end of the pass leaves those alone', async () => {
    const r = registrar(new ScriptedJudge([]));
    // A page of the scan: opened now, its challenge sent.
    expect(await r.openFound(new Map([[ACCOUNT, chainIdentity]]), false)).toEqual([ACCOUNT]);
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(1);
    expect((await r.status(ACCOUNT))?.fields.email?.status).toBe('awaiting');
    // Found again (a second scan): already open, nothing opened.
    expect(await r.openFound(new Map([[ACCOUNT, chainIdentity]]), false)).toEqual([]);

    // The end of the scan: no store read, no second message for the request the scan opened...
    const reads = jest.spyOn(store, 'listChallenges');
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all', new Set([ACCOUNT]));
    expect(reads).not.toHaveBeenCalled();
    // ...while one it did not open is caught up as after a restart.
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all');
    expect(reads).toHaveBeenCalled();
    await r.outbox.flush();
    expect(outbox.sent).toHaveLength(1);
  });

  it('holds a request opened before the look-alike corpus is complete, and plans it again once it is', async () => {
    const displayOnly: RegistrarEntry = { ...entry, mask: 1n, fields: ['display'] };
    const corpus: { account: string; display: string }[] = [];
    const judge = new ScriptedJudge([{ kind: 'included', blockHash: '0x01', extrinsicHash: '0x02' }]);
    const r = registrar(judge, Date.now, {
      chain: { identity: async () => chainIdentity, registrar: async () => displayOnly, accountId: (a) => a },
      names: { lookAlikes: async () => (name) => corpus.filter((twin) => twin.display === name) },
    });
    // Early in a first scan: the display name passes against what was read so far...
    expect(await r.openFound(new Map([[ACCOUNT, chainIdentity]]), true)).toEqual([]);
    expect((await r.status(ACCOUNT))?.fields.display?.status).toBe('confirmed');
    // ...but nothing is judged: not by the periodic look for ready requests, not by a periodic
    // pass (which reads no corpus and so cannot settle the plan).
    await r.judgeReady();
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), [ACCOUNT]);
    await r.settle();
    expect(judge.calls).toHaveLength(0);

    // A later page held a judged "Alice": at the end of the scan the display name fails.
    corpus.push({ account: '1Judged', display: 'Alice' });
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all', new Set());
    await r.settle();
    const display = (await r.status(ACCOUNT))?.fields.display;
    expect(display?.status).toBe('failed');
    expect(display?.reason).toMatch(/could be mistaken for the judged name "Alice"/);
    expect(judge.calls).toHaveLength(0);
  });

  it('lets the operator allow a flagged display name for one account, until the name changes', async () => {
    const displayOnly: RegistrarEntry = { ...entry, mask: 1n, fields: ['display'] };
    const judge = new ScriptedJudge([{ kind: 'included', blockHash: '0x01', extrinsicHash: '0x02' }]);
    const onChain = chainIdentity;
    const r = registrar(judge, Date.now, {
      chain: { identity: async () => onChain, registrar: async () => displayOnly, accountId: (a) => a },
      names: {
        lookAlikes: async () => (name) =>
          name === 'Alice' ? [{ account: '1Judged', display: 'Alice' }] : [],
      },
    });
    await r.onEvent(event('requested'));
    const flagged = (await r.status(ACCOUNT))?.fields.display;
    expect(flagged).toMatchObject({
      status: 'failed',
      hint: expect.stringContaining('ask the registrar to review it'),
    });
    // Only what the operator saw is allowed, and only a flagged name.
    expect(await r.review(ACCOUNT, 'display', 'confirm', '', 'ops', { value: 'Alicia' })).toMatchObject({
      ok: false,
      message: expect.stringContaining('changed since you looked'),
    });
    expect(
      await r.review(ACCOUNT, 'display', 'confirm', '', 'ops', { identityHash: '0xaaaa' }),
    ).toMatchObject({ ok: true });
    await r.settle();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xaaaa' }]);
    expect(await store.listReviews(ACCOUNT)).toEqual([
      expect.objectContaining({
        field: 'display',
        decision: 'confirm',
        reviewer: 'ops',
        identityHash: '0xaaaa',
      }),
    ]);
    // A plan made again keeps the allowance while the name stays; a new name is checked anew.
    await r.reconcile(new Map([[ACCOUNT, onChain]]), 'all');
    expect((await r.status(ACCOUNT))?.fields.display?.status).toBe('confirmed');
  });

  it('keeps an allowance only for the name it was given to', async () => {
    const displayOnly: RegistrarEntry = { ...entry, mask: 1n, fields: ['display'] };
    let onChain = chainIdentity;
    const r = registrar(new ScriptedJudge([]), Date.now, {
      judges: () => false,
      chain: { identity: async () => onChain, registrar: async () => displayOnly, accountId: (a) => a },
      names: {
        lookAlikes: async () => (name) =>
          name.startsWith('Ali') ? [{ account: '1Judged', display: 'Alice' }] : [],
      },
    });
    await r.onEvent(event('requested'));
    expect(await r.review(ACCOUNT, 'display', 'confirm', '', 'ops', { value: 'Alice' })).toMatchObject({
      ok: true,
    });
    onChain = {
      ...chainIdentity,
      info: { layout: 'people', values: { display: { kind: 'raw', hex: '0x00', text: 'Alicia' } } },
      snapshot: { infoHex: '0x01', hash: '0xbbbb' },
    };
    await r.onEvent({ ...event('identity-set') });
    expect((await r.status(ACCOUNT))?.fields.display).toMatchObject({ status: 'failed', value: 'Alicia' });
  });

  it('opens a page of a scan with one read of the chain for the whole page, however long it takes', async () => {
    // Each chain read waits behind the scan's next page at the node, and each opening takes time:
    // here the clock moves 5 s per read and 2 s per opening.
    let now = 1_000_000;
    let registrarReads = 0;
    const readAhead: string[][] = [];
    const accounts = [
      ACCOUNT,
      '14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3',
      '16SpacegeUTft9v3ts27CEC3tJaxgvE4uZeCctThFH3Vb24p',
    ];
    const r = registrar(new ScriptedJudge([]), () => now, {
      chain: {
        identity: async () => chainIdentity,
        registrar: async () => {
          registrarReads += 1;
          now += 5_000;
          return entry;
        },
        accountId: (a) => a,
      },
      names: {
        lookAlikes: async () => {
          now += 2_000;
          return () => [];
        },
        readAhead: async (page) => {
          readAhead.push([...page]);
          now += 5_000;
        },
      },
    });
    const opened = await r.openFound(
      new Map(accounts.map((a, i) => [a, identity(`${i}@example.org`, `0x0${i}`)])),
      false,
    );
    expect(opened.sort()).toEqual([...accounts].sort());
    // The families for the look-alike check in one read, the registrar's entry in one read: no
    // opening went back to the chain (where it would wait behind another page).
    expect(readAhead).toEqual([accounts]);
    expect(registrarReads).toBe(1);
  });

  it('releases the requests a first scan held with one read of sub-identities and no chain read each', async () => {
    // A thousand held requests resumed one chain round trip at a time reached the judge over
    // several blocks; what the pass read is what they are judged on (the judge reads the batch again).
    const displayOnly: RegistrarEntry = { ...entry, mask: 1n, fields: ['display'] };
    const accounts = [
      ACCOUNT,
      '14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3',
      '16SpacegeUTft9v3ts27CEC3tJaxgvE4uZeCctThFH3Vb24p',
    ];
    const found = new Map(accounts.map((a, i) => [a, identity(`${i}@example.org`, `0x0${i}`)]));
    let identityReads = 0;
    const readAhead: string[][] = [];
    const included: JudgeOutcome = { kind: 'included', blockHash: '0x01', extrinsicHash: '0x02' };
    const judge = new ScriptedJudge([included, included, included]);
    const r = registrar(judge, Date.now, {
      chain: {
        identity: async () => {
          identityReads += 1;
          return chainIdentity;
        },
        registrar: async () => displayOnly,
        accountId: (a) => a,
      },
      names: {
        lookAlikes: async () => () => [],
        readAhead: async (page) => {
          readAhead.push([...page]);
        },
      },
    });
    await r.openFound(found, true);
    await r.settle();
    expect(judge.calls).toHaveLength(0);
    readAhead.length = 0;

    await r.reconcile(found, 'all', new Set());
    await r.settle();
    expect(readAhead).toEqual([accounts]);
    expect(identityReads).toBe(0);
    expect(judge.calls.map((c) => c.target).sort()).toEqual([...accounts].sort());
    expect(judge.calls.map((c) => c.hash).sort()).toEqual(['0x00', '0x01', '0x02']);
  });

  it('judges a provisional request once the end of the scan finds its display name clean', async () => {
    const displayOnly: RegistrarEntry = { ...entry, mask: 1n, fields: ['display'] };
    const judge = new ScriptedJudge([{ kind: 'included', blockHash: '0x01', extrinsicHash: '0x02' }]);
    const r = registrar(judge, Date.now, {
      chain: { identity: async () => chainIdentity, registrar: async () => displayOnly, accountId: (a) => a },
      names: { lookAlikes: async () => () => [] },
    });
    await r.openFound(new Map([[ACCOUNT, chainIdentity]]), true);
    await r.settle();
    expect(judge.calls).toHaveLength(0);
    // That scan failed on the way; the next one finds the request open: still held.
    await r.openFound(new Map([[ACCOUNT, chainIdentity]]), true);
    await r.judgeReady();
    await r.settle();
    expect(judge.calls).toHaveLength(0);
    await r.reconcile(new Map([[ACCOUNT, chainIdentity]]), 'all', new Set());
    await r.settle();
    expect(judge.calls).toEqual([{ target: ACCOUNT, hash: '0xaaaa' }]);
  });
});
