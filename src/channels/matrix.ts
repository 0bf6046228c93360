/**
 * The Matrix channel (matrix-js-sdk): the bot opens an unencrypted direct room with the MXID set on
 * chain (one per MXID, kept in the store and checked before each use), posts the challenge link and
 * a short code, and accepts the code as a reply from the on-chain MXID itself (the sender the
 * homeserver vouches for, never room state). It is nobody's tool: it joins only a direct chat that a
 * person with a live challenge opens with it, talks only in rooms kept for one MXID, reads a code
 * only where it is one (never ordinary chat), refuses once per sender and challenge, and its replies
 * count against the message limits. The bot signs in once: an operator-issued access token and
 * device, or a password login whose token and device are kept in the store and reused, so no start
 * ever makes a new device. It never initialises end-to-end encryption, so that people's clients
 * message it in the clear. Every call to the homeserver is bounded in time.
 */

import { createHash } from 'node:crypto';
import {
  ClientEvent,
  createClient,
  type MatrixClient,
  type MatrixEvent,
  Method,
  RoomEvent,
  RoomMemberEvent,
} from 'matrix-js-sdk';
import { type Logger as SdkLogger, logger as sdkRootLogger } from 'matrix-js-sdk/lib/logger.js';
import type { MatrixSettings } from '../config.js';
import type { ChannelMeans } from '../domain/answers.js';
import { type GraceNotice, graceNoticeText } from '../domain/grace-notice.js';
import { contactLine, registrarName } from '../domain/operator.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import {
  type ChallengeMessage,
  type Channel,
  type LiveChallenge,
  type ProofOutcome,
  type ProofSink,
  UndeliverableError,
} from './channel.js';

/** How often a rate-limited call is tried before the challenge counts as undelivered. */
const RATE_LIMIT_ATTEMPTS = 5;
/** The longest wait a homeserver's retry_after_ms is honoured for; longer ones fail the delivery. */
const MAX_RETRY_AFTER_MS = 60_000;
/** How long one call to the homeserver may take (the long-poll sync sets its own, longer, bound). */
const HOMESERVER_TIMEOUT_MS = 20_000;
/** Events older than this are not answered: after a long outage, the person sends again. */
const EVENT_MAX_AGE_MS = 2 * 86_400_000;
/** How long a handled event's ID is kept: longer than an event is answered at all. */
const EVENT_MEMORY_MS = EVENT_MAX_AGE_MS + 86_400_000;
/** What may be a code inside a message; it is tried, and answered only when it is one. */
const CODE_IN_TEXT = /\b([A-HJ-NP-Z2-9]{4})[\s-]?([A-HJ-NP-Z2-9]{4})\b/gi;
/** A message that is a code and nothing else: the only one a wrong code is answered (and counted) for. */
const CODE_ALONE = /^\s*([A-HJ-NP-Z2-9]{4})[\s-]?([A-HJ-NP-Z2-9]{4})\s*$/i;
/**
 * Whether a message that is code-shaped and nothing else was meant as a code: it has a digit, or is
 * written in capitals as codes are shown. "whatever" or "what else" alone is chat.
 */
const looksLikeCode = (body: string) => /\d/.test(body) || body === body.toUpperCase();
/** The most candidates one message is tried for. */
const MAX_CANDIDATES = 5;

interface Session {
  accessToken: string;
  deviceId: string;
}

/** The SDK logs room and user IDs at will; the registrar logs what it needs itself. */
const SILENT: SdkLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  getChild: () => SILENT,
};

/**
 * Parts of the SDK (MatrixRTC sessions, per room) log through its global logger straight to the
 * console, naming rooms and users. Its child loggers take their method factory from it when they
 * are made, so a silent factory set before the client starts covers them.
 */
function silenceSdkRootLogger(): void {
  const root = sdkRootLogger as unknown as { methodFactory: unknown; rebuild(): void };
  root.methodFactory = () => () => undefined;
  root.rebuild();
}

export interface MatrixChannelOptions {
  settings: MatrixSettings;
  store: Store;
  log: Logger;
  publicUrl: string;
  now?: () => number;
  /** How long one call to the homeserver may take; HOMESERVER_TIMEOUT_MS unless a test says less. */
  timeoutMs?: number;
}

type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export class MatrixChannel implements Channel {
  readonly field = 'matrix' as const;
  readonly means: readonly ChannelMeans[] = ['message', 'bot'];
  private client: MatrixClient | undefined;
  private sink: ProofSink | undefined;
  /** Answers are handled one at a time, in the order the homeserver delivered them. */
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: MatrixChannelOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(sink: ProofSink): Promise<void> {
    this.sink = sink;
    silenceSdkRootLogger();
    const { settings } = this.o;
    const session = await this.session();
    const client = createClient({
      baseUrl: settings.homeserver,
      userId: settings.user,
      accessToken: session.accessToken,
      deviceId: session.deviceId,
      logger: SILENT,
      localTimeoutMs: this.o.timeoutMs ?? HOMESERVER_TIMEOUT_MS,
    });
    this.client = client;
    client.on(RoomEvent.Timeline, (event, _room, toStartOfTimeline) => {
      if (toStartOfTimeline) return;
      this.enqueue(() => this.onMessage(event));
    });
    // The pull variant: a person with a live challenge opens a direct chat with the bot.
    client.on(RoomMemberEvent.Membership, (event, member) => {
      if (member.userId !== settings.user || member.membership !== 'invite') return;
      this.enqueue(() => this.onInvite(client, event, member.roomId));
    });
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'ERROR') this.o.log.warn({ channel: 'matrix' }, 'Matrix sync failing; retrying');
    });
    // A homeserver that is down delays the bot, not the daemon: the SDK keeps retrying the sync.
    await client.startClient({ initialSyncLimit: 20, lazyLoadMembers: true });
    this.o.log.info({ channel: 'matrix', device: session.deviceId }, 'Matrix bot started');
  }

  async send(message: ChallengeMessage): Promise<void> {
    await this.deliver(
      message.subject,
      [
        `The Polkadot/Kusama account ${message.account}${message.display ? ` ("${message.display}")` : ''} set this Matrix ID in its on-chain identity and asked ${registrarName(message.operator)} to verify it.`,
        '',
        `To confirm that this Matrix account belongs to that identity, open this link and press Confirm: ${message.link}`,
        `Or reply here with the code ${message.code}.`,
        '',
        `The link and the code work once and until ${new Date(message.expiresAt).toUTCString()}.`,
        'If you did not ask for this, ignore this message: nothing is confirmed unless you act.',
        ...[contactLine(message.operator)].filter((line) => line !== undefined),
      ].join('\n'),
    );
  }

  async notify(notice: GraceNotice): Promise<void> {
    await this.deliver(notice.subject, graceNoticeText(notice).text);
  }

  /** Posts `text` in the bot's 1:1 room with `subject`, which must be in it (or invited). */
  private async deliver(subject: string, text: string): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the Matrix bot is not started');
    let roomId: string;
    try {
      roomId = await this.roomWith(client, subject);
    } catch (error) {
      throw new Error(`Matrix message could not be sent (${describe(error)})`);
    }
    // Posted into a room the person is not in, a message reaches nobody: it is not delivered.
    const membership = await this.membership(client, roomId, subject).catch(() => undefined);
    if (membership !== 'join' && membership !== 'invite') {
      throw new UndeliverableError(
        'the Matrix ID is not in the room the message would be posted to',
        `Accept the invitation from ${this.o.settings.user}, or open a direct chat with it.`,
      );
    }
    try {
      await this.post(client, roomId, text);
    } catch (error) {
      throw new Error(`Matrix message could not be sent (${describe(error)})`);
    }
  }

  async forget(subject: string): Promise<void> {
    try {
      // Another request's challenge to the same Matrix ID still needs the room.
      if (this.sink && (await this.sink.liveChallenges('matrix', subject)).length > 0) return;
      const roomId = await this.o.store.getCheckpoint(roomKey(subject));
      if (roomId === undefined) return;
      await this.dropRoom(subject, roomId);
      this.o.log.info({ channel: 'matrix' }, 'Matrix room of a closed request forgotten');
    } catch (error) {
      this.o.log.warn({ channel: 'matrix', err: describe(error) }, 'Matrix room could not be forgotten');
    }
  }

  async close(): Promise<void> {
    this.client?.stopClient();
    this.client?.removeAllListeners();
    await this.queue;
  }

  /** The operator's token and device, or a stored login, or one new password login (kept). */
  private async session(): Promise<Session> {
    const { settings, store } = this.o;
    if (settings.accessToken && settings.deviceId) {
      return { accessToken: settings.accessToken.reveal(), deviceId: settings.deviceId };
    }
    const key = `matrix:session:${settings.user}`;
    const stored = await store.getCheckpoint(key);
    if (stored) return JSON.parse(stored) as Session;
    if (!settings.password) throw new Error('the Matrix bot has neither an access token nor a password');
    const login = createClient({
      baseUrl: settings.homeserver,
      logger: SILENT,
      localTimeoutMs: this.o.timeoutMs ?? HOMESERVER_TIMEOUT_MS,
    });
    const response = await this.rateLimited(() =>
      login.loginRequest({
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: settings.user },
        password: settings.password?.reveal() ?? '',
        initial_device_display_name: 'people-registrar',
        ...(settings.deviceId ? { device_id: settings.deviceId } : {}),
      }),
    );
    const session = { accessToken: response.access_token, deviceId: response.device_id };
    await store.setCheckpoint(key, JSON.stringify(session));
    return session;
  }

  /**
   * The direct room with `mxid`, checked before use: kept while the person is in it or invited;
   * invited again after they left or rejected the invitation; a new room when that fails.
   */
  private async roomWith(client: MatrixClient, mxid: string): Promise<string> {
    const known = await this.o.store.getCheckpoint(roomKey(mxid));
    if (known !== undefined) {
      // Refused (the bot is no longer in the room): a new one. A homeserver that fails otherwise
      // fails this delivery, which is tried again, rather than make a room per outage.
      const membership = await this.membership(client, known, mxid).catch((error: unknown) => {
        if (forbidden(error)) return 'gone' as const;
        throw error;
      });
      if (membership === 'join' || membership === 'invite') return known;
      if (membership === 'leave') {
        const invited = await this.rateLimited(() => client.invite(known, mxid)).then(
          () => true,
          (error: unknown) => {
            if (forbidden(error)) return false;
            throw error;
          },
        );
        if (invited) return known;
      }
      await this.dropRoom(mxid, known);
    }
    const { room_id: roomId } = await this.rateLimited(() =>
      client.createRoom({
        is_direct: true,
        invite: [mxid],
        preset: 'trusted_private_chat' as never,
        name: 'Identity verification',
      }),
    );
    await this.keepRoom(mxid, roomId);
    return roomId;
  }

  /** `user`'s membership of `roomId` (its m.room.member state), as the homeserver says it now. */
  private async membership(
    client: MatrixClient,
    roomId: string,
    user: string,
  ): Promise<Membership | undefined> {
    const path = `/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(user)}`;
    try {
      const content = await client.http.authedRequest<{ membership?: Membership }>(Method.Get, path);
      return content.membership;
    } catch (error) {
      if ((error as { errcode?: string }).errcode === 'M_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** Keeps `roomId` as the one room of `mxid` (both ways: the bot reads messages only in kept rooms). */
  private async keepRoom(mxid: string, roomId: string): Promise<void> {
    const old = await this.o.store.getCheckpoint(roomKey(mxid));
    if (old !== undefined && old !== roomId) await this.dropRoom(mxid, old);
    await this.o.store.setCheckpoint(roomKey(mxid), roomId);
    await this.o.store.setCheckpoint(ownerKey(roomId), mxid);
  }

  /** Forgets a room of `mxid` and leaves it (best effort: the bot talks in it no more either way). */
  private async dropRoom(mxid: string, roomId: string): Promise<void> {
    if ((await this.o.store.getCheckpoint(roomKey(mxid))) === roomId) {
      await this.o.store.deleteCheckpoint(roomKey(mxid));
    }
    await this.o.store.deleteCheckpoint(ownerKey(roomId));
    const client = this.client;
    if (client) await this.rateLimited(() => client.leave(roomId)).catch(() => undefined);
  }

  /** Sends a plain text message, outside the SDK's local-echo scheduler so 429s are ours to wait out. */
  private async post(client: MatrixClient, roomId: string, body: string): Promise<void> {
    const txnId = `reg-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    await this.rateLimited(() =>
      client.http.authedRequest(Method.Put, path, undefined, { msgtype: 'm.notice', body }),
    );
  }

  /** Runs `call`, waiting out M_LIMIT_EXCEEDED for as long as the homeserver's retry_after_ms says. */
  private async rateLimited<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const limited = error as { errcode?: string; getRetryAfterMs?: () => number | null };
        if (limited.errcode !== 'M_LIMIT_EXCEEDED' || attempt >= RATE_LIMIT_ATTEMPTS) throw error;
        const wait = limited.getRetryAfterMs?.() ?? 1_000;
        if (wait > MAX_RETRY_AFTER_MS) throw error;
        this.o.log.warn({ channel: 'matrix', waitMs: wait }, 'Matrix rate limit; waiting');
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.o.log.error({ channel: 'matrix', err: describe(error) }, 'Matrix event could not be handled');
    });
  }

  /**
   * An invitation: joined only when it is a direct chat from someone with a live challenge, and
   * the room holds no one else; declined otherwise, so the bot is no one's member of any room.
   */
  private async onInvite(client: MatrixClient, event: MatrixEvent, roomId: string): Promise<void> {
    const inviter = event.getSender();
    const direct = event.getContent<{ is_direct?: unknown }>().is_direct === true;
    const wanted =
      inviter !== undefined &&
      direct &&
      this.sink !== undefined &&
      (await this.sink.liveChallenges('matrix', inviter)).length > 0;
    if (!wanted || inviter === undefined) {
      await this.rateLimited(() => client.leave(roomId)).catch(() => undefined);
      this.o.log.info({ channel: 'matrix' }, 'Matrix invitation declined');
      return;
    }
    await this.rateLimited(() =>
      client.http.authedRequest(Method.Post, `/join/${encodeURIComponent(roomId)}`, undefined, {}),
    );
    const { joined } = await client.http.authedRequest<{ joined: Record<string, unknown> }>(
      Method.Get,
      `/rooms/${encodeURIComponent(roomId)}/joined_members`,
    );
    const others = Object.keys(joined).filter((user) => user !== this.o.settings.user);
    if (others.length !== 1 || others[0] !== inviter) {
      await this.rateLimited(() => client.leave(roomId)).catch(() => undefined);
      this.o.log.info({ channel: 'matrix' }, 'Matrix invitation left: not a direct chat');
      return;
    }
    await this.keepRoom(inviter, roomId);
    this.o.log.info({ channel: 'matrix' }, 'Matrix direct chat joined');
  }

  /** The MXID a room is kept for; rooms kept before the reverse key existed are the sender's own. */
  private async ownerOf(roomId: string, sender: string): Promise<string | undefined> {
    const owner = await this.o.store.getCheckpoint(ownerKey(roomId));
    if (owner !== undefined) return owner;
    return (await this.o.store.getCheckpoint(roomKey(sender))) === roomId ? sender : undefined;
  }

  /**
   * A message in a room kept for one MXID (the owner): a code from the owner confirms; a code of the
   * owner's from anyone else is refused (and the refusal kept); anything else is chat and gets no
   * answer. Handled once per event ID; old events are not answered.
   */
  private async onMessage(event: MatrixEvent): Promise<void> {
    const client = this.client;
    const sink = this.sink;
    const sender = event.getSender();
    const eventId = event.getId();
    const roomId = event.getRoomId();
    if (!client || !sink || !sender || !eventId || !roomId || sender === this.o.settings.user) return;
    const type = event.getType();
    if (type !== 'm.room.message' && type !== 'm.room.encrypted') return;
    const now = this.now();
    if (event.getTs() < now - EVENT_MAX_AGE_MS) return;
    const owner = await this.ownerOf(roomId, sender);
    if (owner === undefined) return;
    // The SDK keeps no sync token across restarts, so the first sync replays recent events.
    const seenKey = `matrix:event:${eventId}`;
    if (await this.o.store.getCheckpoint(seenKey)) return;
    await this.o.store.setCheckpoint(seenKey, String(now), now + EVENT_MEMORY_MS);
    const live = await sink.liveChallenges('matrix', owner);
    if (live.length === 0) return;
    const reply = (text: string, once: boolean) =>
      this.reply(client, roomId, owner, sender, live, text, once);
    if (type === 'm.room.encrypted') {
      if (sender !== owner) return;
      await reply(
        'This message is encrypted and the registrar cannot read it. Please send the code in an unencrypted room with this bot, or open the link.',
        true,
      );
      return;
    }
    const body = event.getContent<{ body?: unknown }>().body;
    if (typeof body !== 'string') return;
    const alone = looksLikeCode(body) ? CODE_ALONE.exec(body) : null;
    const candidates = alone
      ? [`${alone[1]}${alone[2]}`]
      : [...body.matchAll(CODE_IN_TEXT)].slice(0, MAX_CANDIDATES).map((m) => `${m[1]}${m[2]}`);
    if (sender !== owner) {
      for (const code of candidates) {
        const refused = await sink.codeFromOther('matrix', owner, sender, code);
        if (refused && !refused.ok) {
          this.o.log.info({ channel: 'matrix', ok: false }, 'Matrix code answered');
          return reply(refused.message, true);
        }
      }
      return;
    }
    let last: ProofOutcome | undefined;
    for (const code of candidates) {
      // A wrong code counts (and is answered) only when the message was a code and nothing else.
      last = await sink.answerCode('matrix', owner, code, { countsWrong: alone !== null });
      if (last.ok) {
        this.o.log.info({ channel: 'matrix', ok: true }, 'Matrix code answered');
        return reply(
          `Confirmed: this Matrix account belongs to the identity of ${last.account}. See ${this.o.publicUrl}/status/${last.account}`,
          false,
        );
      }
    }
    if (alone && last && !last.ok) {
      this.o.log.info({ channel: 'matrix', ok: false }, 'Matrix code answered');
      await reply(last.message, true);
    }
  }

  /**
   * Replies in `owner`'s room, within the message limits (the reply is counted against the owner's
   * and the challenge's account's). `once`: a refusal, sent at most once per sender and challenge.
   */
  private async reply(
    client: MatrixClient,
    roomId: string,
    owner: string,
    sender: string,
    live: readonly LiveChallenge[],
    text: string,
    once: boolean,
  ): Promise<void> {
    const marks = live.map((c) => ({ key: repliedKey(c.id, sender), expiresAt: c.expiresAt }));
    if (once) {
      const replied = await Promise.all(marks.map((m) => this.o.store.getCheckpoint(m.key)));
      if (replied.every((value) => value !== undefined)) return;
    }
    const account = live[0]?.account;
    if (account === undefined || !(await this.sink?.allowReply(account, 'matrix', owner))) {
      this.o.log.info({ channel: 'matrix' }, 'Matrix reply held back by the message limits');
      return;
    }
    for (const mark of marks) await this.o.store.setCheckpoint(mark.key, '1', mark.expiresAt);
    await this.post(client, roomId, text);
  }
}

const roomKey = (mxid: string) => `matrix:room:${mxid}`;
const ownerKey = (roomId: string) => `matrix:owner:${roomId}`;
/** A sender's reply mark names no Matrix ID: it is kept until the challenge expires, not the request's retention. */
const repliedKey = (challengeId: string, sender: string) =>
  `matrix:replied:${challengeId}:${createHash('sha256').update(sender).digest('hex').slice(0, 32)}`;

/** The homeserver refused the call (403): the bot may not act in that room, or not for that user. */
function forbidden(error: unknown): boolean {
  return (error as { httpStatus?: number }).httpStatus === 403;
}

/** An error as a log line that names no user, room or token: the Matrix error code or HTTP status. */
function describe(error: unknown): string {
  const e = error as { errcode?: string; httpStatus?: number; name?: string };
  if (e.errcode) return `${e.errcode}${e.httpStatus ? ` ${e.httpStatus}` : ''}`;
  if (e.httpStatus) return `HTTP ${e.httpStatus}`;
  return e.name === 'ConnectionError' ? 'homeserver unreachable' : (e.name ?? 'error');
}
