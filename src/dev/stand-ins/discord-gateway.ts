/**
 * A small local Discord for the discord.js bot, as Discord documents it: REST under /api/v10
 * (GET /gateway/bot → the gateway's URL; GET /guilds/{id}/members/search; POST /users/@me/channels
 * to open a DM, 403 with code 50007 for a member who does not accept DMs; POST /channels/{id}/messages;
 * GET /users/{id}, 404 with code 10013 for an unknown user)
 * and a gateway WebSocket (op 10 HELLO, op 2 IDENTIFY → READY, op 1 heartbeats → op 11, MESSAGE_CREATE
 * dispatches for what a member writes to the bot). In dev mode (`everyoneIsMember`) every user name
 * searched for is a member who accepts DMs, and `oauth` serves the sign-in's API calls (token, users/@me)
 * on the same host, as discord.com serves both.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { OAuthServer } from './oauth-server.js';

export interface Member {
  id: string;
  username: string;
  /** Whether they accept direct messages from the server's members. */
  openDms: boolean;
}

export interface SentDm {
  to: string;
  channelId: string;
  content: string;
}

const BOT = {
  id: '1000000000000000001',
  username: 'registrar',
  discriminator: '0',
  bot: true,
  global_name: null,
};

export class TestDiscord {
  readonly members = new Map<string, Member>();
  /** Discord accounts beyond the server's members, by ID (GET /users/{id} finds members too). */
  readonly users = new Map<string, { username: string; discriminator?: string }>();
  readonly sent: SentDm[] = [];
  readonly guildId = '2000000000000000002';
  /** The bot's token, when the test names one: any other "Bot …" token is refused (401). */
  botToken: string | undefined;
  /** Dev mode: whoever is searched for is a member with open DMs. */
  everyoneIsMember = false;
  /** Dev mode: the Discord sign-in stand-in whose API this host also serves. */
  oauth: OAuthServer | undefined;
  /** REST calls, as "METHOD path". */
  readonly calls: string[] = [];
  private readonly sockets = new Set<WebSocket>();
  private readonly dmChannels = new Map<string, string>();
  private sequence = 0;
  private waiting: (() => void)[] = [];

  private constructor(
    private readonly http: Server,
    private readonly gateway: WebSocketServer,
  ) {}

  static async start(): Promise<TestDiscord> {
    const http = createServer();
    const gateway = new WebSocketServer({ noServer: true });
    const discord = new TestDiscord(http, gateway);
    http.on('request', (req, res) => {
      discord.rest(req, res).catch(() => res.writeHead(500).end());
    });
    http.on('upgrade', (req, socket, head) => {
      gateway.handleUpgrade(req, socket, head, (ws) => discord.connected(ws));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return discord;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  env(token: string): Record<string, string> {
    return {
      REGISTRAR_DISCORD_BOT_TOKEN: token,
      REGISTRAR_DISCORD_GUILD_ID: this.guildId,
      REGISTRAR_DISCORD_API_URL: `${this.url}/api/v10`,
    };
  }

  /** Resolves when a bot is connected and identified. */
  async ready(): Promise<void> {
    if (this.sockets.size > 0) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** The next direct message to `memberId` after `after` were sent. */
  async nextDmTo(memberId: string, after = 0, timeoutMs = 20_000): Promise<SentDm> {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
      const found = this.sent.filter((m) => m.to === memberId)[after];
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no direct message to ${memberId} within ${timeoutMs} ms`);
  }

  /** `member` writes `content` to the bot in their DM channel (created if need be). */
  say(member: Member, content: string): void {
    const channelId = this.dmChannelOf(member.id);
    this.dispatch('MESSAGE_CREATE', {
      id: String(BigInt(Date.now()) * 1000n + BigInt(this.sequence)),
      channel_id: channelId,
      // Discord names the channel's type in message events; discord.js needs it for an uncached DM.
      channel_type: 1,
      author: {
        id: member.id,
        username: member.username,
        discriminator: '0',
        global_name: null,
        avatar: null,
      },
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      pinned: false,
      type: 0,
    });
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.gateway.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** The member with this user name, if any. */
  memberNamed(username: string): Member | undefined {
    return [...this.members.values()].find((m) => m.username.toLowerCase() === username.toLowerCase());
  }

  private dmChannelOf(memberId: string): string {
    let channel = this.dmChannels.get(memberId);
    if (!channel) {
      channel = String(3000000000000000000n + BigInt(this.dmChannels.size + 1));
      this.dmChannels.set(memberId, channel);
    }
    return channel;
  }

  private dispatch(t: string, d: unknown): void {
    this.sequence += 1;
    for (const ws of this.sockets) ws.send(JSON.stringify({ op: 0, t, s: this.sequence, d }));
  }

  private connected(ws: WebSocket): void {
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 } }));
    ws.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: unknown };
      if (payload.op === 1) ws.send(JSON.stringify({ op: 11 }));
      if (payload.op === 2) {
        this.sockets.add(ws);
        this.sequence += 1;
        ws.send(
          JSON.stringify({
            op: 0,
            t: 'READY',
            s: this.sequence,
            d: {
              v: 10,
              user: BOT,
              guilds: [],
              session_id: randomUUID(),
              resume_gateway_url: this.url.replace('http', 'ws'),
              application: { id: BOT.id, flags: 0 },
            },
          }),
        );
        for (const resolve of this.waiting.splice(0)) resolve();
      }
    });
    ws.on('close', () => this.sockets.delete(ws));
  }

  private async rest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const route = `${req.method} ${url.pathname}`;
    // A bot's calls carry "Bot <token>"; the sign-in's carry client credentials or a user's Bearer token.
    if (this.oauth && !/^Bot /.test(req.headers.authorization ?? '')) return this.oauth.handle(req, res);
    this.calls.push(route);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body =
      chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>) : {};
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    const auth = req.headers.authorization ?? '';
    if (!/^Bot /.test(auth) || (this.botToken !== undefined && auth !== `Bot ${this.botToken}`))
      return void json(401, { message: '401: Unauthorized', code: 0 });
    if (route === 'GET /api/v10/gateway/bot') {
      return void json(200, {
        url: this.url.replace('http', 'ws'),
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (route === `GET /api/v10/guilds/${this.guildId}/members/search`) {
      const query = (url.searchParams.get('query') ?? '').toLowerCase();
      if (this.everyoneIsMember && /^[\w.]{2,32}$/.test(query) && !this.memberNamed(query)) {
        const id = String(4000000000000000000n + BigInt(this.members.size + 1));
        this.members.set(id, { id, username: query, openDms: true });
      }
      const found = [...this.members.values()].filter((m) => m.username.toLowerCase().startsWith(query));
      return void json(
        200,
        found.map((m) => ({
          user: { id: m.id, username: m.username, discriminator: '0', global_name: null, avatar: null },
          roles: [],
          joined_at: new Date().toISOString(),
          deaf: false,
          mute: false,
          flags: 0,
        })),
      );
    }
    const user = /^GET \/api\/v10\/users\/(\d+)$/.exec(route)?.[1];
    if (user) {
      const found = this.users.get(user) ?? this.members.get(user);
      if (!found) return void json(404, { message: 'Unknown User', code: 10013 });
      return void json(200, {
        id: user,
        username: found.username,
        discriminator: ('discriminator' in found && found.discriminator) || '0',
        global_name: null,
        avatar: null,
      });
    }
    if (route === 'POST /api/v10/users/@me/channels') {
      const member = [...this.members.values()].find((m) => m.id === body.recipient_id);
      if (!member) return void json(404, { message: 'Unknown User', code: 10013 });
      const id = this.dmChannelOf(member.id);
      return void json(200, {
        id,
        type: 1,
        last_message_id: null,
        recipients: [
          { id: member.id, username: member.username, discriminator: '0', global_name: null, avatar: null },
        ],
      });
    }
    const send = /^POST \/api\/v10\/channels\/(\d+)\/messages$/.exec(route);
    if (send) {
      const to = [...this.dmChannels].find(([, channel]) => channel === send[1])?.[0] ?? '';
      const member = [...this.members.values()].find((m) => m.id === to);
      if (member && !member.openDms) {
        return void json(403, { message: 'Cannot send messages to this user', code: 50007 });
      }
      this.sent.push({ to, channelId: send[1] ?? '', content: String(body.content ?? '') });
      return void json(200, {
        id: String(Date.now()),
        channel_id: send[1],
        author: BOT,
        content: body.content,
        timestamp: new Date().toISOString(),
        type: 0,
        attachments: [],
        embeds: [],
        mentions: [],
        mention_roles: [],
        pinned: false,
        tts: false,
        mention_everyone: false,
        edited_timestamp: null,
      });
    }
    json(404, { message: '404: Not Found', code: 0 });
  }
}
