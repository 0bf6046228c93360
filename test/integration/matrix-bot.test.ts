/**
 * The Matrix bot is nobody's tool: the real matrix-js-sdk (the channel as the daemon builds it) over
 * real HTTP against the local homeserver of src/dev/stand-ins/matrix-server.ts, the registrar in process
 * on the real SQLite store, the chain scripted. One test per rule the bot keeps: whom it joins,
 * where and to what it answers, how often, under which limits, which room it posts into, what it
 * forgets and when, how long it waits for the homeserver, and how it tells of a grace.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { ChainIdentity, RegistrarEntry } from '../../src/chain/identity.js';
import type { Judge } from '../../src/chain/judge.js';
import { MatrixChannel } from '../../src/channels/matrix.js';
import { Secret } from '../../src/config.js';
import { type SentMessage, TestHomeserver } from '../../src/dev/stand-ins/matrix-server.js';
import { eventually } from '../../src/dev/waiting.js';
import type { IdentityInfo } from '../../src/domain/identity.js';
import { DEFAULT_LIMITS, type MessageLimits } from '../../src/registrar/outbox.js';
import { Registrar } from '../../src/registrar/registrar.js';
import { ChallengeTokens } from '../../src/registrar/tokens.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const INDEX = 1;
const ALICE = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';
const BOB = '14E5nqKAp3oAJcmzgZhUD2RcptBeUBScxKHgJKU4HPNcKVf3';
const ALICE_MXID = '@alice:localhost';
const MALLORY = '@mallory:localhost';
const DAY_MS = 86_400_000;
const tokens = new ChallengeTokens('matrix-bot-test-secret-0123456789abcdef', INDEX);

function identity(mxid: string): ChainIdentity {
  const info: IdentityInfo = {
    layout: 'people',
    values: { matrix: { kind: 'raw', hex: '0x00', text: mxid } },
  };
  return {
    info,
    snapshot: { infoHex: '0x00', hash: `0x${Buffer.from(mxid).toString('hex')}` },
    judgements: [{ registrarIndex: INDEX, judgement: 'FeePaid' }],
  };
}

const codeIn = (message: SentMessage) =>
  /reply here with the code ([A-Z0-9]{8})/.exec(message.body)?.[1] ?? '';
const idle: Judge = { giveJudgement: async () => ({ kind: 'failed', error: 'not in these tests' }) };

let hs: TestHomeserver;
let store: SqliteStore;
let channel: MatrixChannel;
let registrar: Registrar;
/** Moves the bot's and the registrar's clock (the homeserver keeps the real one). */
let shift = 0;
const now = () => Date.now() + shift;

async function begin(limits: Partial<MessageLimits> = {}, timeoutMs?: number): Promise<void> {
  hs = await TestHomeserver.start();
  store = new SqliteStore(':memory:');
  const log = pino({ level: 'silent' });
  channel = new MatrixChannel({
    settings: {
      homeserver: hs.url,
      user: hs.bot,
      accessToken: new Secret(hs.token),
      deviceId: 'REGISTRARBOT',
      password: undefined,
    },
    store,
    log,
    publicUrl: 'https://registrar.example',
    now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const identities = new Map([
    [ALICE, identity(ALICE_MXID)],
    [BOB, identity(ALICE_MXID)],
  ]);
  const entry: RegistrarEntry = { account: 'registrar', fee: 1n, mask: 8n, fields: ['matrix'] };
  registrar = new Registrar({
    now,
    store,
    chain: { identity: async (a) => identities.get(a), registrar: async () => entry, accountId: (a) => a },
    judge: idle,
    channels: [channel],
    tokens,
    registrarIndex: INDEX,
    publicUrl: 'https://registrar.example',
    challengeTtlMs: DAY_MS,
    log,
    limits: { ...DEFAULT_LIMITS, cooldownMs: 0, ...limits },
    retentionMs: DAY_MS,
  });
  registrar.startChannels();
  await eventually(() => hs.requests.filter((r) => r.endsWith('/sync')).length >= 2 || undefined, 'bot up');
}

/** Alice's account asks for a judgement; resolves with the challenge message the bot posted. */
async function challenge(account = ALICE): Promise<SentMessage> {
  const before = hs.sent.length;
  await registrar.onEvent({ kind: 'requested', account, blockHash: '0x01', blockNumber: 1 });
  await registrar.outbox.flush();
  return eventually(() => hs.sent.slice(before).find((m) => m.body.includes(account)), 'challenge message');
}

async function matrixField(account = ALICE) {
  return (await store.findOpenRequest(account, INDEX))?.fields.matrix;
}

/** The bot's messages after `after`, once `until` holds (waited for on the homeserver). */
async function sentAfter(after: number, until: (m: SentMessage[]) => boolean): Promise<SentMessage[]> {
  return eventually(() => {
    const sent = hs.sent.slice(after);
    return until(sent) ? sent : undefined;
  }, 'the bot to answer');
}

beforeEach(() => {
  shift = 0;
});

afterEach(async () => {
  await registrar?.outbox.stop();
  await channel?.close();
  await store?.close();
  await hs?.close();
});

describe('the Matrix bot joins', () => {
  beforeEach(() => begin());

  it('a direct chat only from someone with a live challenge, and declines every other invitation', async () => {
    const stranger = hs.openRoom('@stranger:localhost', hs.bot);
    await eventually(() => hs.membershipOf(stranger, hs.bot) === 'leave' || undefined, 'declined');
    const message = await challenge();
    // A group room from the challenged person is declined too.
    const group = hs.openRoom(ALICE_MXID, hs.bot, false);
    await eventually(() => hs.membershipOf(group, hs.bot) === 'leave' || undefined, 'group declined');
    const direct = hs.openRoom(ALICE_MXID, hs.bot);
    await eventually(() => hs.membershipOf(direct, hs.bot) === 'join' || undefined, 'direct chat joined');
    const before = hs.sent.length;
    hs.say(direct, ALICE_MXID, codeIn(message));
    const [reply] = await sentAfter(before, (sent) => sent.length > 0);
    expect(reply?.roomId).toBe(direct);
    expect(reply?.body).toContain('Confirmed');
  });

  it('no room that holds anyone else, and answers nothing there', async () => {
    const message = await challenge();
    const crowded = hs.openRoom(ALICE_MXID, hs.bot);
    hs.invite(crowded, ALICE_MXID, MALLORY);
    hs.join(crowded, MALLORY);
    await eventually(() => hs.membershipOf(crowded, hs.bot) === 'leave' || undefined, 'left');
    expect(hs.sent).toHaveLength(1);
    expect(await matrixField()).toMatchObject({ status: 'awaiting' });
    // The code still works where the bot talks to Alice alone.
    const before = hs.sent.length;
    hs.join(hs.roomWith(ALICE_MXID) ?? '', ALICE_MXID);
    hs.say(hs.roomWith(ALICE_MXID) ?? '', ALICE_MXID, codeIn(message));
    expect((await sentAfter(before, (s) => s.length > 0))[0]?.body).toContain('Confirmed');
  });
});

describe('the Matrix bot answers', () => {
  beforeEach(() => begin());

  it('no ordinary chat: "have been there" is no code, neither answered nor counted', async () => {
    const message = await challenge();
    const id = (await store.findLiveChallenges('matrix', ALICE_MXID, now()))[0]?.id ?? '';
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    const before = hs.sent.length;
    hs.say(room, ALICE_MXID, 'have been there, will look later');
    hs.say(room, ALICE_MXID, 'what else');
    hs.say(room, ALICE_MXID, 'whatever');
    hs.say(room, ALICE_MXID, `here it is: ${codeIn(message)}`);
    const sent = await sentAfter(before, (s) => s.some((m) => m.body.includes('Confirmed')));
    expect(sent.map((m) => m.body.slice(0, 10))).toEqual(['Confirmed:']);
    expect((await store.getChallenge(id))?.wrongCodes).toBeUndefined();
  });

  it('a sender at most once per challenge: three wrong codes get one refusal', async () => {
    const message = await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    const before = hs.sent.length;
    for (const wrong of ['AAAA-AAAA', 'BBBBBBBB', 'CCCC CCCC']) hs.say(room, ALICE_MXID, wrong);
    hs.say(room, ALICE_MXID, codeIn(message));
    const sent = await sentAfter(before, (s) => s.some((m) => m.body.includes('Confirmed')));
    expect(sent.map((m) => m.body.slice(0, 20))).toEqual(['This code is not val', 'Confirmed: this Matr']);
  });

  it('an encrypted message it cannot read once per challenge, not once per message', async () => {
    const message = await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    const before = hs.sent.length;
    hs.sayEncrypted(room, ALICE_MXID);
    hs.sayEncrypted(room, ALICE_MXID);
    hs.say(room, ALICE_MXID, codeIn(message));
    const sent = await sentAfter(before, (s) => s.some((m) => m.body.includes('Confirmed')));
    expect(sent.map((m) => m.body.slice(0, 20))).toEqual(['This message is encr', 'Confirmed: this Matr']);
  });

  it('a code sent from another Matrix ID with a refusal that is kept, and never confirms', async () => {
    const message = await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    hs.invite(room, ALICE_MXID, MALLORY);
    hs.join(room, MALLORY);
    const before = hs.sent.length;
    hs.say(room, MALLORY, codeIn(message));
    hs.say(room, MALLORY, codeIn(message));
    hs.say(room, ALICE_MXID, 'thanks');
    const [refusal] = await sentAfter(before, (s) => s.length > 0);
    expect(refusal?.body).toContain('sent from another Matrix ID');
    const field = await eventually(async () => {
      const state = await matrixField();
      return state?.status === 'awaiting' && state.refusal ? state : undefined;
    }, 'the refusal kept');
    expect(field).toMatchObject({ status: 'awaiting', refusal: { reason: refusal?.body } });
    // Still live: Alice's own code confirms.
    hs.say(room, ALICE_MXID, codeIn(message));
    const sent = await sentAfter(before, (s) => s.some((m) => m.body.includes('Confirmed')));
    expect(sent).toHaveLength(2);
  });

  it('an old event replayed after a long outage not at all, and forgets handled events in time', async () => {
    const message = await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    const before = hs.sent.length;
    hs.say(room, ALICE_MXID, 'ZZZZZZZZ', Date.now() - 3 * DAY_MS);
    const handled = hs.say(room, ALICE_MXID, codeIn(message));
    const sent = await sentAfter(before, (s) => s.some((m) => m.body.includes('Confirmed')));
    expect(sent).toHaveLength(1);
    expect(await store.getCheckpoint(`matrix:event:${handled}`)).toBeDefined();
    // The registrar's maintenance (every full reconciliation) drops what ran out.
    shift = 4 * DAY_MS;
    await registrar.reconcile(new Map([[ALICE, identity(ALICE_MXID)]]), 'all');
    expect(await store.getCheckpoint(`matrix:event:${handled}`)).toBeUndefined();
  });
});

describe('the Matrix bot within the message limits', () => {
  beforeEach(() => begin({ perTargetPerDay: 2 }));

  it('counts its replies: after the challenge and one refusal, the confirmation goes unsaid', async () => {
    const message = await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    const before = hs.sent.length;
    hs.say(room, ALICE_MXID, 'AAAAAAAA');
    await sentAfter(before, (s) => s.length > 0);
    hs.say(room, ALICE_MXID, codeIn(message));
    await eventually(
      async () => ((await matrixField())?.status === 'confirmed' ? true : undefined),
      'confirmed',
    );
    hs.say(room, ALICE_MXID, 'BBBBBBBB');
    // Alice's second account: its challenge to the same Matrix ID waits for tomorrow.
    await registrar.onEvent({ kind: 'requested', account: BOB, blockHash: '0x02', blockNumber: 2 });
    await registrar.outbox.flush();
    expect(hs.sent.length - before).toBe(1);
    const [pending] = await store.findLiveChallenges('matrix', ALICE_MXID, now());
    expect(pending?.deliveredAt).toBeUndefined();
    expect(await store.deliveryTimes({ target: tokens.targetKey('matrix', ALICE_MXID) }, 0)).toHaveLength(2);
  });
});

describe("the Matrix bot's room with a person", () => {
  beforeEach(() => begin());

  it('is checked before use: after the person rejected the invitation, they are invited again', async () => {
    await challenge(ALICE);
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.leave(room, ALICE_MXID);
    await challenge(BOB);
    expect(hs.roomWith(ALICE_MXID)).toBe(room);
    expect(hs.membershipOf(room, ALICE_MXID)).toBe('invite');
  });

  it('is opened anew when the bot is no longer in it', async () => {
    await challenge(ALICE);
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.leave(room, hs.bot);
    const message = await challenge(BOB);
    expect(message.roomId).not.toBe(room);
    expect(hs.membershipOf(message.roomId, ALICE_MXID)).toBe('invite');
  });

  it('a challenge posted where the person cannot be invited back is not delivered', async () => {
    await challenge(ALICE);
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.leave(room, ALICE_MXID);
    hs.refuseInvites.add(ALICE_MXID);
    const before = hs.sent.length;
    await registrar.onEvent({ kind: 'requested', account: BOB, blockHash: '0x02', blockNumber: 2 });
    await registrar.outbox.flush();
    expect(hs.sent.length).toBe(before);
    const [pending] = (
      await store.listChallenges((await store.findOpenRequest(BOB, INDEX))?.id ?? '')
    ).filter((c) => c.field === 'matrix');
    expect(pending?.deliveredAt).toBeUndefined();
    expect(pending?.deliveryAttempts).toBe(1);
  });

  it('is forgotten, and left, with the request once its retention ran out', async () => {
    await challenge(ALICE);
    const room = hs.roomWith(ALICE_MXID) ?? '';
    expect(await store.getCheckpoint(`matrix:room:${ALICE_MXID}`)).toBe(room);
    await registrar.onEvent({ kind: 'unrequested', account: ALICE, blockHash: '0x02', blockNumber: 2 });
    shift = 2 * DAY_MS;
    expect(await registrar.forgetClosed()).toBe(1);
    expect(await store.getCheckpoint(`matrix:room:${ALICE_MXID}`)).toBeUndefined();
    expect(await store.getCheckpoint(`matrix:owner:${room}`)).toBeUndefined();
    await eventually(() => hs.membershipOf(room, hs.bot) === 'leave' || undefined, 'the bot left');
  });
});

describe('the Matrix bot and a homeserver that never answers', () => {
  beforeEach(() => begin({ timeoutMs: 120_000 }, 1_000));

  it('gives up each call within its bound', async () => {
    hs.hang = /\/createRoom$/;
    await registrar.onEvent({ kind: 'requested', account: ALICE, blockHash: '0x01', blockNumber: 1 });
    const flushed = registrar.outbox.flush();
    await eventually(() => hs.abandoned > 0 || undefined, 'the held call given up', 15_000);
    await flushed;
    const [pending] = await store.findLiveChallenges('matrix', ALICE_MXID, now());
    expect(pending?.deliveredAt).toBeUndefined();
  });

  it('opens no new room when the check of the kept one goes unanswered', async () => {
    await challenge(ALICE);
    hs.hang = /\/state\/m\.room\.member\//;
    await registrar.onEvent({ kind: 'requested', account: BOB, blockHash: '0x02', blockNumber: 2 });
    await registrar.outbox.flush();
    await eventually(() => hs.abandoned > 0 || undefined, 'the held check given up', 15_000);
    const bob = await store.findOpenRequest(BOB, INDEX);
    expect((await store.listChallenges(bob?.id ?? ''))[0]?.deliveryAttempts).toBe(1);
    expect(hs.roomsCreated()).toHaveLength(1);
    expect(await store.getCheckpoint(`matrix:room:${ALICE_MXID}`)).toBe(hs.roomWith(ALICE_MXID));
  });
});

describe('the Matrix bot tells of a grace', () => {
  beforeEach(() => begin());

  const notice = (subject: string) => ({
    account: ALICE,
    subject,
    field: 'web' as const,
    reason: 'https://alice.example/.well-known/polkadot-registrar does not hold the line',
    until: Date.UTC(2027, 0, 15),
    statusUrl: `https://registrar.example/status/${ALICE}`,
    operator: { index: INDEX, name: 'Test Registrar' },
  });

  it('in its room with the proven Matrix ID: which field, why, until when, where to look; no code, no link to press', async () => {
    await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    const before = hs.sent.length;
    await channel.notify(notice(ALICE_MXID));
    const [told] = await sentAfter(before, (s) => s.length > 0);
    expect(told?.roomId).toBe(room);
    expect(told?.body).toContain(`The proof of its website is gone: ${notice(ALICE_MXID).reason}.`);
    expect(told?.body).toContain('Fri, 15 Jan 2027 00:00:00 GMT');
    expect(told?.body).toContain(`https://registrar.example/status/${ALICE}`);
    expect(told?.body).not.toMatch(/\/confirm\/|code [A-Z0-9]{8}/);
  });

  it('to a Matrix ID that left its room: invited back to that room, and told there alone', async () => {
    await challenge();
    const room = hs.roomWith(ALICE_MXID) ?? '';
    hs.join(room, ALICE_MXID);
    hs.leave(room, ALICE_MXID);
    const before = hs.sent.length;
    await channel.notify(notice(ALICE_MXID));
    const [told] = await sentAfter(before, (s) => s.length > 0);
    expect(told?.roomId).toBe(room);
    expect(hs.membershipOf(room, ALICE_MXID)).toBe('invite');
    expect(hs.roomsCreated()).toHaveLength(1);
  });
});
