/**
 * The channels part: one channel per configured way of proving a field. Adding a channel is one
 * file in channels/ and one line here. A channel's client library is loaded only when the channel
 * is configured: each costs the daemon tens of megabytes whether it is used or not.
 */
import type { RegistrarEntry } from '../chain/identity.js';
import { AccountChannel } from '../channels/account.js';
import type { Channel } from '../channels/channel.js';
import { DiscordSignIn } from '../channels/discord.js';
import { GithubSignIn } from '../channels/github.js';
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
      new AccountChannel(
        'github',
        config.github && new GithubSignIn(config.github),
        config.githubGists && new GistProof(config.githubGists),
      ),
    );
  }
  if (config.discord || config.discordBot) {
    const bot =
      config.discordBot &&
      new (await import('../channels/discord-bot.js')).DiscordBot(config.discordBot, log);
    channels.push(
      new AccountChannel('discord', config.discord && new DiscordSignIn(config.discord), undefined, bot),
    );
  }
  if (config.twitter || config.twitterPosts) {
    const signIn =
      config.twitter && new (await import('../channels/twitter.js')).TwitterSignIn(config.twitter);
    channels.push(
      new AccountChannel(
        'twitter',
        signIn,
        config.twitterPosts && new TwitterPostProof(config.twitterPosts.oembedUrl),
      ),
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
