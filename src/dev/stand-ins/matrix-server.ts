/**
 * A small Matrix homeserver for tests: the Client-Server API endpoints that matrix-js-sdk calls for
 * a bot (versions, pushrules, capabilities, filter, long-poll sync with next_batch, login, whoami,
 * createRoom, send, join, leave, invite, a member's state, joined_members), as the specification
 * documents them, with per-room timelines and membership: only joined members send and read state,
 * a user joins a room they are invited to, and /sync gives the bot its joined rooms' timelines, its
 * invites (with their stripped state) and the rooms it left. Knobs make it answer 429
 * M_LIMIT_EXCEEDED with retry_after_ms, drop a sync, hold calls without an answer, or go down.
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
  events: RoomEvent[];
}

type Membership = 'invite' | 'join' | 'leave' | 'ban';

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
  /** Requests to paths matching this are held without an answer, as by a homeserver that hangs. */
  hang: RegExp | undefined;
  /** How many held requests the client gave up on (closed the connection of). */
  abandoned = 0;
  /** Users whose server refuses invitations (an invite or a room created with one is refused). */
  readonly refuseInvites = new Set<string>();

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

  /** `sender` writes `body` in `roomId`, as the homeserver would relay it (only a joined member can). */
  say(roomId: string, sender: string, body: string, ts?: number): string {
    const room = this.room(roomId);
    if (this.membership(room, sender) !== 'join') throw new Error(`${sender} is not in ${roomId}`);
    return this.append(room, { type: 'm.room.message', sender, content: { msgtype: 'm.text', body } }, ts);
  }

  /** `sender` writes an end-to-end encrypted message, which the bot cannot read. */
  sayEncrypted(roomId: string, sender: string): string {
    const room = this.room(roomId);
    if (this.membership(room, sender) !== 'join') throw new Error(`${sender} is not in ${roomId}`);
    return this.append(room, {
      type: 'm.room.encrypted',
      sender,
      content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'AAAA', session_id: 's', device_id: 'D' },
    });
  }

  /** `user` accepts an invitation to `roomId` (a user can join only a room they are invited to). */
  join(roomId: string, user: string): void {
    const room = this.room(roomId);
    const now = this.membership(room, user);
    if (now !== 'invite' && now !== 'join') throw new Error(`${user} is not invited to ${roomId}`);
    this.setMember(room, user, user, 'join');
  }

  /** `user` leaves `roomId`, or rejects its invitation: either way their membership becomes leave. */
  leave(roomId: string, user: string): void {
    this.setMember(this.room(roomId), user, user, 'leave');
  }

  /** `by`, a joined member, invites `user` into `roomId`. */
  invite(roomId: string, by: string, user: string, isDirect = false): void {
    const room = this.room(roomId);
    if (this.membership(room, by) !== 'join') throw new Error(`${by} is not in ${roomId}`);
    this.setMember(room, by, user, 'invite', isDirect ? { is_direct: true } : {});
  }

  /** `user` opens a room of their own and invites `invitee` (the bot) to it, as a direct chat or not. */
  openRoom(user: string, invitee: string, isDirect = true): string {
    const room: Room = { id: `!room${this.rooms.size + 1}:localhost`, creator: user, events: [] };
    this.rooms.set(room.id, room);
    this.append(room, { type: 'm.room.create', sender: user, state_key: '', content: { creator: user } });
    this.setMember(room, user, user, 'join');
    this.invite(room.id, user, invitee, isDirect);
    return room.id;
  }

  /** Who besides the bot is invited to or in `roomId` (the dev mail catcher names them). */
  peopleIn(roomId: string): string[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    const users = new Set(
      room.events.flatMap((e) => (e.type === 'm.room.member' && e.state_key ? [e.state_key] : [])),
    );
    return [...users].filter((u) => {
      const membership = this.membership(room, u);
      return u !== this.bot && (membership === 'invite' || membership === 'join');
    });
  }

  /** The latest membership of `user` in the room, from its m.room.member state. */
  membershipOf(roomId: string, user: string): Membership | undefined {
    return this.membership(this.room(roomId), user);
  }

  /** The direct room the bot opened with `user` (the newest), once it exists. */
  roomWith(user: string): string | undefined {
    return [...this.rooms.values()]
      .filter((room) => room.creator === this.bot && this.membership(room, user) !== undefined)
      .at(-1)?.id;
  }

  /** Rooms the bot created. */
  roomsCreated(): string[] {
    return [...this.rooms.values()].filter((room) => room.creator === this.bot).map((room) => room.id);
  }

  /** Resolves with the next message the bot sends into a room shared with `user`. */
  async nextMessageTo(user: string, after = 0, timeoutMs = 20_000): Promise<SentMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.sent.slice(after).find((m) => {
        const room = this.rooms.get(m.roomId);
        return room !== undefined && this.membership(room, user) !== undefined;
      });
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

  private room(roomId: string): Room {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    return room;
  }

  private membership(room: Room, user: string): Membership | undefined {
    const event = room.events.findLast((e) => e.type === 'm.room.member' && e.state_key === user);
    return event?.content.membership as Membership | undefined;
  }

  private setMember(
    room: Room,
    sender: string,
    user: string,
    membership: Membership,
    extra: Record<string, unknown> = {},
  ): string {
    return this.append(room, {
      type: 'm.room.member',
      sender,
      state_key: user,
      content: { membership, ...extra },
    });
  }

  private append(
    room: Room,
    event: Omit<RoomEvent, 'event_id' | 'origin_server_ts' | 'seq'>,
    ts = Date.now(),
  ): string {
    const seq = ++this.seq;
    const full = { ...event, event_id: `$event${seq}`, origin_server_ts: ts, seq };
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
    if (this.hang?.test(path)) {
      response.on('close', () => {
        if (!response.writableEnded) this.abandoned++;
      });
      return;
    }
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
    const forbidden = (error: string) => send(403, { errcode: 'M_FORBIDDEN', error });
    if (path === '/_matrix/client/v3/createRoom' && request.method === 'POST') {
      if (limited()) return;
      const options = body as { invite?: string[]; is_direct?: boolean };
      if (options.invite?.some((user) => this.refuseInvites.has(user)))
        return forbidden('The invitee refused the invitation');
      const room: Room = { id: `!room${this.rooms.size + 1}:localhost`, creator: this.bot, events: [] };
      this.rooms.set(room.id, room);
      this.append(room, {
        type: 'm.room.create',
        sender: this.bot,
        state_key: '',
        content: { creator: this.bot },
      });
      this.setMember(room, this.bot, this.bot, 'join');
      for (const user of options.invite ?? []) {
        this.setMember(room, this.bot, user, 'invite', { is_direct: options.is_direct === true });
      }
      return send(200, { room_id: room.id });
    }
    const roomMatch = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/(.+)$/.exec(path);
    const room = roomMatch ? this.rooms.get(roomMatch[1] ?? '') : undefined;
    const action = roomMatch?.[2] ?? '';
    if (roomMatch && !room) return send(404, { errcode: 'M_NOT_FOUND', error: 'Unknown room' });
    const sendMatch = /^send\/([^/]+)\/([^/]+)$/.exec(action);
    if (room && sendMatch && request.method === 'PUT') {
      if (limited()) return;
      if (this.membership(room, this.bot) !== 'join') return forbidden('You are not in this room');
      const content = body as { body?: string };
      this.sent.push({ roomId: room.id, sender: this.bot, body: String(content.body ?? '') });
      const eventId = this.append(room, {
        type: sendMatch[1] ?? '',
        sender: this.bot,
        content: content as Record<string, unknown>,
      });
      return send(200, { event_id: eventId });
    }
    const joinMatch = /^\/_matrix\/client\/v3\/join\/([^/]+)$/.exec(path);
    if (joinMatch && request.method === 'POST') {
      const target = this.rooms.get(joinMatch[1] ?? '');
      if (!target) return send(404, { errcode: 'M_NOT_FOUND', error: 'Unknown room' });
      const now = this.membership(target, this.bot);
      if (now !== 'invite' && now !== 'join') return forbidden('You are not invited to this room');
      this.setMember(target, this.bot, this.bot, 'join');
      return send(200, { room_id: target.id });
    }
    if (room && action === 'leave' && request.method === 'POST') {
      if (this.membership(room, this.bot) === undefined) return forbidden('You are not in this room');
      this.setMember(room, this.bot, this.bot, 'leave');
      return send(200, {});
    }
    if (room && action === 'invite' && request.method === 'POST') {
      if (limited()) return;
      const { user_id: user } = body as { user_id?: string };
      if (this.membership(room, this.bot) !== 'join') return forbidden('You are not in this room');
      const now = user ? this.membership(room, user) : undefined;
      if (!user || now === 'join' || now === 'ban' || this.refuseInvites.has(user))
        return forbidden(`${user} cannot be invited`);
      this.setMember(room, this.bot, user, 'invite');
      return send(200, {});
    }
    const memberMatch = /^state\/m\.room\.member\/([^/]+)$/.exec(action);
    if (room && memberMatch && request.method === 'GET') {
      if (this.membership(room, this.bot) !== 'join') return forbidden('You are not in this room');
      const event = room.events.findLast((e) => e.type === 'm.room.member' && e.state_key === memberMatch[1]);
      if (!event) return send(404, { errcode: 'M_NOT_FOUND', error: 'Event not found' });
      return send(200, event.content);
    }
    if (room && action === 'joined_members') {
      if (this.membership(room, this.bot) !== 'join') return forbidden('You are not in this room');
      const joined = [...new Set(room.events.flatMap((e) => (e.state_key ? [e.state_key] : [])))].filter(
        (user) => this.membership(room, user) === 'join',
      );
      return send(200, { joined: Object.fromEntries(joined.map((user) => [user, {}])) });
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
    const invite: Record<string, unknown> = {};
    const leave: Record<string, unknown> = {};
    const strip = ({ type, sender, state_key, content }: RoomEvent) => ({ type, sender, state_key, content });
    const full = ({ seq: _seq, ...event }: RoomEvent) => event;
    for (const room of this.rooms.values()) {
      const own = room.events.findLast((e) => e.type === 'm.room.member' && e.state_key === this.bot);
      if (!own || own.seq <= since) {
        // Nothing new about the bot's membership: only a joined room has news (its timeline).
        if (own?.content.membership !== 'join') continue;
      }
      const membership = own?.content.membership;
      if (membership === 'invite') {
        // Stripped state: what the invitee may see of a room before joining it.
        const state = room.events.filter(
          (e) =>
            e.type === 'm.room.create' || (e.type === 'm.room.member' && e.content.membership === 'join'),
        );
        invite[room.id] = { invite_state: { events: [...state, own as RoomEvent].map(strip) } };
        continue;
      }
      const ownSeq = own?.seq ?? 0;
      // A room the bot left shows its timeline up to the leave; after it, nothing.
      const events = room.events.filter((e) => e.seq > since && (membership === 'join' || e.seq <= ownSeq));
      if (events.length === 0) continue;
      const section = membership === 'join' ? join : leave;
      section[room.id] = {
        timeline: { events: events.map(full), limited: false, prev_batch: `p${since}` },
        state: { events: [] },
        ...(membership === 'join'
          ? { ephemeral: { events: [] }, account_data: { events: [] }, unread_notifications: {} }
          : {}),
      };
    }
    send(200, {
      next_batch: `s${this.seq}`,
      rooms: { join, invite, leave },
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
