/**
 * A small Matrix homeserver for tests: the Client-Server API endpoints that matrix-js-sdk calls for
 * a bot (versions, pushrules, capabilities, filter, long-poll sync with next_batch, login, whoami,
 * createRoom, send, join, joined_members), as the specification documents them, with per-room
 * timelines. Knobs make it answer 429 M_LIMIT_EXCEEDED with retry_after_ms, drop a sync, or go down.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface RoomEvent {
  event_id: string;
  type: string;
  sender: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  seq: number;
}

interface Room {
  id: string;
  creator: string;
  invited: string[];
  events: RoomEvent[];
}

export interface SentMessage {
  roomId: string;
  sender: string;
  body: string;
}

export class TestHomeserver {
  readonly rooms = new Map<string, Room>();
  readonly sent: SentMessage[] = [];
  /** Every request, as "METHOD /path", for tests that check what the bot did (e.g. logins). */
  readonly requests: string[] = [];
  private seq = 0;
  private rateLimits: { count: number; retryAfterMs: number } = { count: 0, retryAfterMs: 0 };
  private dropSyncs = 0;
  /** While true, every request loses its connection, as with a homeserver that is down. */
  down = false;
  private waiters: (() => void)[] = [];
  private devices = 0;

  private constructor(
    private readonly server: Server,
    readonly bot: string,
    readonly token: string,
  ) {}

  static async start(bot = '@registrar:localhost', token = 'bot-access-token'): Promise<TestHomeserver> {
    const server = createServer();
    const homeserver = new TestHomeserver(server, bot, token);
    server.on('request', (request, response) => {
      homeserver.handle(request, response).catch((error: unknown) => {
        response.writeHead(500).end(JSON.stringify({ errcode: 'M_UNKNOWN', error: String(error) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return homeserver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `count` createRoom/send calls answer 429 with `retryAfterMs`. */
  rateLimit(count: number, retryAfterMs: number): void {
    this.rateLimits = { count, retryAfterMs };
  }

  /** The next `count` sync requests lose their connection without an answer. */
  dropNextSyncs(count: number): void {
    this.dropSyncs = count;
  }

  /** `sender` writes `body` in `roomId`, as the homeserver would relay it. */
  say(roomId: string, sender: string, body: string): string {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    return this.append(room, { type: 'm.room.message', sender, content: { msgtype: 'm.text', body } });
  }

  /** `user` accepts the bot's invitation to `roomId`. */
  join(roomId: string, user: string): void {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    this.append(room, {
      type: 'm.room.member',
      sender: user,
      state_key: user,
      content: { membership: 'join' },
    });
  }

  /** The direct room the bot opened with `user`, once it exists. */
  roomWith(user: string): string | undefined {
    return [...this.rooms.values()].find((room) => room.invited.includes(user))?.id;
  }

  /** Resolves with the next message the bot sends into a room shared with `user`. */
  async nextMessageTo(user: string, after = 0, timeoutMs = 20_000): Promise<SentMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.sent.slice(after).find((m) => this.rooms.get(m.roomId)?.invited.includes(user));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no Matrix message to ${user} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private append(room: Room, event: Omit<RoomEvent, 'event_id' | 'origin_server_ts' | 'seq'>): string {
    const seq = ++this.seq;
    const full = { ...event, event_id: `$event${seq}`, origin_server_ts: Date.now(), seq };
    room.events.push(full);
    for (const wake of this.waiters.splice(0)) wake();
    return full.event_id;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const path = decodeURIComponent(url.pathname);
    if (this.down) {
      request.socket.destroy();
      return;
    }
    this.requests.push(`${request.method} ${url.pathname}`);
    const body = await readBody(request);
    const send = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (path === '/_matrix/client/versions') return send(200, { versions: ['v1.11', 'v1.12'] });
    if (path === '/_matrix/client/v3/login' && request.method === 'POST') {
      const login = body as { password?: string; device_id?: string };
      if (login.password !== 'bot-password')
        return send(403, { errcode: 'M_FORBIDDEN', error: 'Invalid password' });
      const deviceId = login.device_id ?? `DEVICE${++this.devices}`;
      return send(200, { user_id: this.bot, access_token: this.token, device_id: deviceId });
    }
    if (request.headers.authorization !== `Bearer ${this.token}`) {
      return send(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Unknown access token' });
    }
    if (path === '/_matrix/client/v3/account/whoami') return send(200, { user_id: this.bot });
    if (path === '/_matrix/client/v3/pushrules/') return send(200, { global: {} });
    if (path === '/_matrix/client/v3/capabilities') return send(200, { capabilities: {} });
    if (/^\/_matrix\/client\/v3\/user\/[^/]+\/filter$/.test(path)) return send(200, { filter_id: 'f1' });
    if (path === '/_matrix/client/v3/sync') return this.sync(url, response, send);
    const limited = (): boolean => {
      if (this.rateLimits.count <= 0) return false;
      this.rateLimits.count--;
      send(429, {
        errcode: 'M_LIMIT_EXCEEDED',
        error: 'Too many requests',
        retry_after_ms: this.rateLimits.retryAfterMs,
      });
      return true;
    };
    if (path === '/_matrix/client/v3/createRoom' && request.method === 'POST') {
      if (limited()) return;
      const options = body as { invite?: string[]; is_direct?: boolean };
      const room: Room = {
        id: `!room${this.rooms.size + 1}:localhost`,
        creator: this.bot,
        invited: options.invite ?? [],
        events: [],
      };
      this.rooms.set(room.id, room);
      this.append(room, {
        type: 'm.room.create',
        sender: this.bot,
        state_key: '',
        content: { creator: this.bot },
      });
      this.append(room, {
        type: 'm.room.member',
        sender: this.bot,
        state_key: this.bot,
        content: { membership: 'join' },
      });
      for (const user of room.invited) {
        this.append(room, {
          type: 'm.room.member',
          sender: this.bot,
          state_key: user,
          content: { membership: 'invite', is_direct: options.is_direct === true },
        });
      }
      return send(200, { room_id: room.id });
    }
    const sendMatch = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/.exec(path);
    if (sendMatch && request.method === 'PUT') {
      if (limited()) return;
      const room = this.rooms.get(sendMatch[1] ?? '');
      if (!room) return send(404, { errcode: 'M_NOT_FOUND', error: 'Unknown room' });
      const content = body as { body?: string };
      this.sent.push({ roomId: room.id, sender: this.bot, body: String(content.body ?? '') });
      const eventId = this.append(room, {
        type: sendMatch[2] ?? '',
        sender: this.bot,
        content: content as Record<string, unknown>,
      });
      return send(200, { event_id: eventId });
    }
    const joinMatch = /^\/_matrix\/client\/v3\/join\/([^/]+)$/.exec(path);
    if (joinMatch && request.method === 'POST') return send(200, { room_id: joinMatch[1] });
    const membersMatch = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/joined_members$/.exec(path);
    if (membersMatch) {
      const room = this.rooms.get(membersMatch[1] ?? '');
      if (!room) return send(404, { errcode: 'M_NOT_FOUND', error: 'Unknown room' });
      const joined = room.events.filter((e) => e.type === 'm.room.member' && e.content.membership === 'join');
      return send(200, { joined: Object.fromEntries(joined.map((e) => [e.state_key, {}])) });
    }
    return send(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  }

  /** Long-poll sync: events after `since`, held for up to 300 ms while there are none. */
  private async sync(url: URL, response: ServerResponse, send: (status: number, value: unknown) => void) {
    if (this.dropSyncs > 0) {
      this.dropSyncs--;
      response.socket?.destroy();
      return;
    }
    const since = Number(url.searchParams.get('since')?.replace(/^s/, '') ?? '0');
    const timeout = Math.min(300, Number(url.searchParams.get('timeout') ?? '0'));
    if (this.seq <= since && timeout > 0) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, timeout);
      });
    }
    const join: Record<string, unknown> = {};
    for (const room of this.rooms.values()) {
      const events = room.events.filter((e) => e.seq > since).map(({ seq: _seq, ...event }) => event);
      if (events.length === 0) continue;
      join[room.id] = {
        timeline: { events, limited: false, prev_batch: `p${since}` },
        state: { events: [] },
        ephemeral: { events: [] },
        account_data: { events: [] },
        unread_notifications: {},
      };
    }
    send(200, {
      next_batch: `s${this.seq}`,
      rooms: { join, invite: {}, leave: {} },
      account_data: { events: [] },
      presence: { events: [] },
      to_device: { events: [] },
    });
  }
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
