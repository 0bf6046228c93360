/**
 * Dev mode only: local stand-ins of every service the channels talk to, started together, with the
 * registrar's settings that point at them. A Matrix homeserver (the bot's direct messages), Discord
 * (the bot's gateway and REST, and its sign-in), GitHub and X sign-in (a form to pick the user
 * name), and a DNS server with a page to publish the web proof's TXT record. None of them checks a
 * password: they exist so that every proof can be tried from a browser on one machine, never to
 * be reached from elsewhere (they listen on 127.0.0.1 only).
 */
import { randomBytes } from 'node:crypto';
import * as tls from 'node:tls';
import { TestDiscord } from './discord-gateway.js';
import { TestHomeserver } from './matrix-server.js';
import { OAuthServer } from './oauth-server.js';
import { WebSite } from './web-site.js';

/** A chat message the registrar's bot sent, as the mail catcher shows it. */
export interface ChatMessage {
  service: 'Matrix' | 'Discord';
  to: string;
  text: string;
}

export interface StandIns {
  /** The registrar's settings for every stand-in. */
  env: Record<string, string>;
  /** Where a person publishes the web proof's TXT record. */
  dnsPageUrl: string;
  /** Why X sign-in is off, when it is (the X API is HTTPS only, and its authority must be trusted). */
  xMissing: string | undefined;
  /** Every chat message sent so far, oldest first. */
  chat(): ChatMessage[];
  /** What is running, for the line Ctrl-C prints. */
  names: string[];
  close(): Promise<void>;
}

/**
 * The X API stand-in listens with a certificate from a local authority; the registrar runs in this
 * process, so that authority joins the process's defaults. `tls.setDefaultCACertificates` is in
 * Node 22.19 and later; before, X sign-in stays off and the reason is printed.
 */
function trust(caPem: string): string | undefined {
  const api = tls as unknown as {
    setDefaultCACertificates?: (certs: string[]) => void;
    getCACertificates?: (kind: 'default') => string[];
  };
  if (!api.setDefaultCACertificates || !api.getCACertificates) {
    return `X sign-in needs Node 22.19 or later in dev mode (this is ${process.version})`;
  }
  api.setDefaultCACertificates([...api.getCACertificates('default'), caPem]);
  return undefined;
}

export async function startStandIns(): Promise<StandIns> {
  const closers: (() => Promise<void>)[] = [];
  try {
    const homeserver = await TestHomeserver.start();
    closers.push(() => homeserver.close());
    const github = await OAuthServer.start('github');
    closers.push(() => github.close());
    const discordSignIn = await OAuthServer.start('discord');
    closers.push(() => discordSignIn.close());
    const discord = await TestDiscord.start();
    closers.push(() => discord.close());
    const dns = await WebSite.dnsOnly();
    closers.push(() => dns.close());
    const dnsPageUrl = await dns.servePublishPage();
    for (const service of [github, discordSignIn]) service.askName = true;
    discord.everyoneIsMember = true;
    discord.oauth = discordSignIn;

    let x: OAuthServer | undefined;
    let xMissing: string | undefined;
    try {
      x = await OAuthServer.start('x');
      closers.push(() => x?.close() ?? Promise.resolve());
      x.askName = true;
      const { readFileSync } = await import('node:fs');
      xMissing = trust(readFileSync(x.caFile ?? '', 'utf8'));
    } catch (error) {
      // openssl makes the authority; without it there is no HTTPS stand-in.
      xMissing = `X sign-in is off: its HTTPS stand-in did not start (${(error as Error).message.split('\n')[0]})`;
    }

    const env: Record<string, string> = {
      REGISTRAR_MATRIX_HOMESERVER: homeserver.url,
      REGISTRAR_MATRIX_USER: homeserver.bot,
      REGISTRAR_MATRIX_ACCESS_TOKEN: homeserver.token,
      REGISTRAR_MATRIX_DEVICE_ID: 'DEVREGISTRAR',
      ...github.env(),
      // Gists and posts would need pages to publish them on; the stand-ins offer sign-in alone.
      REGISTRAR_GITHUB_GIST_PROOFS: 'false',
      ...discordSignIn.env(),
      ...discord.env(`dev-bot-${randomBytes(8).toString('hex')}`),
      // The bot and the sign-in's API share discord.com, as here.
      REGISTRAR_DISCORD_API_URL: `${discord.url}/api/v10`,
      ...(x && !xMissing ? { ...x.env(), REGISTRAR_TWITTER_POST_PROOFS: 'false' } : {}),
      REGISTRAR_WEB_DNS_SERVERS: `127.0.0.1:${dns.dnsPort}`,
    };
    const chat = (): ChatMessage[] => [
      ...homeserver.sent.map((m) => ({
        service: 'Matrix' as const,
        to: homeserver.peopleIn(m.roomId).join(', ') || m.roomId,
        text: m.body,
      })),
      ...discord.sent.map((m) => ({
        service: 'Discord' as const,
        to: discord.members.get(m.to)?.username ?? m.to,
        text: m.content,
      })),
    ];
    const names = [
      'the Matrix homeserver',
      'Discord',
      'GitHub sign-in',
      ...(x ? ['X sign-in'] : []),
      'the DNS server',
    ];
    return {
      env,
      dnsPageUrl,
      xMissing,
      chat,
      names,
      close: async () => {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}
