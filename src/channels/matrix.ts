/**
 * The Matrix channel (matrix-js-sdk): the bot opens an unencrypted direct room with the MXID set on
 * chain (one per MXID, kept in the store), posts the challenge link and a short code, and accepts
 * the code as a reply in any room it shares, only from the on-chain MXID itself (the sender the
 * homeserver vouches for, never room state). The bot signs in once: an operator-issued access token
 * and device, or a password login whose token and device are kept in the store and reused, so no
 * start ever makes a new device. It never initialises end-to-end encryption, so that people's
 * clients message it in the clear.
 */
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
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';
import type { ChallengeMessage, Channel, ProofSink } from './channel.js';

/** How often a rate-limited call is tried before the challenge counts as undelivered. */
const RATE_LIMIT_ATTEMPTS = 5;
/** The longest wait a homeserver's retry_after_ms is honoured for; longer ones fail the delivery. */
const MAX_RETRY_AFTER_MS = 60_000;
const CODE = /\b([A-HJ-NP-Z2-9]{4})[\s-]?([A-HJ-NP-Z2-9]{4})\b/i;
/** Outside its direct room with a person, the bot reads only a message that is a code and nothing else. */
const CODE_ALONE = /^\s*([A-HJ-NP-Z2-9]{4})[\s-]?([A-HJ-NP-Z2-9]{4})\s*$/i;

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
}

export class MatrixChannel implements Channel {
  readonly field = 'matrix' as const;
  readonly means: readonly ChannelMeans[] = ['message', 'bot'];
  private client: MatrixClient | undefined;
  private sink: ProofSink | undefined;
  /** Answers are handled one at a time, in the order the homeserver delivered them. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: MatrixChannelOptions) {}

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
    });
    this.client = client;
    client.on(RoomEvent.Timeline, (event, _room, toStartOfTimeline) => {
      if (toStartOfTimeline) return;
      this.enqueue(() => this.onMessage(event));
    });
    // The pull variant: a person who opens a direct chat with the bot is joined, then sends the code.
    client.on(RoomMemberEvent.Membership, (_event, member) => {
      if (member.userId !== settings.user || member.membership !== 'invite') return;
      this.enqueue(async () => {
        await this.rateLimited(() => client.joinRoom(member.roomId));
      });
    });
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'ERROR') this.o.log.warn({ channel: 'matrix' }, 'Matrix sync failing; retrying');
    });
    // A homeserver that is down delays the bot, not the daemon: the SDK keeps retrying the sync.
    await client.startClient({ initialSyncLimit: 20, lazyLoadMembers: true });
    this.o.log.info({ channel: 'matrix', device: session.deviceId }, 'Matrix bot started');
  }

  async send(message: ChallengeMessage): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the Matrix bot is not started');
    try {
      const roomId = await this.directRoom(client, message.subject);
      const text = [
        `The Polkadot/Kusama account ${message.account}${message.display ? ` ("${message.display}")` : ''} set this Matrix ID in its on-chain identity and asked registrar #${message.registrarIndex} to verify it.`,
        '',
        `To confirm that this Matrix account belongs to that identity, open this link and press Confirm: ${message.link}`,
        `Or reply here with the code ${message.code}.`,
        '',
        `The link and the code work once and until ${new Date(message.expiresAt).toUTCString()}.`,
        'If you did not ask for this, ignore this message: nothing is confirmed unless you act.',
      ].join('\n');
      await this.post(client, roomId, text);
    } catch (error) {
      throw new Error(`Matrix message could not be sent (${describe(error)})`);
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
    const login = createClient({ baseUrl: settings.homeserver, logger: SILENT });
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

  /** The unencrypted direct room with `mxid`, created once and remembered. */
  private async directRoom(client: MatrixClient, mxid: string): Promise<string> {
    const key = `matrix:room:${mxid}`;
    const known = await this.o.store.getCheckpoint(key);
    if (known) return known;
    const { room_id: roomId } = await this.rateLimited(() =>
      client.createRoom({
        is_direct: true,
        invite: [mxid],
        preset: 'trusted_private_chat' as never,
        name: 'Identity verification',
      }),
    );
    await this.o.store.setCheckpoint(key, roomId);
    return roomId;
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

  /** A message in a room the bot shares: a code from its sender, handled once per event ID. */
  private async onMessage(event: MatrixEvent): Promise<void> {
    const client = this.client;
    const sender = event.getSender();
    const eventId = event.getId();
    const roomId = event.getRoomId();
    if (!client || !this.sink || !sender || !eventId || !roomId || sender === this.o.settings.user) return;
    if (event.getType() !== 'm.room.message' && event.getType() !== 'm.room.encrypted') return;
    // The SDK keeps no sync token across restarts, so the first sync replays recent events.
    const seenKey = `matrix:event:${eventId}`;
    if (await this.o.store.getCheckpoint(seenKey)) return;
    await this.o.store.setCheckpoint(seenKey, String(Date.now()));
    if (event.getType() === 'm.room.encrypted') {
      await this.post(
        client,
        roomId,
        'This message is encrypted and the registrar cannot read it. Please send the code in an unencrypted room with this bot, or open the link.',
      );
      return;
    }
    const body = event.getContent<{ body?: unknown }>().body;
    // In the room the bot opened with this sender a code may come with words around it; anywhere else
    // ordinary chat must not read as one, nor wear down the sender's codes.
    const direct = (await this.o.store.getCheckpoint(`matrix:room:${sender}`)) === roomId;
    const match = typeof body === 'string' ? (direct ? CODE : CODE_ALONE).exec(body) : null;
    if (!match) return;
    const outcome = await this.sink.answerCode('matrix', sender, `${match[1]}${match[2]}`, direct);
    this.o.log.info({ channel: 'matrix', ok: outcome.ok }, 'Matrix code answered');
    await this.post(
      client,
      roomId,
      outcome.ok
        ? `Confirmed: this Matrix account belongs to the identity of ${outcome.account}. See ${this.o.publicUrl}/status/${outcome.account}`
        : outcome.message,
    );
  }
}

/** An error as a log line that names no user, room or token: the Matrix error code or HTTP status. */
function describe(error: unknown): string {
  const e = error as { errcode?: string; httpStatus?: number; name?: string };
  if (e.errcode) return `${e.errcode}${e.httpStatus ? ` ${e.httpStatus}` : ''}`;
  if (e.httpStatus) return `HTTP ${e.httpStatus}`;
  return e.name === 'ConnectionError' ? 'homeserver unreachable' : (e.name ?? 'error');
}
