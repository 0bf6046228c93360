/**
 * One schema for the registrar's configuration. Every setting has one name, used both as the
 * environment variable and as the key in the optional JSON config file (REGISTRAR_CONFIG); the
 * environment wins over the file. Errors name the setting and say what is expected, never the value
 * of a secret.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { decodeAddress } from '@polkadot/util-crypto';
import { z } from 'zod';

/** A secret value that cannot leak through logging, string interpolation or JSON. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; uri: Secret };

export interface Config {
  chain: { endpoints: string[] };
  registrar: { index: number; account: string; proxySeed: Secret };
  publicUrl: string;
  jwtSecret: Secret;
  challengeTtlSeconds: number;
  reconcileIntervalSeconds: number;
  /** How often every identity on chain is scanned, besides start-up, reconnects and gaps. */
  fullScanIntervalHours: number;
  store: StoreLocation;
  http: { host: string; port: number; trustProxy: boolean | string };
  smtp: { url: Secret; from: string } | undefined;
  policy: { kind: 'mask' | 'set'; extraFields: 'ignore' | 'block' };
  /**
   * Whether a registrar whose mask holds no account field may judge under the `mask` policy, that is
   * on the display-name check alone (off: start-up refuses such a mask).
   */
  allowDisplayOnly: boolean;
  matrix: MatrixSettings | undefined;
  /** "Sign in with GitHub": on when a client ID is set. */
  github: OAuthSettings | undefined;
  /** "Sign in with Discord": on when a client ID is set. */
  discord: OAuthSettings | undefined;
  /** "Sign in with X": on when a client ID is set. */
  twitter: OAuthSettings | undefined;
  /** The Discord bot of a community server: DMs the challenge to members and takes codes back. */
  discordBot: { token: Secret; guildId: string; apiUrl: string } | undefined;
  /** GitHub accounts proven by a public gist of the code (on by default; a token lifts the API limit). */
  githubGists: { apiUrl: string; token: Secret | undefined } | undefined;
  /** X accounts proven by a public post of the code, read through oEmbed (off by default). */
  twitterPosts: { oembedUrl: string } | undefined;
  /**
   * Where the sweep reads judged accounts again by the service's numeric ID: GitHub's public API
   * (always; the token lifts its limit), Discord with the bot's token, X with the app's bearer token.
   */
  accountLookups: {
    github: { apiUrl: string; token: Secret | undefined };
    discord: { apiUrl: string; token: Secret } | undefined;
    twitter: { apiUrl: string; bearerToken: Secret } | undefined;
  };
  /** Websites proven by a published code (on by default). */
  web: { dnsServers: string[]; allowLoopback: boolean } | undefined;
  /** How often published proofs (a website's line) are looked for without the person asking. */
  recheckSeconds: number;
  /**
   * Judged proofs checked again (the sweep, registrar/sweep.ts): each every `periodMs`, with
   * `graceMs` for the person to restore one that is gone. Undefined: off.
   */
  sweep: { periodMs: number; graceMs: number } | undefined;
  /** How long a live status stream may go without news before it is ended. */
  streamIdleSeconds: number;
  /** PGP fingerprints proven by a signature (on by default). */
  pgp: boolean;
  /** A VKS key server (keys.openpgp.org's interface) the sweep asks whether a judged key was revoked or expired. */
  pgpKeyServer: string | undefined;
  /** Fields the operator reviews by hand (legal name, image). */
  reviewFields: ('legal' | 'image')[];
  /**
   * Sanctions screening of legal names (and display names with `display`): the list fetched from
   * `url` every `refreshHours` by the instance that judges, or imported by the operator.
   */
  sanctions: { url: string | undefined; refreshHours: number; display: boolean };
  /** What keeps the registrar from being used against strangers (outbox.ts, proofs.ts, the pages). */
  limits: {
    messagesPerTargetPerDay: number;
    /** Messages to one mail domain a day, over every mailbox there. */
    messagesPerDomainPerDay: number;
    messagesPerAccountPerDay: number;
    messageCooldownSeconds: number;
    deliveryTimeoutSeconds: number;
    codeAttempts: number;
    requestsPerMinutePerIp: number;
  };
  /** Days a closed request's personal data is kept (0: deleted at once). */
  retentionDays: number;
  /**
   * Proving before paying (registrar/prepare.ts): how many hours a prepared request waits for the
   * request on chain before it is deleted, and how many may be started a day per account and per
   * client address. Off (undefined) with REGISTRAR_PREPARES_PER_ACCOUNT_PER_DAY=0.
   */
  preparing: { keptHours: number; perAccountPerDay: number; perClientPerDay: number } | undefined;
  /** Days after our Erroneous judgement during which an account's requests are not served (0: never refused). */
  refusalDays: number;
  /** One account per handle (domain/handles.ts): refuse a second account's proof, warn, or off. */
  oneAccountPerHandle: 'refuse' | 'warn' | 'off';
  /** The anonymous whitelist's target false-positive rate (docs/WHITELIST.md). */
  whitelistFpRate: number;
  /** How long the instance that judges and delivers holds its lease without renewing it. */
  leaseSeconds: number;
  /** The admin API: off without a token. */
  admin: { token: Secret; host: string; port: number } | undefined;
  /** Where `/metrics` is served: the public server (default) or the admin API, behind its token. */
  metricsOn: 'public' | 'admin';
  /** Who runs this registrar, as every page and message names it. */
  operator: OperatorSettings;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

/** Who runs the registrar: on every page and in every message. */
export interface OperatorSettings {
  /** The operator's name; absent, pages and messages say "registrar #N". */
  name: string | undefined;
  /** Where people reach the operator (an email address or a URL). */
  contact: string | undefined;
  /** The chain's name; absent, the name the chain gives itself. */
  chainName: string | undefined;
}

/** What the operator's commands need to reach the running daemon, and nothing else. */
export interface AdminClientSettings {
  url: string;
  token: Secret;
}

/** An OAuth application registered with a service, and where the service lives. */
export interface OAuthSettings {
  clientId: string;
  clientSecret: Secret;
  oauthUrl: string;
  apiUrl: string;
}

/** The Matrix bot: an operator-issued access token and its device, or a password login done once. */
export interface MatrixSettings {
  homeserver: string;
  user: string;
  accessToken: Secret | undefined;
  deviceId: string | undefined;
  password: Secret | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int({ error: `expected a whole number from ${min} to ${max}` })
    .min(min, { error: `expected a whole number from ${min} to ${max}` })
    .max(max, { error: `expected a whole number from ${min} to ${max}` });

const websocketUrl = z.string().refine((value) => /^wss?:\/\/[^\s/]+/.test(value), {
  error: 'expected a ws:// or wss:// URL',
});

const endpointList = z
  .union([z.array(z.string()), z.string()])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((endpoint) => endpoint.trim())
      .filter((endpoint) => endpoint.length > 0),
  )
  .pipe(
    z.array(websocketUrl).min(1, { error: 'expected at least one ws:// or wss:// URL, comma-separated' }),
  );

const ss58Address = z.string().refine(
  (value) => {
    try {
      decodeAddress(value);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'expected an SS58 account address' },
);

const publicUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    error: 'expected an http:// or https:// URL, the address people reach this registrar at',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const storeLocation = z.string().transform((value, ctx): StoreLocation => {
  if (value.startsWith('sqlite:') && value.length > 'sqlite:'.length) {
    return { kind: 'sqlite', path: value.slice('sqlite:'.length) };
  }
  if (/^mongodb(\+srv)?:\/\/./.test(value)) return { kind: 'mongodb', uri: new Secret(value) };
  ctx.addIssue({ code: 'custom', message: 'expected sqlite:PATH or a mongodb:// URI' });
  return z.NEVER;
});

const smtpUrl = z.string().refine((value) => /^smtps?:\/\/./.test(value), {
  error: 'expected an smtp:// or smtps:// URL, for example smtps://user:password@mail.example.org:465',
});

const serviceUrl = (what: string) =>
  z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error: `expected the http(s):// base URL of the ${what}`,
    })
    .transform((value) => value.replace(/\/+$/, ''));

const booleanSetting = z
  .union([z.boolean(), z.enum(['true', 'false'])], { error: 'expected true or false' })
  .transform((value) => value === true || value === 'true');

const adminUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    error: "expected the http(s):// URL of the daemon's admin API, like http://127.0.0.1:8081",
  })
  .transform((value) => value.replace(/\/+$/, ''));

/** Words shown on every page and in every message: one line of printable text. */
const plainText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max, { error: `expected at most ${max} characters` })
    .refine((value) => !/\p{Cc}/u.test(value), { error: 'expected one line of text' });

/** The settings, by the name an operator writes them under. */
const settings = z.object({
  REGISTRAR_CHAIN_ENDPOINTS: endpointList,
  REGISTRAR_INDEX: wholeNumber(0, 2 ** 32 - 1),
  REGISTRAR_ACCOUNT: ss58Address,
  REGISTRAR_PUBLIC_URL: publicUrl,
  REGISTRAR_CHALLENGE_TTL_SECONDS: wholeNumber(60, 30 * 86_400).default(86_400),
  REGISTRAR_RECONCILE_INTERVAL_SECONDS: wholeNumber(10, 86_400).default(300),
  REGISTRAR_FULL_SCAN_INTERVAL_HOURS: wholeNumber(1, 720).default(24),
  REGISTRAR_STORE: storeLocation.default({ kind: 'sqlite', path: './data/registrar.sqlite' }),
  REGISTRAR_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  REGISTRAR_HTTP_PORT: wholeNumber(0, 65_535).default(8080),
  REGISTRAR_TRUST_PROXY: z
    .string()
    .refine(
      (value) =>
        value === 'true' ||
        value === 'false' ||
        value.split(',').every((part) => isIP(part.trim().split('/')[0] ?? '') !== 0),
      { error: 'expected true, false, or comma-separated addresses or CIDRs of the reverse proxies' },
    )
    .transform((value) => (value === 'true' ? true : value === 'false' ? false : value))
    .default(false),
  REGISTRAR_SMTP_URL: smtpUrl.optional(),
  REGISTRAR_SMTP_FROM: z.string().optional(),
  REGISTRAR_POLICY: z
    .enum(['mask', 'set'], { error: 'expected mask (every mask field is required) or set (every set field)' })
    .default('mask'),
  REGISTRAR_EXTRA_FIELDS: z
    .enum(['ignore', 'block'], { error: 'expected ignore or block' })
    .default('ignore'),
  REGISTRAR_ALLOW_DISPLAY_ONLY: booleanSetting.default(false),
  // No longer used (the guard's rules are fixed: domain/look-alikes.ts); still read, so that a
  // configuration that sets it loads as before.
  REGISTRAR_LOOKALIKE_THRESHOLD: z.coerce
    .number({ error: 'expected a number from 0.5 to 1' })
    .min(0.5, { error: 'expected a number from 0.5 to 1' })
    .max(1, { error: 'expected a number from 0.5 to 1' })
    .default(0.9),
  REGISTRAR_MATRIX_HOMESERVER: z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error: "expected the https:// URL of the bot's homeserver",
    })
    .optional(),
  REGISTRAR_MATRIX_USER: z
    .string()
    .regex(/^@[a-z0-9._=\-/+]+:\S+$/, {
      error: "expected the bot's full Matrix ID, like @registrar:example.org",
    })
    .optional(),
  REGISTRAR_MATRIX_DEVICE_ID: z.string().min(1).optional(),
  REGISTRAR_GITHUB_CLIENT_ID: z.string().min(1).optional(),
  REGISTRAR_GITHUB_OAUTH_URL: serviceUrl('GitHub sign-in').default('https://github.com'),
  REGISTRAR_GITHUB_API_URL: serviceUrl('GitHub API').default('https://api.github.com'),
  REGISTRAR_DISCORD_CLIENT_ID: z.string().min(1).optional(),
  REGISTRAR_DISCORD_GUILD_ID: z
    .string()
    .regex(/^[0-9]{1,20}$/, { error: 'expected the numeric ID of the Discord server' })
    .optional(),
  REGISTRAR_DISCORD_OAUTH_URL: serviceUrl('Discord sign-in').default('https://discord.com'),
  REGISTRAR_DISCORD_API_URL: serviceUrl('Discord API').default('https://discord.com/api/v10'),
  REGISTRAR_TWITTER_CLIENT_ID: z.string().min(1).optional(),
  REGISTRAR_TWITTER_OAUTH_URL: serviceUrl('X sign-in').default('https://x.com'),
  REGISTRAR_TWITTER_API_URL: serviceUrl('X API').default('https://api.x.com'),
  REGISTRAR_GITHUB_GIST_PROOFS: booleanSetting.default(true),
  REGISTRAR_TWITTER_POST_PROOFS: booleanSetting.default(false),
  REGISTRAR_TWITTER_OEMBED_URL: serviceUrl('X oEmbed endpoint').default('https://publish.twitter.com'),
  REGISTRAR_WEB_PROOFS: booleanSetting.default(true),
  REGISTRAR_RECHECK_SECONDS: wholeNumber(10, 86_400).default(600),
  REGISTRAR_RECHECK_JUDGED_DAYS: wholeNumber(0, 3_650).default(30),
  REGISTRAR_GRACE_DAYS: wholeNumber(0, 3_650).default(14),
  // Tests only (not in the README): the same two in seconds, so that a test's grace ends in it.
  REGISTRAR_RECHECK_JUDGED_SECONDS: wholeNumber(1, 3_650 * 86_400).optional(),
  REGISTRAR_GRACE_SECONDS: wholeNumber(0, 3_650 * 86_400).optional(),
  REGISTRAR_STATUS_STREAM_IDLE_SECONDS: wholeNumber(2, 86_400).default(900),
  REGISTRAR_WEB_DNS_SERVERS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((server) => server.trim())
        .filter((server) => server.length > 0),
    )
    .default([]),
  REGISTRAR_WEB_ALLOW_LOOPBACK: booleanSetting.default(false),
  REGISTRAR_PGP_PROOFS: booleanSetting.default(true),
  REGISTRAR_PGP_KEY_SERVER: z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error:
        'expected the https:// address of a key server with the VKS interface, e.g. https://keys.openpgp.org',
    })
    .optional(),
  REGISTRAR_REVIEW_FIELDS: z
    .union([z.array(z.string()), z.string()])
    .transform((value) =>
      (Array.isArray(value) ? value : value.split(',')).map((f) => f.trim()).filter((f) => f.length > 0),
    )
    .pipe(z.array(z.enum(['legal', 'image'], { error: 'expected a comma-separated list of legal, image' })))
    .default([]),
  REGISTRAR_SANCTIONS_URL: z
    .string()
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
      error: 'expected the http(s):// URL of an OFAC SDN XML or EU consolidated list XML file',
    })
    .optional(),
  REGISTRAR_SANCTIONS_REFRESH_HOURS: wholeNumber(1, 24 * 30).default(24),
  REGISTRAR_SANCTIONS_DISPLAY: z
    .enum(['on', 'off'], { error: 'expected on (display names are screened too) or off (legal names only)' })
    .default('off'),
  REGISTRAR_MESSAGES_PER_TARGET_PER_DAY: wholeNumber(1, 1_000).default(3),
  REGISTRAR_MESSAGES_PER_DOMAIN_PER_DAY: wholeNumber(1, 1_000_000).default(1_000),
  REGISTRAR_MESSAGES_PER_ACCOUNT_PER_DAY: wholeNumber(1, 10_000).default(10),
  REGISTRAR_MESSAGE_COOLDOWN_SECONDS: wholeNumber(0, 86_400).default(600),
  REGISTRAR_DELIVERY_TIMEOUT_SECONDS: wholeNumber(1, 600).default(30),
  REGISTRAR_CODE_ATTEMPTS: wholeNumber(1, 100).default(5),
  REGISTRAR_REQUESTS_PER_MINUTE_PER_IP: wholeNumber(1, 1_000_000).default(60),
  REGISTRAR_RETENTION_DAYS: wholeNumber(0, 3_650).default(7),
  REGISTRAR_REFUSAL_DAYS: wholeNumber(0, 3_650).default(30),
  REGISTRAR_PREPARED_HOURS: wholeNumber(1, 8_760).optional(),
  REGISTRAR_PREPARES_PER_ACCOUNT_PER_DAY: wholeNumber(0, 100).default(1),
  REGISTRAR_PREPARES_PER_CLIENT_PER_DAY: wholeNumber(1, 10_000).default(5),
  REGISTRAR_ONE_ACCOUNT_PER_HANDLE: z
    .enum(['refuse', 'warn', 'off'], { error: 'expected refuse, warn or off' })
    .default('refuse'),
  REGISTRAR_WHITELIST_FP_RATE: z.coerce
    .number({ error: 'expected a number between 0 and 1, like 1e-6' })
    .gt(0, { error: 'expected a number between 0 and 1, like 1e-6' })
    .lt(1, { error: 'expected a number between 0 and 1, like 1e-6' })
    .default(1e-6),
  REGISTRAR_LEASE_SECONDS: wholeNumber(3, 3_600).default(30),
  REGISTRAR_ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  REGISTRAR_ADMIN_PORT: wholeNumber(0, 65_535).default(8081),
  REGISTRAR_ADMIN_URL: adminUrl.optional(),
  REGISTRAR_METRICS_ON: z
    .enum(['public', 'admin'], {
      error: 'expected public (the web server, default) or admin (the admin API, behind its token)',
    })
    .default('public'),
  REGISTRAR_OPERATOR_NAME: plainText(80).optional(),
  REGISTRAR_OPERATOR_CONTACT: plainText(200).optional(),
  REGISTRAR_CHAIN_NAME: plainText(80).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], {
      error: 'expected one of fatal, error, warn, info, debug, trace',
    })
    .default('info'),
});

/** Secrets come from NAME or from a file named by NAME_FILE (for Docker/Kubernetes secrets). */
const SECRETS = {
  REGISTRAR_PROXY_SEED: 'the proxy account\'s mnemonic or secret seed (for example "//Alice" in tests)',
  REGISTRAR_JWT_SECRET: 'a random string of at least 32 characters',
} as const;

/** Secrets that only some deployments have, read the same way. */
const OPTIONAL_SECRETS = [
  'REGISTRAR_MATRIX_ACCESS_TOKEN',
  'REGISTRAR_MATRIX_PASSWORD',
  'REGISTRAR_ADMIN_TOKEN',
  'REGISTRAR_GITHUB_CLIENT_SECRET',
  'REGISTRAR_DISCORD_CLIENT_SECRET',
  'REGISTRAR_TWITTER_CLIENT_SECRET',
  'REGISTRAR_GITHUB_TOKEN',
  'REGISTRAR_DISCORD_BOT_TOKEN',
  'REGISTRAR_TWITTER_BEARER_TOKEN',
] as const;

type Source = Record<string, unknown>;

/** Every name the configuration reads: the schema's, and each secret's with its `_FILE` form. */
const KNOWN_SETTINGS: ReadonlySet<string> = new Set([
  ...Object.keys(settings.shape),
  ...[...Object.keys(SECRETS), ...OPTIONAL_SECRETS].flatMap((name) => [name, `${name}_FILE`]),
]);

/** The known name closest to a mistyped one (at most a third of it changed), if any. */
function nearest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate);
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Reads the configuration from the environment and the optional config file. Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const file = readConfigFile(env.REGISTRAR_CONFIG, problems);
  for (const key of Object.keys(file)) {
    if (!KNOWN_SETTINGS.has(key)) {
      const near = nearest(key, [...KNOWN_SETTINGS]);
      problems.push(
        `REGISTRAR_CONFIG: ${key} is not a setting${near ? `; did you mean ${near}?` : ''} (config/registrar.example.env lists every one)`,
      );
    }
  }
  const source: Source = { ...file };
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') source[name] = value;
  }

  const secrets = readSecrets(source, problems);
  const parsed = settings.safeParse(source);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'configuration');
      const message = source[name] === undefined ? 'is required' : issue.message;
      problems.push(`${name}: ${message}`);
    }
  }
  if (!parsed.success || problems.length > 0 || !secrets) throw new ConfigError(problems);

  const s = parsed.data;
  if (s.REGISTRAR_SMTP_URL && !s.REGISTRAR_SMTP_FROM) {
    throw new ConfigError([
      'REGISTRAR_SMTP_FROM: is required with REGISTRAR_SMTP_URL (the From address of mail)',
    ]);
  }
  const optional = readOptionalSecrets(source, problems);
  const matrix = matrixSettings(s, optional, problems);
  const oauth = (service: 'GITHUB' | 'DISCORD' | 'TWITTER'): OAuthSettings | undefined => {
    const clientId = s[`REGISTRAR_${service}_CLIENT_ID`];
    const clientSecret = optional[`REGISTRAR_${service}_CLIENT_SECRET`];
    if (clientId === undefined && clientSecret === undefined) return undefined;
    if (!clientId || !clientSecret) {
      problems.push(
        `REGISTRAR_${service}_CLIENT_${clientId ? 'SECRET' : 'ID'}: is required with REGISTRAR_${service}_CLIENT_${clientId ? 'ID' : 'SECRET'} (the OAuth application)`,
      );
      return undefined;
    }
    return {
      clientId,
      clientSecret,
      oauthUrl: s[`REGISTRAR_${service}_OAUTH_URL`],
      apiUrl: s[`REGISTRAR_${service}_API_URL`],
    };
  };
  const github = oauth('GITHUB');
  const discord = oauth('DISCORD');
  const twitter = oauth('TWITTER');
  const botToken = optional.REGISTRAR_DISCORD_BOT_TOKEN;
  // A bot token alone reads judged accounts again for the sweep; with a server, the bot also messages.
  if (botToken === undefined && s.REGISTRAR_DISCORD_GUILD_ID !== undefined) {
    problems.push(
      'REGISTRAR_DISCORD_BOT_TOKEN: is required with REGISTRAR_DISCORD_GUILD_ID (the bot of that server)',
    );
  }
  const adminToken = optional.REGISTRAR_ADMIN_TOKEN;
  if (adminToken && adminToken.reveal().length < 32) {
    problems.push('REGISTRAR_ADMIN_TOKEN: too short; expected a random string of at least 32 characters');
  }
  if (s.REGISTRAR_METRICS_ON === 'admin' && !adminToken) {
    problems.push(
      'REGISTRAR_METRICS_ON: admin needs the admin API: set REGISTRAR_ADMIN_TOKEN (Prometheus sends it as a bearer token)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    chain: { endpoints: s.REGISTRAR_CHAIN_ENDPOINTS },
    registrar: {
      index: s.REGISTRAR_INDEX,
      account: s.REGISTRAR_ACCOUNT,
      proxySeed: secrets.REGISTRAR_PROXY_SEED,
    },
    publicUrl: s.REGISTRAR_PUBLIC_URL,
    jwtSecret: secrets.REGISTRAR_JWT_SECRET,
    challengeTtlSeconds: s.REGISTRAR_CHALLENGE_TTL_SECONDS,
    reconcileIntervalSeconds: s.REGISTRAR_RECONCILE_INTERVAL_SECONDS,
    fullScanIntervalHours: s.REGISTRAR_FULL_SCAN_INTERVAL_HOURS,
    store: s.REGISTRAR_STORE,
    http: { host: s.REGISTRAR_HTTP_HOST, port: s.REGISTRAR_HTTP_PORT, trustProxy: s.REGISTRAR_TRUST_PROXY },
    smtp:
      s.REGISTRAR_SMTP_URL && s.REGISTRAR_SMTP_FROM
        ? { url: new Secret(s.REGISTRAR_SMTP_URL), from: s.REGISTRAR_SMTP_FROM }
        : undefined,
    policy: { kind: s.REGISTRAR_POLICY, extraFields: s.REGISTRAR_EXTRA_FIELDS },
    allowDisplayOnly: s.REGISTRAR_ALLOW_DISPLAY_ONLY,
    matrix,
    github,
    discord,
    twitter,
    discordBot:
      botToken && s.REGISTRAR_DISCORD_GUILD_ID
        ? {
            token: botToken,
            guildId: s.REGISTRAR_DISCORD_GUILD_ID,
            // discord.js adds the version itself.
            apiUrl: s.REGISTRAR_DISCORD_API_URL.replace(/\/v[0-9]+$/, ''),
          }
        : undefined,
    githubGists: s.REGISTRAR_GITHUB_GIST_PROOFS
      ? { apiUrl: s.REGISTRAR_GITHUB_API_URL, token: optional.REGISTRAR_GITHUB_TOKEN }
      : undefined,
    twitterPosts: s.REGISTRAR_TWITTER_POST_PROOFS ? { oembedUrl: s.REGISTRAR_TWITTER_OEMBED_URL } : undefined,
    accountLookups: {
      github: { apiUrl: s.REGISTRAR_GITHUB_API_URL, token: optional.REGISTRAR_GITHUB_TOKEN },
      discord: botToken ? { apiUrl: s.REGISTRAR_DISCORD_API_URL, token: botToken } : undefined,
      twitter: optional.REGISTRAR_TWITTER_BEARER_TOKEN
        ? { apiUrl: s.REGISTRAR_TWITTER_API_URL, bearerToken: optional.REGISTRAR_TWITTER_BEARER_TOKEN }
        : undefined,
    },
    web: s.REGISTRAR_WEB_PROOFS
      ? { dnsServers: s.REGISTRAR_WEB_DNS_SERVERS, allowLoopback: s.REGISTRAR_WEB_ALLOW_LOOPBACK }
      : undefined,
    pgp: s.REGISTRAR_PGP_PROOFS,
    pgpKeyServer: s.REGISTRAR_PGP_KEY_SERVER,
    recheckSeconds: s.REGISTRAR_RECHECK_SECONDS,
    sweep: sweepTimes(s),
    streamIdleSeconds: s.REGISTRAR_STATUS_STREAM_IDLE_SECONDS,
    reviewFields: s.REGISTRAR_REVIEW_FIELDS,
    sanctions: {
      url: s.REGISTRAR_SANCTIONS_URL,
      refreshHours: s.REGISTRAR_SANCTIONS_REFRESH_HOURS,
      display: s.REGISTRAR_SANCTIONS_DISPLAY === 'on',
    },
    limits: {
      messagesPerTargetPerDay: s.REGISTRAR_MESSAGES_PER_TARGET_PER_DAY,
      messagesPerDomainPerDay: s.REGISTRAR_MESSAGES_PER_DOMAIN_PER_DAY,
      messagesPerAccountPerDay: s.REGISTRAR_MESSAGES_PER_ACCOUNT_PER_DAY,
      messageCooldownSeconds: s.REGISTRAR_MESSAGE_COOLDOWN_SECONDS,
      deliveryTimeoutSeconds: s.REGISTRAR_DELIVERY_TIMEOUT_SECONDS,
      codeAttempts: s.REGISTRAR_CODE_ATTEMPTS,
      requestsPerMinutePerIp: s.REGISTRAR_REQUESTS_PER_MINUTE_PER_IP,
    },
    retentionDays: s.REGISTRAR_RETENTION_DAYS,
    preparing:
      s.REGISTRAR_PREPARES_PER_ACCOUNT_PER_DAY === 0
        ? undefined
        : {
            // A week, or the retention of a closed request's values if shorter (at least an hour).
            keptHours:
              s.REGISTRAR_PREPARED_HOURS ?? Math.min(7 * 24, Math.max(1, s.REGISTRAR_RETENTION_DAYS * 24)),
            perAccountPerDay: s.REGISTRAR_PREPARES_PER_ACCOUNT_PER_DAY,
            perClientPerDay: s.REGISTRAR_PREPARES_PER_CLIENT_PER_DAY,
          },
    refusalDays: s.REGISTRAR_REFUSAL_DAYS,
    oneAccountPerHandle: s.REGISTRAR_ONE_ACCOUNT_PER_HANDLE,
    whitelistFpRate: s.REGISTRAR_WHITELIST_FP_RATE,
    leaseSeconds: s.REGISTRAR_LEASE_SECONDS,
    admin: adminToken
      ? { token: adminToken, host: s.REGISTRAR_ADMIN_HOST, port: s.REGISTRAR_ADMIN_PORT }
      : undefined,
    metricsOn: s.REGISTRAR_METRICS_ON,
    operator: {
      name: s.REGISTRAR_OPERATOR_NAME,
      contact: s.REGISTRAR_OPERATOR_CONTACT,
      chainName: s.REGISTRAR_CHAIN_NAME,
    },
    logLevel: s.LOG_LEVEL,
  };
}

/** The sweep's period and grace in ms (the seconds, for tests, win over the days); undefined when off. */
function sweepTimes(s: {
  REGISTRAR_RECHECK_JUDGED_DAYS: number;
  REGISTRAR_GRACE_DAYS: number;
  REGISTRAR_RECHECK_JUDGED_SECONDS?: number | undefined;
  REGISTRAR_GRACE_SECONDS?: number | undefined;
}): Config['sweep'] {
  const periodSeconds = s.REGISTRAR_RECHECK_JUDGED_SECONDS ?? s.REGISTRAR_RECHECK_JUDGED_DAYS * 86_400;
  if (periodSeconds === 0) return undefined;
  const graceSeconds = s.REGISTRAR_GRACE_SECONDS ?? s.REGISTRAR_GRACE_DAYS * 86_400;
  return { periodMs: periodSeconds * 1000, graceMs: graceSeconds * 1000 };
}

/** The admin settings alone: with these names, read from the environment and the config file. */
const adminClientSettings = settings.pick({
  REGISTRAR_ADMIN_HOST: true,
  REGISTRAR_ADMIN_PORT: true,
  REGISTRAR_ADMIN_URL: true,
});

/**
 * What the operator's commands (`registrar pending`, `status`, ...) read: the admin API's address
 * and token only, so that a shell that runs them needs neither the proxy seed nor the JWT secret.
 * Throws ConfigError naming the setting that is missing or wrong.
 */
export function loadAdminClientSettings(env: NodeJS.ProcessEnv = process.env): AdminClientSettings {
  const problems: string[] = [];
  const source: Source = { ...readConfigFile(env.REGISTRAR_CONFIG, problems) };
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') source[name] = value;
  }
  const token = readSecret(source, 'REGISTRAR_ADMIN_TOKEN', problems);
  if (token === undefined && problems.length === 0) {
    problems.push(
      "REGISTRAR_ADMIN_TOKEN: is required for this command (set REGISTRAR_ADMIN_TOKEN or REGISTRAR_ADMIN_TOKEN_FILE to the daemon's admin token)",
    );
  }
  const parsed = adminClientSettings.safeParse(source);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])}: ${issue.message}`);
  }
  if (!parsed.success || token === undefined || problems.length > 0) throw new ConfigError(problems);
  const s = parsed.data;
  // A daemon listening on every address is reached on loopback.
  const host = ['0.0.0.0', '::'].includes(s.REGISTRAR_ADMIN_HOST) ? '127.0.0.1' : s.REGISTRAR_ADMIN_HOST;
  return {
    url:
      s.REGISTRAR_ADMIN_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${s.REGISTRAR_ADMIN_PORT}`,
    token: new Secret(token),
  };
}

function matrixSettings(
  s: z.infer<typeof settings>,
  secrets: Partial<Record<(typeof OPTIONAL_SECRETS)[number], Secret>>,
  problems: string[],
): MatrixSettings | undefined {
  const token = secrets.REGISTRAR_MATRIX_ACCESS_TOKEN;
  const password = secrets.REGISTRAR_MATRIX_PASSWORD;
  const any = s.REGISTRAR_MATRIX_HOMESERVER ?? s.REGISTRAR_MATRIX_USER ?? token ?? password;
  if (any === undefined) return undefined;
  if (!s.REGISTRAR_MATRIX_HOMESERVER)
    problems.push('REGISTRAR_MATRIX_HOMESERVER: is required for the Matrix bot');
  if (!s.REGISTRAR_MATRIX_USER) problems.push('REGISTRAR_MATRIX_USER: is required for the Matrix bot');
  if (!token && !password) {
    problems.push(
      'REGISTRAR_MATRIX_ACCESS_TOKEN: is required for the Matrix bot (or REGISTRAR_MATRIX_PASSWORD for a one-time login)',
    );
  }
  if (token && !s.REGISTRAR_MATRIX_DEVICE_ID) {
    problems.push(
      "REGISTRAR_MATRIX_DEVICE_ID: is required with REGISTRAR_MATRIX_ACCESS_TOKEN (the token's device)",
    );
  }
  if (!s.REGISTRAR_MATRIX_HOMESERVER || !s.REGISTRAR_MATRIX_USER) return undefined;
  return {
    homeserver: s.REGISTRAR_MATRIX_HOMESERVER.replace(/\/+$/, ''),
    user: s.REGISTRAR_MATRIX_USER,
    accessToken: token,
    deviceId: s.REGISTRAR_MATRIX_DEVICE_ID,
    password,
  };
}

function readOptionalSecrets(
  source: Source,
  problems: string[],
): Partial<Record<(typeof OPTIONAL_SECRETS)[number], Secret>> {
  const result: Partial<Record<(typeof OPTIONAL_SECRETS)[number], Secret>> = {};
  for (const name of OPTIONAL_SECRETS) {
    const value = readSecret(source, name, problems);
    if (value) result[name] = new Secret(value);
  }
  return result;
}

/** NAME, or the contents of the file NAME_FILE; undefined when neither is set. */
function readSecret(source: Source, name: string, problems: string[]): string | undefined {
  const direct = source[name];
  const filePath = source[`${name}_FILE`];
  if (typeof direct === 'string' && typeof filePath === 'string') {
    problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
    return undefined;
  }
  if (typeof direct === 'string') return direct;
  if (typeof filePath !== 'string') return undefined;
  try {
    return readFileSync(filePath, 'utf8').trim();
  } catch (error) {
    problems.push(
      `${name}_FILE: cannot read ${filePath} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
    return undefined;
  }
}

function readConfigFile(path: string | undefined, problems: string[]): Source {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(
      `REGISTRAR_CONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
    return {};
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Source;
    problems.push(`REGISTRAR_CONFIG: ${path} must hold a JSON object of settings`);
  } catch (error) {
    problems.push(`REGISTRAR_CONFIG: ${path} is not valid JSON (${(error as Error).message})`);
  }
  return {};
}

function readSecrets(source: Source, problems: string[]): Record<keyof typeof SECRETS, Secret> | undefined {
  const result: Partial<Record<keyof typeof SECRETS, Secret>> = {};
  for (const [name, expected] of Object.entries(SECRETS) as [keyof typeof SECRETS, string][]) {
    const before = problems.length;
    const value = readSecret(source, name, problems);
    if (problems.length > before) continue;
    if (value === undefined || value === '') {
      problems.push(`${name}: is required (set ${name} or ${name}_FILE): ${expected}`);
      continue;
    }
    if (name === 'REGISTRAR_JWT_SECRET' && value.length < 32) {
      problems.push(`${name}: too short; expected ${expected}`);
      continue;
    }
    result[name] = new Secret(value);
  }
  return Object.keys(result).length === Object.keys(SECRETS).length
    ? (result as Record<keyof typeof SECRETS, Secret>)
    : undefined;
}
