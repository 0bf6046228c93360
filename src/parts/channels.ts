/**
 * The channels part: one channel per configured way of proving a field. Adding a channel is one
 * file in channels/ and one line here. A channel's client library is loaded only when the channel
 * is configured: each costs the daemon tens of megabytes whether it is used or not.
 */
import type { RegistrarEntry } from '../chain/identity.js';
import { AccountChannel } from '../channels/account.js';
import type { Channel } from '../channels/channel.js';
import { DiscordAccounts, DiscordSignIn } from '../channels/discord.js';
import { GithubAccounts, GithubSignIn } from '../channels/github.js';
import { GistProof } from '../channels/github-gist.js';
import { PgpChannel } from '../channels/pgp.js';
import { ReviewChannel } from '../channels/review.js';
import { TwitterPostProof } from '../channels/twitter-post.js';
import { WebChannel } from '../channels/web.js';
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';

export async function buildChannels(config: Config, store: Store, log: Logger): Promise<Channel[]> {
  const channels: Channel[] = [];
  if (config.smtp) {
    const { EmailChannel } = await import('../channels/email.js');
    channels.push(
      new EmailChannel({
        smtpUrl: config.smtp.url.reveal(),
        from: config.smtp.from,
        publicUrl: config.publicUrl,
        timeoutMs: config.limits.deliveryTimeoutSeconds * 1000,
      }),
    );
  }
  if (config.matrix) {
    const { MatrixChannel } = await import('../channels/matrix.js');
    channels.push(new MatrixChannel({ settings: config.matrix, store, log, publicUrl: config.publicUrl }));
  }
  if (config.github || config.githubGists) {
    channels.push(
      new AccountChannel('github', {
        signIn: config.github && new GithubSignIn(config.github),
        post: config.githubGists && new GistProof(config.githubGists),
        accounts: new GithubAccounts(config.accountLookups.github),
      }),
    );
  }
  if (config.discord || config.discordBot) {
    const bot =
      config.discordBot &&
      new (await import('../channels/discord-bot.js')).DiscordBot(config.discordBot, log);
    const lookup = config.accountLookups.discord;
    channels.push(
      new AccountChannel('discord', {
        signIn: config.discord && new DiscordSignIn(config.discord),
        messenger: bot,
        accounts: lookup && new DiscordAccounts(lookup),
      }),
    );
  }
  if (config.twitter || config.twitterPosts) {
    const lookup = config.accountLookups.twitter;
    const x = config.twitter || lookup ? await import('../channels/twitter.js') : undefined;
    channels.push(
      new AccountChannel('twitter', {
        signIn: config.twitter && x && new x.TwitterSignIn(config.twitter),
        post: config.twitterPosts && new TwitterPostProof(config.twitterPosts.oembedUrl),
        accounts: lookup && x && new x.XAccounts(lookup),
      }),
    );
  }
  if (config.web) channels.push(new WebChannel(config.web));
  if (config.pgp) channels.push(new PgpChannel(config.registrar.index, config.pgpKeyServer));
  for (const field of config.reviewFields) channels.push(new ReviewChannel(field, log));
  return channels;
}

/** Says when the on-chain mask names fields no configured channel proves. */
export function reportUnprovable(entry: RegistrarEntry, channels: readonly Channel[], log: Logger): void {
  const unverifiable = entry.fields.filter((f) => f !== 'display' && !channels.some((c) => c.field === f));
  if (unverifiable.length > 0) {
    // The daemon still serves the other fields: an operator may be rotating a bot's credentials.
    log.error(
      { fields: unverifiable },
      'the registrar mask names fields no configured channel proves; requests with them stay open',
    );
  }
}
