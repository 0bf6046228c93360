import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';
import { checkSanctions } from '../../src/operator/config-check.js';

const ALICE = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';
const valid = {
  REGISTRAR_CHAIN_ENDPOINTS: 'wss://people-a.example, wss://people-b.example',
  REGISTRAR_INDEX: '3',
  REGISTRAR_ACCOUNT: ALICE,
  REGISTRAR_PROXY_SEED: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk//Proxy',
  REGISTRAR_PUBLIC_URL: 'https://registrar.example/',
  REGISTRAR_JWT_SECRET: 'x'.repeat(40),
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('configuration was accepted');
}

describe('configuration', () => {
  it('reads a complete environment and fills the defaults', () => {
    const config = loadConfig(valid);
    expect(config.chain.endpoints).toEqual(['wss://people-a.example', 'wss://people-b.example']);
    expect(config.registrar.index).toBe(3);
    expect(config.publicUrl).toBe('https://registrar.example');
    expect(config.store).toEqual({ kind: 'sqlite', path: './data/registrar.sqlite' });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, trustProxy: false });
    expect(config.limits).toEqual({
      messagesPerTargetPerDay: 3,
      messagesPerAccountPerDay: 10,
      messagesPerDomainPerDay: 1_000,
      messageCooldownSeconds: 600,
      deliveryTimeoutSeconds: 30,
      codeAttempts: 5,
      requestsPerMinutePerIp: 60,
    });
    expect(config.retentionDays).toBe(7);
    expect(config.refusalDays).toBe(30);
    expect(config.leaseSeconds).toBe(30);
    expect(config.challengeTtlSeconds).toBe(86_400);
    expect(config.smtp).toBeUndefined();
    expect(config.registrar.proxySeed.reveal()).toBe(valid.REGISTRAR_PROXY_SEED);
  });

  it('offers proving before paying, kept a week or the retention if shorter, or not at all', () => {
    expect(loadConfig(valid).preparing).toEqual({ keptHours: 168, perAccountPerDay: 1, perClientPerDay: 5 });
    expect(loadConfig({ ...valid, REGISTRAR_RETENTION_DAYS: '2' }).preparing?.keptHours).toBe(48);
    expect(loadConfig({ ...valid, REGISTRAR_RETENTION_DAYS: '0' }).preparing?.keptHours).toBe(1);
    expect(
      loadConfig({ ...valid, REGISTRAR_PREPARED_HOURS: '500', REGISTRAR_PREPARES_PER_CLIENT_PER_DAY: '2' })
        .preparing,
    ).toEqual({ keptHours: 500, perAccountPerDay: 1, perClientPerDay: 2 });
    expect(loadConfig({ ...valid, REGISTRAR_PREPARES_PER_ACCOUNT_PER_DAY: '0' }).preparing).toBeUndefined();
    expect(problemsOf({ ...valid, REGISTRAR_PREPARED_HOURS: '0' })).toEqual([
      expect.stringContaining('REGISTRAR_PREPARED_HOURS'),
    ]);
  });

  it('never shows a secret when the configuration is logged', () => {
    const config = loadConfig({
      ...valid,
      REGISTRAR_STORE: 'mongodb://user:hunter2@db.example/registrar',
      REGISTRAR_SMTP_URL: 'smtps://mailer:pa55word@mail.example:465',
      REGISTRAR_SMTP_FROM: 'registrar@example.org',
    });
    const shown = [JSON.stringify(config), inspect(config, { depth: 10 }), `${config.jwtSecret}`].join('\n');
    for (const secret of ['bottom drive', 'xxxxxxxx', 'hunter2', 'pa55word'])
      expect(shown).not.toContain(secret);
  });

  it('names each wrong or missing variable and what it expects', () => {
    const problems = problemsOf({
      REGISTRAR_CHAIN_ENDPOINTS: 'http://not-a-websocket',
      REGISTRAR_INDEX: 'three',
      REGISTRAR_ACCOUNT: 'not-an-address',
      REGISTRAR_JWT_SECRET: 'short',
      REGISTRAR_STORE: 'postgres://db',
      REGISTRAR_TRUST_PROXY: '10.0.0.1,nginx',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'REGISTRAR_CHAIN_ENDPOINTS: expected a ws:// or wss:// URL',
        'REGISTRAR_INDEX: expected a whole number from 0 to 4294967295',
        'REGISTRAR_ACCOUNT: expected an SS58 account address',
        expect.stringMatching(/^REGISTRAR_PUBLIC_URL: is required/),
        expect.stringMatching(/^REGISTRAR_PROXY_SEED: is required/),
        expect.stringMatching(/^REGISTRAR_JWT_SECRET: too short/),
        'REGISTRAR_STORE: expected sqlite:PATH or a mongodb:// URI',
        'REGISTRAR_TRUST_PROXY: expected true, false, or comma-separated addresses or CIDRs of the reverse proxies',
      ]),
    );
    expect(problems.join('\n')).not.toContain('short"');
  });

  it('reads secrets from files and settings from a JSON config file, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registrar-config-'));
    writeFileSync(join(dir, 'seed'), '//Proxy\n');
    writeFileSync(
      join(dir, 'registrar.json'),
      JSON.stringify({
        ...valid,
        REGISTRAR_PROXY_SEED: undefined,
        REGISTRAR_INDEX: 9,
        REGISTRAR_HTTP_PORT: 9000,
      }),
    );
    const config = loadConfig({
      REGISTRAR_CONFIG: join(dir, 'registrar.json'),
      REGISTRAR_PROXY_SEED_FILE: join(dir, 'seed'),
      REGISTRAR_INDEX: '4',
    });
    expect(config.registrar.proxySeed.reveal()).toBe('//Proxy');
    expect(config.registrar.index).toBe(4);
    expect(config.http.port).toBe(9000);
  });

  it('refuses a setting it does not know in the config file, naming the nearest one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registrar-config-'));
    writeFileSync(join(dir, 'registrar.json'), JSON.stringify({ REGISTRAR_HTTP_PROT: 9000, COLOUR: 'blue' }));
    const problems = problemsOf({ ...valid, REGISTRAR_CONFIG: join(dir, 'registrar.json') });
    expect(problems).toContain(
      'REGISTRAR_CONFIG: REGISTRAR_HTTP_PROT is not a setting; did you mean REGISTRAR_HTTP_PORT? (config/registrar.example.env lists every one)',
    );
    expect(problems).toContain(
      'REGISTRAR_CONFIG: COLOUR is not a setting (config/registrar.example.env lists every one)',
    );
  });

  it('loads the example config file the project ships, its secrets from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registrar-config-'));
    const example = JSON.parse(readFileSync('config/registrar.example.json', 'utf8')) as Record<
      string,
      unknown
    >;
    for (const [name, secret] of [
      ['REGISTRAR_PROXY_SEED_FILE', '//Proxy'],
      ['REGISTRAR_JWT_SECRET_FILE', 'y'.repeat(40)],
      ['REGISTRAR_ADMIN_TOKEN_FILE', 'z'.repeat(40)],
    ] as const) {
      expect(example[name]).toEqual(expect.any(String));
      writeFileSync(join(dir, name), secret);
      example[name] = join(dir, name);
    }
    writeFileSync(join(dir, 'registrar.json'), JSON.stringify(example));
    const config = loadConfig({ REGISTRAR_CONFIG: join(dir, 'registrar.json') });
    expect(config.registrar.index).toBe(0);
    expect(config.admin?.port).toEqual(expect.any(Number));
  });

  it('refuses an unreadable config file, a missing secret file, and a secret given twice', () => {
    expect(problemsOf({ ...valid, REGISTRAR_CONFIG: '/nonexistent/registrar.json' })).toContain(
      'REGISTRAR_CONFIG: cannot read /nonexistent/registrar.json (ENOENT)',
    );
    expect(problemsOf({ ...valid, REGISTRAR_JWT_SECRET_FILE: '/nonexistent/jwt' })).toContain(
      'REGISTRAR_JWT_SECRET: set either REGISTRAR_JWT_SECRET or REGISTRAR_JWT_SECRET_FILE, not both',
    );
    expect(problemsOf({ ...valid, REGISTRAR_SMTP_URL: 'smtp://mail.example' })).toEqual([
      'REGISTRAR_SMTP_FROM: is required with REGISTRAR_SMTP_URL (the From address of mail)',
    ]);
  });

  it("turns each sign-in on with its client, with the services' own addresses unless told otherwise", () => {
    const plain = loadConfig(valid);
    expect([plain.github, plain.discord, plain.twitter]).toEqual([undefined, undefined, undefined]);
    expect(plain.web).toEqual({ dnsServers: [], allowLoopback: false });
    expect(plain.pgp).toBe(true);
    const config = loadConfig({
      ...valid,
      REGISTRAR_GITHUB_CLIENT_ID: 'gh-id',
      REGISTRAR_GITHUB_CLIENT_SECRET: 'gh-secret-value',
      REGISTRAR_TWITTER_CLIENT_ID: 'x-id',
      REGISTRAR_TWITTER_CLIENT_SECRET: 'x-secret-value',
      REGISTRAR_TWITTER_API_URL: 'https://127.0.0.1:8443/',
      REGISTRAR_WEB_DNS_SERVERS: '10.0.0.53, 10.0.0.54:5353',
      REGISTRAR_PGP_PROOFS: 'false',
    });
    expect(config.github).toMatchObject({
      clientId: 'gh-id',
      oauthUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
    });
    expect(config.twitter).toMatchObject({ oauthUrl: 'https://x.com', apiUrl: 'https://127.0.0.1:8443' });
    expect(config.web?.dnsServers).toEqual(['10.0.0.53', '10.0.0.54:5353']);
    expect(config.pgp).toBe(false);
    expect(JSON.stringify(config)).not.toContain('secret-value');
    expect(loadConfig({ ...valid, REGISTRAR_WEB_PROOFS: 'false' }).web).toBeUndefined();
  });

  it('refuses half an OAuth client, a service address that is no URL, and a yes/no that is neither', () => {
    expect(problemsOf({ ...valid, REGISTRAR_DISCORD_CLIENT_ID: 'd-id' })).toEqual([
      'REGISTRAR_DISCORD_CLIENT_SECRET: is required with REGISTRAR_DISCORD_CLIENT_ID (the OAuth application)',
    ]);
    expect(problemsOf({ ...valid, REGISTRAR_GITHUB_CLIENT_SECRET: 's' })).toEqual([
      'REGISTRAR_GITHUB_CLIENT_ID: is required with REGISTRAR_GITHUB_CLIENT_SECRET (the OAuth application)',
    ]);
    expect(problemsOf({ ...valid, REGISTRAR_GITHUB_API_URL: 'api.github.com' })).toEqual([
      'REGISTRAR_GITHUB_API_URL: expected the http(s):// base URL of the GitHub API',
    ]);
    expect(problemsOf({ ...valid, REGISTRAR_DISCORD_GUILD_ID: '123' })).toEqual([
      'REGISTRAR_DISCORD_BOT_TOKEN: is required with REGISTRAR_DISCORD_GUILD_ID (the bot of that server)',
    ]);
    expect(
      loadConfig({ ...valid, REGISTRAR_DISCORD_BOT_TOKEN: 'bot', REGISTRAR_DISCORD_GUILD_ID: '123' })
        .discordBot,
    ).toMatchObject({ guildId: '123', apiUrl: 'https://discord.com/api' });
    expect(problemsOf({ ...valid, REGISTRAR_WEB_PROOFS: 'yes' })).toEqual([
      'REGISTRAR_WEB_PROOFS: expected true or false',
    ]);
  });

  it('reads judged accounts again by ID: GitHub always, Discord with a bot token alone, X with the app bearer', () => {
    const none = loadConfig(valid).accountLookups;
    expect(none.github).toEqual({ apiUrl: 'https://api.github.com', token: undefined });
    expect(none.discord).toBeUndefined();
    expect(none.twitter).toBeUndefined();
    const all = loadConfig({
      ...valid,
      REGISTRAR_GITHUB_TOKEN: 'gh-token',
      REGISTRAR_DISCORD_BOT_TOKEN: 'bot-token',
      REGISTRAR_TWITTER_BEARER_TOKEN: 'x-bearer',
    });
    // A bot token without a server: no bot messages anyone, it only reads accounts.
    expect(all.discordBot).toBeUndefined();
    expect(all.accountLookups.discord?.apiUrl).toBe('https://discord.com/api/v10');
    expect(all.accountLookups.discord?.token.reveal()).toBe('bot-token');
    expect(all.accountLookups.twitter?.apiUrl).toBe('https://api.x.com');
    expect(all.accountLookups.twitter?.bearerToken.reveal()).toBe('x-bearer');
    expect(all.accountLookups.github.token?.reveal()).toBe('gh-token');
    expect(JSON.stringify(all)).not.toMatch(/bot-token|x-bearer|gh-token/);
  });

  it('checks judged proofs again every 30 days with 14 days of grace, unless told otherwise; 0 turns it off', () => {
    expect(loadConfig(valid).sweep).toEqual({ periodMs: 30 * 86_400_000, graceMs: 14 * 86_400_000 });
    expect(
      loadConfig({ ...valid, REGISTRAR_RECHECK_JUDGED_DAYS: '7', REGISTRAR_GRACE_DAYS: '0' }).sweep,
    ).toEqual({ periodMs: 7 * 86_400_000, graceMs: 0 });
    expect(loadConfig({ ...valid, REGISTRAR_RECHECK_JUDGED_DAYS: '0' }).sweep).toBeUndefined();
    // Tests give seconds, which win over the days.
    expect(
      loadConfig({ ...valid, REGISTRAR_RECHECK_JUDGED_SECONDS: '2', REGISTRAR_GRACE_SECONDS: '8' }).sweep,
    ).toEqual({ periodMs: 2_000, graceMs: 8_000 });
    expect(problemsOf({ ...valid, REGISTRAR_GRACE_DAYS: '-1' })[0]).toMatch(/^REGISTRAR_GRACE_DAYS: /);
    expect(problemsOf({ ...valid, REGISTRAR_RECHECK_JUDGED_DAYS: 'monthly' })[0]).toMatch(
      /^REGISTRAR_RECHECK_JUDGED_DAYS: /,
    );
  });

  it('judges on display names alone only when REGISTRAR_ALLOW_DISPLAY_ONLY says so', () => {
    expect(loadConfig(valid).allowDisplayOnly).toBe(false);
    expect(loadConfig({ ...valid, REGISTRAR_ALLOW_DISPLAY_ONLY: 'true' }).allowDisplayOnly).toBe(true);
    expect(loadConfig({ ...valid, REGISTRAR_ALLOW_DISPLAY_ONLY: 'false' }).allowDisplayOnly).toBe(false);
    expect(problemsOf({ ...valid, REGISTRAR_ALLOW_DISPLAY_ONLY: '1' })).toEqual([
      'REGISTRAR_ALLOW_DISPLAY_ONLY: expected true or false',
    ]);
    // In the JSON config file, a JSON boolean.
    const dir = mkdtempSync(join(tmpdir(), 'registrar-config-'));
    writeFileSync(join(dir, 'registrar.json'), JSON.stringify({ REGISTRAR_ALLOW_DISPLAY_ONLY: true }));
    const fromFile = loadConfig({ ...valid, REGISTRAR_CONFIG: join(dir, 'registrar.json') });
    expect(fromFile.allowDisplayOnly).toBe(true);
  });
});

describe('the PGP key server', () => {
  it('is none by default (PGP proofs are then not checked again), and an http(s) address when set', () => {
    expect(loadConfig(valid).pgpKeyServer).toBeUndefined();
    expect(loadConfig({ ...valid, REGISTRAR_PGP_KEY_SERVER: 'https://keys.openpgp.org' }).pgpKeyServer).toBe(
      'https://keys.openpgp.org',
    );
    expect(problemsOf({ ...valid, REGISTRAR_PGP_KEY_SERVER: 'hkps://keys.openpgp.org' })).toEqual([
      'REGISTRAR_PGP_KEY_SERVER: expected the https:// address of a key server with the VKS interface, e.g. https://keys.openpgp.org',
    ]);
  });
});

describe('the sanctions settings', () => {
  it('default to no URL, a day between fetches and legal names only', () => {
    expect(loadConfig(valid).sanctions).toEqual({ url: undefined, refreshHours: 24, display: false });
    expect(
      loadConfig({
        ...valid,
        REGISTRAR_SANCTIONS_URL: 'https://lists.example/sdn.xml',
        REGISTRAR_SANCTIONS_REFRESH_HOURS: '6',
        REGISTRAR_SANCTIONS_DISPLAY: 'on',
      }).sanctions,
    ).toEqual({ url: 'https://lists.example/sdn.xml', refreshHours: 6, display: true });
  });

  it('name the setting that is wrong', () => {
    expect(problemsOf({ ...valid, REGISTRAR_SANCTIONS_URL: 'ftp://lists.example/sdn.xml' })).toEqual([
      'REGISTRAR_SANCTIONS_URL: expected the http(s):// URL of an OFAC SDN XML or EU consolidated list XML file',
    ]);
    expect(problemsOf({ ...valid, REGISTRAR_SANCTIONS_REFRESH_HOURS: '0' })[0]).toMatch(
      /^REGISTRAR_SANCTIONS_REFRESH_HOURS: /,
    );
    expect(problemsOf({ ...valid, REGISTRAR_SANCTIONS_DISPLAY: 'true' })).toEqual([
      'REGISTRAR_SANCTIONS_DISPLAY: expected on (display names are screened too) or off (legal names only)',
    ]);
  });
});

describe('config check of the sanctions list URL', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const eu = readFileSync(new URL('../fixtures/sanctions/eu.xml', import.meta.url), 'utf8');
    server = createServer((request, response) => {
      if (request.url?.startsWith('/eu.xml')) response.writeHead(200).end(eu);
      else if (request.url === '/page') response.writeHead(200).end('<html><body>Lists</body></html>');
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (url: string, review = 'legal') =>
    checkSanctions(loadConfig({ ...valid, REGISTRAR_SANCTIONS_URL: url, REGISTRAR_REVIEW_FIELDS: review }));

  it('says which list the URL answers with, without the query', async () => {
    expect(await check(`${base}/eu.xml?token=secret`)).toEqual([
      {
        setting: 'REGISTRAR_SANCTIONS_URL',
        ok: true,
        verdict: `${base}/eu.xml answers with the EU consolidated list`,
      },
    ]);
  });

  it('fails a URL that answers something else, an error, or nothing', async () => {
    expect(await check(`${base}/page`)).toEqual([
      {
        setting: 'REGISTRAR_SANCTIONS_URL',
        ok: false,
        verdict: `${base}/page answers, but not with the OFAC SDN XML or the EU consolidated list XML`,
      },
    ]);
    expect((await check(`${base}/gone`))[0]).toMatchObject({
      ok: false,
      verdict: `${base}/gone answered HTTP 404`,
    });
    expect((await check('http://127.0.0.1:9/sdn.xml'))[0]).toMatchObject({
      ok: false,
      verdict: expect.stringContaining('http://127.0.0.1:9/sdn.xml is unreachable'),
    });
  });

  it('fails a list with no name to screen: legal names not reviewed, display names off', async () => {
    expect((await check(`${base}/eu.xml`, 'image'))[1]).toMatchObject({
      setting: 'REGISTRAR_REVIEW_FIELDS',
      ok: false,
    });
  });
});
