/**
 * The `registrar` command's usage, without a chain: exit codes as documented (0 done, 1 failed, 2
 * wrong usage or configuration, 3 no request), arguments checked before anything is sent, the
 * operator commands needing only the admin API's address and token, and `/metrics` on the admin
 * API behind its token when the operator keeps it off the public server. The CLI is the compiled
 * one; the admin API is the daemon's own (`buildAdminServer`), over a real store.
 */
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '../../src/config.js';
import { Skeletons } from '../../src/domain/look-alikes.js';
import { buildAdminServer } from '../../src/http/admin.js';
import { NO_METRICS } from '../../src/registrar/metrics.js';
import { Screening } from '../../src/registrar/sanctions.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { loadConfusables } from '../../src/support/confusables.js';
import { cli } from '../support/cli.js';

const TOKEN = 'cli-test-admin-token-0123456789abcdef0123';
const ACCOUNT = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';

let admin: FastifyInstance;
/** The sanctions commands run against the real screening over a real store. */
const store = new SqliteStore(':memory:');
const screening = new Screening({
  store,
  identity: async () => undefined,
  registrarIndex: 3,
  skeletons: new Skeletons(loadConfusables()),
  display: false,
  log: pino({ level: 'silent' }),
  now: Date.now,
  metrics: NO_METRICS,
});
const fixture = (name: string) => new URL(`../fixtures/sanctions/${name}`, import.meta.url).pathname;
let adminUrl: string;
/** What reached the admin API: nothing may, for a command refused as wrong usage. */
const received: string[] = [];

beforeAll(async () => {
  const metrics = new Registry();
  metrics.setDefaultLabels({ app: 'registrar' });
  admin = buildAdminServer({
    token: TOKEN,
    registrar: {
      status: async (account) => ({
        account,
        registrarIndex: 3,
        status: 'open',
        identityHash: `0x${'ab'.repeat(32)}`,
        judgeable: true,
        fields: { email: { status: 'awaiting', label: 'email address', value: 'a@example.org' } },
        unverifiable: [],
        blockers: [],
      }),
      review: async () => undefined,
      reviews: async () => [
        {
          account: ACCOUNT,
          registrarIndex: 3,
          field: 'legal',
          decision: 'confirm',
          reviewer: 'Ann Ops',
          identityHash: `0x${'cd'.repeat(32)}`,
          at: Date.UTC(2026, 0, 2),
        },
      ],
      judgeExplicitly: async () => ({ kind: 'failed', error: 'not in this test' }),
      screening,
    },
    openRequests: async () => [],
    rescan: async () => 0,
    sweep: async () => [
      { account: ACCOUNT, field: 'web', outcome: 'holds' },
      {
        account: ACCOUNT,
        field: 'github',
        outcome: 'grace-started',
        reason: 'the account 42 is gone',
        graceUntil: Date.UTC(2026, 0, 16),
      },
    ],
    metrics,
  });
  admin.addHook('onRequest', async (request) => {
    received.push(`${request.method} ${request.url}`);
  });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  const address = admin.server.address();
  adminUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await admin?.close();
  await store.close();
});

const adminOnly = () => ({ REGISTRAR_ADMIN_URL: adminUrl, REGISTRAR_ADMIN_TOKEN: TOKEN });

describe('the registrar command', () => {
  it('runs the read-only commands with the admin URL and token alone', async () => {
    const status = await cli(['status', ACCOUNT], adminOnly());
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('request: open, can be judged as it stands: yes');
    expect(status.stdout).toContain('a@example.org');
    const pending = await cli(['pending', '--json'], adminOnly());
    expect(pending).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
    const reviews = await cli(['reviews', ACCOUNT], adminOnly());
    expect(reviews.code).toBe(0);
    expect(reviews.stdout).toMatch(
      /^at\s+field\s+decision\s+by\s+identity\n2026-01-02T00:00:00.000Z\s+legal\s+confirm\s+Ann Ops\s+0xcdcd/,
    );
  });

  it('runs one pass of the sweep and prints what each check found', async () => {
    const sweep = await cli(['sweep'], adminOnly());
    expect(sweep.code).toBe(0);
    expect(sweep.stdout).toMatch(/^account\s+field\s+outcome\s+grace until\s+why\n/);
    expect(sweep.stdout).toMatch(new RegExp(`${ACCOUNT}\\s+web\\s+holds\n`));
    expect(sweep.stdout).toMatch(
      new RegExp(
        `${ACCOUNT}\\s+github\\s+grace-started\\s+2026-01-16T00:00:00.000Z\\s+the account 42 is gone\n`,
      ),
    );
    const json = await cli(['sweep', '--json'], adminOnly());
    expect(JSON.parse(json.stdout)).toHaveLength(2);
    expect((await cli(['sweep', 'now'], adminOnly())).code).toBe(2);
  });

  it('names the setting a command needs first, with exit code 2', async () => {
    const none = await cli(['pending'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('REGISTRAR_ADMIN_TOKEN: is required for this command');
    // Not the proxy seed, nor the JWT secret, nor any other daemon setting.
    expect(none.stderr).not.toMatch(/REGISTRAR_(PROXY_SEED|JWT_SECRET|CHAIN_ENDPOINTS)/);
    const badUrl = await cli(['pending'], { ...adminOnly(), REGISTRAR_ADMIN_URL: 'ftp://x' });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain(
      "REGISTRAR_ADMIN_URL: expected the http(s):// URL of the daemon's admin API",
    );
    // A daemon that is not there is a failure (1), named by the address tried.
    const away = await cli(['pending'], { ...adminOnly(), REGISTRAR_ADMIN_URL: 'http://127.0.0.1:9' });
    expect(away.code).toBe(1);
    expect(away.stderr).toContain('no registrar answers at http://127.0.0.1:9');
    const wrongToken = await cli(['pending'], { ...adminOnly(), REGISTRAR_ADMIN_TOKEN: 'x'.repeat(40) });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('REGISTRAR_ADMIN_TOKEN: the daemon refused this token');
  });

  it('checks accounts, judgements, fields, hashes and names before anything is sent (exit code 2)', async () => {
    received.length = 0;
    const cases: [string[], string][] = [
      [['status'], 'give the ACCOUNT (an SS58 account address)'],
      [['status', 'alice'], 'ACCOUNT "alice" is not an SS58 account address'],
      [['status', `${ACCOUNT}x`], 'is not an SS58 account address'],
      [['reviews', '0x1234'], 'ACCOUNT "0x1234" is not an SS58 account address'],
      [['judge', ACCOUNT, 'Reasonable', '--yes'], 'expected one of Erroneous, OutOfDate, LowQuality'],
      [['judge', ACCOUNT], 'give the JUDGEMENT: expected one of Erroneous, OutOfDate, LowQuality'],
      [['judge', ACCOUNT, 'Erroneous', '--yes', '--by', 'a;b'], '--by "a;b" is not a name for the audit log'],
      [['review', ACCOUNT, 'email', '--confirm'], '"email" is no field the operator reviews'],
      [['review', ACCOUNT, 'legal'], 'give one of --confirm or --reject'],
      [
        ['review', ACCOUNT, 'legal', '--confirm', '--identity', '0x12'],
        '--identity "0x12" is not an identity hash',
      ],
      [['status', ACCOUNT, ACCOUNT], `unexpected argument "${ACCOUNT}"`],
      [['pending', '--yes'], 'pending takes no --yes'],
      [['rescan', 'now'], 'unexpected argument "now"'],
      [['proxy-rotate', 'bob'], 'NEW_ACCOUNT "bob" is not an SS58 account address'],
      [['pending', '--colour'], "Unknown option '--colour'"],
      [['frobnicate'], 'usage: registrar <command>'],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args, adminOnly())));
    cases.forEach(([args, message], i) => {
      const run = runs[i];
      expect({ args, code: run?.code, stdout: run?.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run?.stderr).toContain(message);
    });
    // A judgement name in any case is that judgement: checked, then sent as the API spells it.
    const judged = await cli(['judge', ACCOUNT, 'erroneous', '--yes', '--by', 'Ann Ops'], adminOnly());
    expect(judged.code).toBe(1);
    expect(judged.stderr).toContain('not in this test');
    expect(received).toEqual(['POST /admin/judge']);
  });

  it('prints the usage to stdout with exit code 0 when asked', async () => {
    for (const run of await Promise.all(
      [['--help'], ['help'], ['status', '--help']].map((args) => cli(args)),
    )) {
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('usage: registrar <command>');
      expect(run.stdout).toContain('reviews ACCOUNT [--json]');
    }
  });
});

describe('registrar sanctions', () => {
  it('imports a list file through the admin API, shows it, and keeps it when a bad file comes', async () => {
    const imported = await cli(['sanctions', 'import', fixture('sdn.xml')], adminOnly());
    expect(imported).toEqual({
      code: 0,
      stdout:
        'Imported the ofac list of 2026-11-28 (6 entries) from sdn.xml.\nScreened 0 name(s) again: 0 new hit(s) in the review queue.\n',
      stderr: '',
    });
    const eu = await cli(['sanctions', 'import', fixture('eu.xml'), '--format', 'eu'], adminOnly());
    expect(eu.code).toBe(0);
    expect(eu.stdout).toContain('Imported the eu list of 2026-12-01 (4 entries) from eu.xml.');
    // The EU file named as OFAC, and a file that is no list: refused, and the kept lists stay.
    const wrong = await cli(['sanctions', 'import', fixture('eu.xml'), '--format', 'ofac'], adminOnly());
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the file is not in the ofac format');
    expect(wrong.stderr).toContain('the kept list is unchanged');
    const junk = join(mkdtempSync(join(tmpdir(), 'sanctions-')), 'junk.xml');
    writeFileSync(
      junk,
      '<sdnList><publshInformation><Publish_Date>11/29/2026</Publish_Date></publshInformation>',
    );
    const cut = await cli(['sanctions', 'import', junk], adminOnly());
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain('not well-formed XML: the document ends inside <sdnList>');
    const status = await cli(['sanctions', 'status'], adminOnly());
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^format\s+source\s+list date\s+imported\s+entries\neu\s+eu.xml\s+2026-12-01\s+\S+\s+4\nofac\s+sdn.xml\s+2026-11-28\s+\S+\s+6\n/,
    );
    expect(status.stdout).toContain('review queue: 0 hit(s), 0 not reviewed');
    expect((await store.sanctionsLists()).map((l) => l.entries.length)).toEqual([4, 6]);
    const hits = await cli(['sanctions', 'hits', '--json'], adminOnly());
    expect(hits).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
  });

  it('takes a file up to 64 MiB: the CLI refuses a bigger one before sending, the admin API too', async () => {
    received.length = 0;
    const big = join(mkdtempSync(join(tmpdir(), 'sanctions-')), 'big.xml');
    // A sparse file: its size is what is checked, nothing is read.
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024 + 1);
    const before = await store.sanctionsListInfo();
    const refused = await cli(['sanctions', 'import', big], adminOnly());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is larger than 67108864 bytes');
    expect(received).toEqual([]);
    const response = await fetch(`${adminUrl}/admin/sanctions/import?source=big.xml`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/xml' },
      body: Buffer.alloc(64 * 1024 * 1024 + 1, 0x20),
    });
    expect(response.status).toBe(413);
    expect(await store.sanctionsListInfo()).toEqual(before);
  });

  it('checks its arguments before anything is sent (exit code 2)', async () => {
    received.length = 0;
    for (const [args, message] of [
      [['sanctions'], 'sanctions takes import FILE, status or hits'],
      [['sanctions', 'import'], 'give the FILE to import'],
      [['sanctions', 'import', 'a.xml', 'b.xml'], 'unexpected argument "b.xml"'],
      [['sanctions', 'import', 'a.xml', '--format', 'un'], '--format "un" is not ofac or eu'],
      [['sanctions', 'status', '--format', 'eu'], 'sanctions status takes no --format'],
    ] as [string[], string][]) {
      const result = await cli(args, adminOnly());
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stderr).toContain(message);
    }
    expect(received).toEqual([]);
    // A file that is not there is a failure of its own, before the daemon is asked.
    const missing = await cli(['sanctions', 'import', '/nonexistent/sdn.xml'], adminOnly());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read /nonexistent/sdn.xml');
    expect(received).toEqual([]);
  });
});

describe('metrics on the admin address', () => {
  it('serves /metrics on the admin API behind its token', async () => {
    expect((await fetch(`${adminUrl}/metrics`)).status).toBe(401);
    const scraped = await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toContain('text/plain');
  });

  it('is a setting: public by default, admin only with the admin API on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'registrar-cli-'));
    const base = {
      REGISTRAR_CHAIN_ENDPOINTS: 'ws://127.0.0.1:9944',
      REGISTRAR_INDEX: '3',
      REGISTRAR_ACCOUNT: ACCOUNT,
      REGISTRAR_PROXY_SEED: '//Proxy',
      REGISTRAR_PUBLIC_URL: 'https://registrar.example',
      REGISTRAR_JWT_SECRET: 'j'.repeat(40),
    };
    expect(loadConfig(base).metricsOn).toBe('public');
    expect(() => loadConfig({ ...base, REGISTRAR_METRICS_ON: 'admin' })).toThrow(
      'REGISTRAR_METRICS_ON: admin needs the admin API: set REGISTRAR_ADMIN_TOKEN',
    );
    writeFileSync(join(dir, 'token'), TOKEN);
    expect(
      loadConfig({ ...base, REGISTRAR_METRICS_ON: 'admin', REGISTRAR_ADMIN_TOKEN_FILE: join(dir, 'token') })
        .metricsOn,
    ).toBe('admin');
  });
});
