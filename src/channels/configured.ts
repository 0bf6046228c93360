/**
 * Which fields the configuration gives a channel for, and the setting that would give one: what
 * `config check` holds the on-chain mask against (parts/channels.ts builds the channels themselves).
 */
import type { Config } from '../config.js';
import type { Field } from '../domain/fields.js';

/** For each field a channel can prove: whether this configuration has one, and what to set if not. */
const WAYS: readonly { field: Field; configured: (config: Config) => boolean; setting: string }[] = [
  { field: 'email', configured: (c) => c.smtp !== undefined, setting: 'REGISTRAR_SMTP_URL' },
  { field: 'matrix', configured: (c) => c.matrix !== undefined, setting: 'REGISTRAR_MATRIX_HOMESERVER' },
  {
    field: 'github',
    configured: (c) => c.github !== undefined || c.githubGists !== undefined,
    setting: 'REGISTRAR_GITHUB_CLIENT_ID',
  },
  {
    field: 'discord',
    configured: (c) => c.discord !== undefined || c.discordBot !== undefined,
    setting: 'REGISTRAR_DISCORD_CLIENT_ID',
  },
  {
    field: 'twitter',
    configured: (c) => c.twitter !== undefined || c.twitterPosts !== undefined,
    setting: 'REGISTRAR_TWITTER_CLIENT_ID',
  },
  { field: 'web', configured: (c) => c.web !== undefined, setting: 'REGISTRAR_WEB_PROOFS' },
  { field: 'pgpFingerprint', configured: (c) => c.pgp, setting: 'REGISTRAR_PGP_PROOFS' },
  { field: 'legal', configured: (c) => c.reviewFields.includes('legal'), setting: 'REGISTRAR_REVIEW_FIELDS' },
  { field: 'image', configured: (c) => c.reviewFields.includes('image'), setting: 'REGISTRAR_REVIEW_FIELDS' },
];

/** The fields of `mask` no configured channel proves (the display name needs none), with the setting. */
export function unprovable(config: Config, mask: readonly Field[]): { field: Field; setting: string }[] {
  return WAYS.filter((way) => mask.includes(way.field) && !way.configured(config)).map(
    ({ field, setting }) => ({ field, setting }),
  );
}
