/**
 * Discord, for registrars that run a community server: the discord.js bot finds the member whose
 * username the identity names, sends the challenge (link and code) by direct message, and takes the
 * code back by direct message from that account (Discord vouches for the sender). It listens with the
 * DirectMessages intent and the Channel partial, so a DM in a channel not cached since a restart
 * still arrives. Bots can message only members of a server they share who accept DMs from its
 * members (error 50007): then the person is told to open their DMs or to sign in instead.
 */
import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Message,
  Partials,
  RESTJSONErrorCodes,
  Routes,
} from 'discord.js';
import type { Secret } from '../config.js';
import { type GraceNotice, graceNoticeText } from '../domain/grace-notice.js';
import { contactLine, registrarName } from '../domain/operator.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import type { Messenger } from './account.js';
import { type ChallengeMessage, type Delivery, type ProofSink, UndeliverableError } from './channel.js';
import { discordSubjectOf } from './discord.js';

export interface DiscordBotSettings {
  token: Secret;
  /** The community server whose members the bot messages. */
  guildId: string;
  /** The REST API base without its version: https://discord.com/api. */
  apiUrl: string;
}

const CODE = /\b([A-HJ-NP-Z2-9]{8})\b/;
const DISCORD_CALL_TIMEOUT_MS = 15_000;

export class DiscordBot implements Messenger {
  private client: Client | undefined;

  constructor(
    private readonly settings: DiscordBotSettings,
    private readonly log: Logger,
  ) {}

  async start(sink: ProofSink): Promise<void> {
    const client = new Client({
      intents: [GatewayIntentBits.DirectMessages],
      partials: [Partials.Channel],
      // Every REST call (member search, DM, reply) gives up after 15 s: a stalled API holds no lane.
      rest: { api: this.settings.apiUrl, timeout: DISCORD_CALL_TIMEOUT_MS },
    });
    client.on(Events.MessageCreate, (message) => {
      this.heard(message, sink).catch((error: unknown) => {
        this.log.error({ err: errorText(error) }, 'Discord answer failed');
      });
    });
    await client.login(this.settings.token.reveal());
    this.client = client;
    this.log.info('Discord bot started');
  }

  private async heard(message: Message, sink: ProofSink): Promise<void> {
    if (message.author.bot || message.guildId !== null) return;
    const code = CODE.exec(message.content.toUpperCase())?.[1];
    if (!code) return;
    const subject = discordSubjectOf({
      username: message.author.username,
      discriminator: message.author.discriminator,
    });
    const outcome = subject
      ? await sink.answerCode('discord', subject, code, { serviceId: message.author.id })
      : { ok: false as const, message: 'This Discord account cannot be read by the registrar.' };
    this.log.info({ ok: outcome.ok }, 'Discord code answered');
    await message.reply(
      outcome.ok ? `Confirmed: this Discord account is proven for ${outcome.account}.` : outcome.message,
    );
  }

  async send(message: ChallengeMessage): Promise<Delivery> {
    const client = this.client;
    if (!client) throw new Error('the Discord bot is not started');
    const members = (await client.rest.get(Routes.guildMembersSearch(this.settings.guildId), {
      query: new URLSearchParams({ query: message.subject.split('#')[0] ?? '', limit: '10' }),
    })) as { user?: { id: string; username: string; discriminator?: string } }[];
    const member = members.find(
      (m) =>
        m.user &&
        discordSubjectOf({
          username: m.user.username,
          ...(m.user.discriminator ? { discriminator: m.user.discriminator } : {}),
        }) === message.subject,
    );
    if (!member?.user) {
      throw new UndeliverableError(
        'not a member of the server',
        "Join the registrar's Discord server so its bot can message you, or sign in with Discord instead.",
      );
    }
    const text = [
      `Account ${message.account}${message.display ? ` ("${message.display}")` : ''} asked ${registrarName(message.operator)} to verify this Discord account.`,
      `If that is you, open ${message.link} and press Confirm, or reply here with the code ${message.code}.`,
      'If not, ignore this message.',
      ...[contactLine(message.operator)].filter((line) => line !== undefined),
    ].join('\n');
    try {
      await client.users.send(member.user.id, text);
    } catch (error) {
      if (
        error instanceof DiscordAPIError &&
        error.code === RESTJSONErrorCodes.CannotSendMessagesToThisUser
      ) {
        throw new UndeliverableError(
          'Discord refused the direct message (50007)',
          "Open your direct messages to members of the registrar's Discord server, or sign in with Discord instead.",
        );
      }
      throw error;
    }
    return { serviceId: member.user.id };
  }

  /**
   * The grace's notice, by direct message to the member with the judged ID (renamed, still the
   * person's); a member who left the server or closed their DMs is not reached (50007), and the
   * notice is not delivered.
   */
  async notify(notice: GraceNotice): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('the Discord bot is not started');
    if (notice.serviceId === undefined) throw new Error('no Discord ID to write to');
    try {
      await client.users.send(notice.serviceId, graceNoticeText(notice).text);
    } catch (error) {
      throw new Error(
        `Discord message could not be sent (${error instanceof DiscordAPIError ? error.code : 'no answer'})`,
      );
    }
  }

  async close(): Promise<void> {
    await this.client?.destroy();
  }
}
