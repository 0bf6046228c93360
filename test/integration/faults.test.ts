/**
 * Nothing lost, nothing leaked: the compiled daemon against the real runtime when a mail server
 * stalls, an endpoint lags behind, the leader of two instances is killed, the proxy is an Any
 * proxy without funds, and a client asks too often.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TestChain, UNIT } from '../support/chain.js';
import { type RunningDaemon, runDaemonToExit, startDaemon } from '../support/daemon.js';
import { confirm, DaemonHarness, eventually, FEE, freePort } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const DISPLAY_AND_EMAIL = 1 | 16;

const judgedOnChain = (h: DaemonHarness, address: string) =>
  h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === address);

async function logShows(daemon: RunningDaemon | undefined, text: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => (daemon?.output().includes(text) ? true : undefined),
    `log "${text}"`,
    timeoutMs,
  );
}

describe('a mail server that accepts and never answers', () => {
  let h: DaemonHarness;
  beforeAll(async () => {
    h = await DaemonHarness.start(DISPLAY_AND_EMAIL, { REGISTRAR_DELIVERY_TIMEOUT_SECONDS: '2' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('holds up neither chain events nor pages, and its mail goes out once it answers again', async () => {
    h.smtpRelay.mode = 'hang';
    const first = await h.newPerson({ display: 'Stalled One', email: 'stalled1@example.org' });
    const second = await h.newPerson({ display: 'Stalled Two', email: 'stalled2@example.org' });
    await h.chain.requestJudgement(first, h.index, 2n * FEE);
    await h.statusBecomes(first.address, 'open');
    await h.chain.requestJudgement(second, h.index, 2n * FEE);
    // Before the outbox, the first mail held the watcher's queue for minutes.
    await h.statusBecomes(second.address, 'open');
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    await logShows(h.daemon, 'challenge could not be delivered; trying again later');
    expect(h.mailbox.mails).toHaveLength(0);
    const waiting = (await h.statusOf(first.address)).fields.email as { nextMessageAt?: number };
    expect(waiting.nextMessageAt).toBeGreaterThan(Date.now());
    const page = await fetch(`${h.url}/status/${first.address}`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('The message for it goes out at');

    h.smtpRelay.mode = 'relay';
    h.smtpRelay.cut();
    const links = await Promise.all(
      ['stalled1@example.org', 'stalled2@example.org'].map(async (to) =>
        linkIn(await h.mailbox.nextMail(to, 1, 90_000)),
      ),
    );
    for (const link of links) expect((await confirm(link)).status).toBe(200);
    await judgedOnChain(h, first.address);
    await judgedOnChain(h, second.address);
    expect(h.mailbox.mailsTo('stalled1@example.org')).toHaveLength(1);
    expect(h.mailbox.mailsTo('stalled2@example.org')).toHaveLength(1);
  }, 150_000);
});

describe('two instances on one store', () => {
  let h: DaemonHarness;
  let follower: RunningDaemon | undefined;
  beforeAll(async () => {
    h = await DaemonHarness.start(DISPLAY_AND_EMAIL, { REGISTRAR_LEASE_SECONDS: '3' });
  });
  afterAll(async () => {
    await follower?.stop();
    await h?.close();
  });

  it('has one judge and one mailer; when the leader is killed the other takes over', async () => {
    const followerPort = await freePort();
    const adminPort = await freePort();
    const adminToken = 'follower-admin-token-0123456789abcdef';
    follower = await startDaemon({
      ...h.env(),
      REGISTRAR_HTTP_PORT: String(followerPort),
      REGISTRAR_ADMIN_TOKEN: adminToken,
      REGISTRAR_ADMIN_PORT: String(adminPort),
    });
    expect(follower.output()).toContain('"role":"follower"');
    const followerUrl = `http://127.0.0.1:${followerPort}`;
    const rescan = () =>
      fetch(`http://127.0.0.1:${adminPort}/admin/rescan`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
      });
    // A follower neither reconciles nor judges, even when asked.
    const refused = await rescan();
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('another instance holds the lease');

    // Confirmed through the follower's pages, judged by the leader.
    const early = await h.newPerson({ display: 'Early', email: 'early@example.org' });
    await h.chain.requestJudgement(early, h.index, 2n * FEE);
    const earlyLink = linkIn(await h.mailbox.nextMail('early@example.org'));
    expect((await confirm(earlyLink.replace(h.url, followerUrl))).status).toBe(200);
    await judgedOnChain(h, early.address);

    // Open, its mail delivered by the leader, when the leader dies.
    const between = await h.newPerson({ display: 'Between', email: 'between@example.org' });
    await h.chain.requestJudgement(between, h.index, 2n * FEE);
    const betweenLink = linkIn(await h.mailbox.nextMail('between@example.org'));
    // Killed after the delivery is on record. (Between the SMTP server's acceptance and that write
    // a crash means the mail goes again: delivery is at least once, never lost.)
    await eventually(
      async () =>
        h.daemon
          ?.output()
          .split('\n')
          .some((line) => line.includes(between.address) && line.includes('"challenge sent"'))
          ? true
          : undefined,
      'the delivery on record',
    );
    await h.daemon?.kill();

    await logShows(follower, 'this instance holds the lease');
    await logShows(follower, '"reason":"start-up"');
    const late = await h.newPerson({ display: 'Late', email: 'late@example.org' });
    await h.chain.requestJudgement(late, h.index, 2n * FEE);
    const lateLink = linkIn(await h.mailbox.nextMail('late@example.org'));
    for (const link of [betweenLink, lateLink]) {
      expect((await confirm(link.replace(h.url, followerUrl))).status).toBe(200);
    }
    await judgedOnChain(h, between.address);
    await judgedOnChain(h, late.address);
    expect((await rescan()).status).toBe(200);

    for (const to of ['early@example.org', 'between@example.org', 'late@example.org']) {
      expect(h.mailbox.mailsTo(to)).toHaveLength(1);
    }
    const store = new SqliteStore(join(h.dataDir, 'registrar.sqlite'));
    try {
      for (const person of [early, between, late]) {
        // The audit entry is written just after the chain shows the judgement.
        const entries = await eventually(async () => {
          const found = await store.listJudgements(person.address);
          return found.length > 0 ? found : undefined;
        }, 'the audit log entry');
        expect(entries).toHaveLength(1);
      }
    } finally {
      await store.close();
    }
  }, 180_000);
});

describe('an endpoint that lags behind', () => {
  let h: DaemonHarness;
  let behind: TestChain;
  beforeAll(async () => {
    behind = await TestChain.start({ mode: 'Instant' });
    h = await DaemonHarness.start(DISPLAY_AND_EMAIL);
    await h.restart({ REGISTRAR_CHAIN_ENDPOINTS: `ws://127.0.0.1:${h.relay.port},${behind.endpoint}` });
    // Two runtimes and two daemon starts: minutes on a busy 2-core machine.
  }, 300_000);
  afterAll(async () => {
    await h?.close();
    await behind?.close();
  });

  it('is refused: nothing is closed or voided after a failover to it', async () => {
    const person = await h.newPerson({ display: 'Patient', email: 'patient@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const link = linkIn(await h.mailbox.nextMail('patient@example.org'));

    h.relay.mode = 'refuse';
    h.relay.cut();
    await logShows(h.daemon, 'chain endpoint is behind blocks already seen');
    const status = await h.statusOf(person.address);
    expect(status.status).toBe('open');

    h.relay.mode = 'relay';
    // Back on the first endpoint once it answers again.
    await eventually(
      async () => {
        const health = (await (await fetch(`${h.url}/healthz`)).json()) as {
          chain: { connected: boolean; endpoint: string };
        };
        return health.chain.connected && health.chain.endpoint.startsWith('#1 ') ? true : undefined;
      },
      'the daemon back on the first endpoint',
      90_000,
    );
    expect((await confirm(link)).status).toBe(200);
    await judgedOnChain(h, person.address);
    expect(h.mailbox.mailsTo('patient@example.org')).toHaveLength(1);
  }, 150_000);

  it('is refused after a restart too: the highest finalized block seen is kept in the store', async () => {
    // The lagging endpoint first: a new process knows nothing of the chain but what the store kept.
    await h.restart({ REGISTRAR_CHAIN_ENDPOINTS: `${behind.endpoint},ws://127.0.0.1:${h.relay.port}` });
    await logShows(h.daemon, 'chain endpoint is behind blocks already seen');
    const health = (await (await fetch(`${h.url}/healthz`)).json()) as { chain: { endpoint: string } };
    expect(health.chain.endpoint.startsWith('#2 ')).toBe(true);
    // Nothing was read from the lagging node: requests still open and judged as before.
    const person = await h.newPerson({ display: 'Restarted', email: 'restarted@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    expect((await confirm(linkIn(await h.mailbox.nextMail('restarted@example.org')))).status).toBe(200);
    await judgedOnChain(h, person.address);
  }, 150_000);
});

describe('the proxy the chain has', () => {
  let h: DaemonHarness;
  let daemon: RunningDaemon | undefined;
  let dataDir: string;
  beforeAll(async () => {
    h = await DaemonHarness.start(DISPLAY_AND_EMAIL);
    dataDir = mkdtempSync(join(tmpdir(), 'registrar-any-'));
  });
  afterAll(async () => {
    await daemon?.stop();
    await h?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * A registrar (display names only) whose daemon key `//{name}Proxy`, unfunded, holds only a
   * `type` proxy; with the settings of a daemon for it on its own store and port, which allow
   * judging display names alone.
   */
  async function registrarWithProxy(name: string, type: string) {
    const registrar = h.chain.account(`//${name}Registrar`);
    const proxy = h.chain.account(`//${name}Proxy`);
    await h.chain.fund(registrar.address);
    const index = await h.chain.makeRegistrar(registrar, { fee: UNIT, fields: 1 });
    await h.chain.submit(h.chain.api.tx.proxy.addProxy(proxy.address, type as never, 0), registrar);
    const port = await freePort();
    const env = {
      ...h.env(),
      REGISTRAR_INDEX: String(index),
      REGISTRAR_ACCOUNT: registrar.address,
      REGISTRAR_PROXY_SEED: `//${name}Proxy`,
      REGISTRAR_STORE: `sqlite:${join(dataDir, `${name}.sqlite`)}`,
      REGISTRAR_HTTP_PORT: String(port),
      REGISTRAR_ALLOW_DISPLAY_ONLY: 'true',
    };
    return { registrar, proxy, index, port, env };
  }

  it('judges through an Any proxy, and /readyz says so while it has no funds for fees', async () => {
    const { proxy, index, port, env } = await registrarWithProxy('Any', 'Any');
    daemon = await startDaemon(env);
    expect(daemon.output()).toContain('"proxyType":"Any"');

    const person = await h.newPerson({ display: 'Named Only' });
    await h.chain.requestJudgement(person, index, 2n * UNIT);
    const failing = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        const body = (await response.json()) as { checks: Record<string, string> };
        return response.status === 503 && body.checks.judgements?.startsWith('failing') ? body : undefined;
      },
      '/readyz reporting failing judgements',
      60_000,
    );
    expect(failing.checks.judgements).toContain('3 in a row');
    expect(daemon.output()).toContain('judgements keep failing; the operator must act');

    await h.chain.fund(proxy.address);
    await h.chain.waitForEvent(
      'identity',
      'JudgementGiven',
      (e) => e.data.target === person.address && e.data.registrarIndex === index,
      90_000,
    );
    expect(await h.chain.judgementOf(person.address, index)).toBe('Reasonable');
    await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await response.json()) as { checks: Record<string, string> };
      return body.checks.judgements === 'ok' ? true : undefined;
    }, '/readyz recovering');
  }, 180_000);

  it('refuses to start with a proxy whose type cannot give judgements, naming what it has', async () => {
    const { registrar, proxy, env } = await registrarWithProxy('CancelOnly', 'CancelProxy');
    const result = await runDaemonToExit(env);
    expect(result.code).toBe(2);
    expect(result.output).toContain(
      `REGISTRAR_PROXY_SEED: its account ${proxy.address} is a proxy of ${registrar.address} only as CancelProxy, which cannot give judgements`,
    );
  }, 150_000);

  it('refuses a display-only mask unless REGISTRAR_ALLOW_DISPLAY_ONLY is set, then says what it judges', async () => {
    const { index, port, env } = await registrarWithProxy('DisplayOnly', 'IdentityJudgement');
    const refused = await runDaemonToExit({ ...env, REGISTRAR_ALLOW_DISPLAY_ONLY: 'false' });
    expect(refused.code).toBe(2);
    expect(refused.output).toContain(
      `REGISTRAR_ALLOW_DISPLAY_ONLY: the on-chain mask of registrar #${index} (display) holds no account field (email, matrix, twitter, discord, github, web, pgpFingerprint), so every judgement would rest on the display-name check alone; add account fields with identity.setFields(${index}, MASK)`,
    );
    expect(refused.output).toContain(
      'or set REGISTRAR_ALLOW_DISPLAY_ONLY=true to judge on display names alone',
    );

    await daemon?.stop();
    daemon = await startDaemon(env);
    const warnings = daemon
      .output()
      .split('\n')
      .filter((line) => line.includes('judges display names alone'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] ?? '{}')).toMatchObject({ level: 40, index, fields: ['display'] });
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain('This registrar judges display names alone.');
    expect(page).toContain(
      'Its judgement means only that the display name is not a look-alike of a name it already judged; it does not verify that any account, address or name belongs to the person.',
    );
  }, 240_000);

  it('limits requests per client address and names endpoints without their credentials', async () => {
    await daemon?.stop();
    const port = await freePort();
    daemon = await startDaemon({
      ...h.env(),
      REGISTRAR_CHAIN_ENDPOINTS: `ws://127.0.0.1:${h.relay.port}/v1/secret-api-key-123`,
      REGISTRAR_STORE: `sqlite:${join(dataDir, 'limited.sqlite')}`,
      REGISTRAR_HTTP_PORT: String(port),
      REGISTRAR_REQUESTS_PER_MINUTE_PER_IP: '5',
    });
    const url = `http://127.0.0.1:${port}`;
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${url}/confirm/not-a-token-${i}`)).status);
    expect(statuses).toEqual([410, 410, 410, 410, 410, 429, 429]);
    // Monitoring is not limited.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const body = JSON.stringify(await health.json());
    expect(body).toContain(`"endpoint":"#1 127.0.0.1:${h.relay.port}"`);
    expect(body).not.toContain('secret-api-key');
    // A dropped socket: the chain library reports it with the endpoint's URL, which the log cuts.
    const running = daemon;
    h.relay.cut();
    await eventually(
      async () => (running.output().includes('"chain reconnected"') ? true : undefined),
      'the daemon reconnected after the drop',
      60_000,
    );
    expect(running.output()).toContain('"from":"library"');
    expect(running.output()).not.toContain('secret-api-key');
  }, 90_000);
});
