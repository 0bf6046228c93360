/**
 * The sweep of judged proofs at scale: 10,000 judged identities, all due at once, checked again by
 * the registrar's own sweep (`Sweep.tick`, as the leader runs it) through the real channels against
 * local stand-ins, over the real SQLite store. A fifth each: a website (a DNS server holding its
 * TXT line, an HTTPS site for the ones gone), a GitHub account by its ID, a GitHub gist, a Discord
 * account by its ID (the bot's REST), an X account by its ID (twitter-api-v2 over HTTPS). The chain
 * is scripted (every judgement stands); one in BENCH_SWEEP_GONE is gone (a grace starts). Prints
 * time, peak memory, outcomes per channel and the most checks begun in any second against the
 * configured rate. Run: npm run bench (or node dist-bench/bench/sweep.js); BENCH_SWEEP_N (10,000),
 * BENCH_SWEEP_PERIOD_SECONDS (60) and BENCH_SWEEP_GONE (1 in 100) size it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { pino } from 'pino';
import { AccountChannel, proofLine } from '../src/channels/account.js';
import type { Channel, RecheckedProof } from '../src/channels/channel.js';
import { DiscordAccounts } from '../src/channels/discord.js';
import { GithubAccounts } from '../src/channels/github.js';
import { GistProof } from '../src/channels/github-gist.js';
import { XAccounts } from '../src/channels/twitter.js';
import { TwitterPostProof } from '../src/channels/twitter-post.js';
import { WEB_PROOF_LABEL, WebChannel } from '../src/channels/web.js';
import { Secret } from '../src/config.js';
import { TestDiscord } from '../src/dev/stand-ins/discord-gateway.js';
import { OAuthServer } from '../src/dev/stand-ins/oauth-server.js';
import { WebSite } from '../src/dev/stand-ins/web-site.js';
import type { Field } from '../src/domain/fields.js';
import type { JudgedProof } from '../src/domain/sweep.js';
import { evenRate, sweepTick } from '../src/domain/sweep.js';
import { NO_METRICS } from '../src/registrar/metrics.js';
import { Sweep, type SweepFinding } from '../src/registrar/sweep.js';
import { SqliteStore } from '../src/store/sqlite.js';

const N = Number(process.env.BENCH_SWEEP_N ?? 10_000);
const PERIOD_MS = Number(process.env.BENCH_SWEEP_PERIOD_SECONDS ?? 60) * 1000;
const GONE_EVERY = Number(process.env.BENCH_SWEEP_GONE ?? 100);
const INDEX = 1;
const HASH = `0x${'ab'.repeat(32)}`;

const hostOf = (i: number) => `site-${i}.bench.test`;
const accountOf = (i: number) => `account-${i}`;
const nonceOf = (i: number) => `N${String(i).padStart(7, '0')}`;

const [site, github, x, discord] = await Promise.all([
  WebSite.start(['*.bench.test'], true),
  OAuthServer.start('github'),
  OAuthServer.start('x'),
  TestDiscord.start(),
]);
const SITE = site.address ?? '';
const original = getCACertificates('default');
setDefaultCACertificates([...original, site.ca, readFileSync(x.caFile ?? '', 'utf8')]);
const dir = mkdtempSync(join(tmpdir(), 'registrar-bench-sweep-'));
const store = new SqliteStore(join(dir, 'bench.sqlite'));
let now = 1_000_000;

/** The kinds of judged proof, a fifth each: what is kept, and what the stand-in serves (or not). */
const KINDS = ['web', 'github', 'gist', 'discord', 'twitter'] as const;
const fieldOf: Record<(typeof KINDS)[number], Field> = {
  web: 'web',
  github: 'github',
  gist: 'github',
  discord: 'discord',
  twitter: 'twitter',
};
for (let i = 0; i < N; i++) {
  const kind = KINDS[i % KINDS.length] ?? 'web';
  const gone = Math.floor(i / KINDS.length) % GONE_EVERY === 0;
  const account = accountOf(i);
  const id = String(1_000_000 + i);
  const handle = `user${i}`;
  const line = proofLine({ account, nonce: nonceOf(i) });
  const kept: Partial<JudgedProof> = { subject: handle, serviceId: id };
  if (kind === 'web') {
    // Gone: the line taken down (the site answers 404, a definite answer).
    if (gone) site.addresses.set(hostOf(i), SITE);
    else site.texts.set(`${WEB_PROOF_LABEL}.${hostOf(i)}`, [[line]]);
    Object.assign(kept, { subject: hostOf(i), serviceId: undefined, nonce: nonceOf(i) });
  } else if (kind === 'gist') {
    const gist = i.toString(16).padStart(20, '0');
    github.gists.set(gist, {
      owner: { id, name: handle },
      public: true,
      files: { 'proof.txt': gone ? 'taken down' : line },
    });
    Object.assign(kept, { nonce: nonceOf(i), postUrl: `https://gist.github.com/${gist}` });
  } else if (!gone) {
    // Gone: no such account any more (deleted, suspended).
    if (kind === 'github') github.accounts.set(id, handle);
    if (kind === 'twitter') x.accounts.set(id, handle);
    if (kind === 'discord') discord.users.set(id, { username: handle });
  }
  await store.saveJudgedProof({
    account,
    registrarIndex: INDEX,
    field: fieldOf[kind],
    subject: kept.subject ?? handle,
    ...(kept.serviceId === undefined ? {} : { serviceId: kept.serviceId }),
    ...(kept.nonce === undefined ? {} : { nonce: kept.nonce }),
    ...(kept.postUrl === undefined ? {} : { postUrl: kept.postUrl }),
    identityHash: HASH,
    judgedAt: now,
    nextCheckAt: now + PERIOD_MS,
  });
}

/** When each check began (ms, monotonic), to find the busiest second. */
const started: number[] = [];
/** The channel, its checks counted as they begin. */
const counted = (channel: Channel): Channel =>
  Object.assign(Object.create(channel) as Channel, {
    recheck: (proof: RecheckedProof) => {
      started.push(performance.now());
      return channel.recheck?.(proof);
    },
  });
const channels = new Map<Field, Channel>([
  ['web', new WebChannel({ dnsServers: [`127.0.0.1:${site.dnsPort}`], allowLoopback: true })],
  [
    'github',
    new AccountChannel('github', {
      post: new GistProof({ apiUrl: github.apiUrl, token: undefined }),
      accounts: new GithubAccounts({ apiUrl: github.apiUrl, token: new Secret(github.appToken) }),
    }),
  ],
  [
    'discord',
    new AccountChannel('discord', {
      messenger: { start: async () => {}, send: async () => ({}), close: async () => {} },
      accounts: new DiscordAccounts({ apiUrl: `${discord.url}/api/v10`, token: new Secret('bench-bot') }),
    }),
  ],
  [
    'twitter',
    new AccountChannel('twitter', {
      post: new TwitterPostProof(x.url),
      accounts: new XAccounts({ apiUrl: x.apiUrl, bearerToken: new Secret(x.appToken) }),
    }),
  ],
]);
const log = pino({ level: 'silent' });
const times = { periodMs: PERIOD_MS, graceMs: 14 * 86_400_000 };
const sweep = new Sweep({
  store,
  chain: {
    identity: async () => ({
      info: { layout: 'people', values: {} },
      snapshot: { infoHex: '0x00', hash: HASH },
      judgements: [{ registrarIndex: INDEX, judgement: 'Reasonable' }],
    }),
  },
  channels: new Map([...channels].map(([field, channel]) => [field, counted(channel)])),
  registrarIndex: INDEX,
  times,
  // No OutOfDate is given here: a grace of 14 days does not end within the benchmark.
  judging: { judgeByHand: async () => ({ kind: 'failed', error: 'not in this benchmark' }) },
  tokens: { nonceFor: () => '' },
  metrics: NO_METRICS,
  publicUrl: 'https://registrar.bench.test',
  operator: { index: INDEX },
  sendTimeoutMs: 30_000,
  log,
  now: () => now,
});

let peakRss = 0;
let peakHeap = 0;
const sample = () => {
  const { rss, heapUsed } = process.memoryUsage();
  peakRss = Math.max(peakRss, rss);
  peakHeap = Math.max(peakHeap, heapUsed);
};
sample();
const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
const sampler = setInterval(sample, 100);

// Every proof is due at once (all judged together): the ticks spread them, as the leader's do.
now += PERIOD_MS;
const tickMs = sweepTick(times);
const findings: SweepFinding[] = [];
const begin = performance.now();
let ticks = 0;
while (findings.length < N) {
  const tickStart = performance.now();
  findings.push(...(await sweep.tick(tickMs)));
  ticks += 1;
  // The leader's timer: the next tick a tick after this one began, unless this one ran over.
  const rest = tickMs - (performance.now() - tickStart);
  if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
}
const seconds = (performance.now() - begin) / 1000;
clearInterval(sampler);
sample();

let busiest = 0;
for (let first = 0, last = 0; last < started.length; last++) {
  while ((started[last] ?? 0) - (started[first] ?? 0) >= 1000) first++;
  busiest = Math.max(busiest, last - first + 1);
}
const counts = new Map<string, Map<string, number>>();
for (const f of findings) {
  const byOutcome = counts.get(f.field) ?? new Map<string, number>();
  byOutcome.set(f.outcome, (byOutcome.get(f.outcome) ?? 0) + 1);
  counts.set(f.field, byOutcome);
}

await store.close();
await Promise.all([site.close(), github.close(), x.close(), discord.close()]);
setDefaultCACertificates(original);
rmSync(dir, { recursive: true, force: true });

const rate = evenRate(N, times);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
console.log(
  `Sweep of ${N.toLocaleString('en')} judged identities (websites, GitHub by ID and by gist, Discord, X), all due at once, period ${PERIOD_MS / 1000} s, tick ${tickMs} ms, Node ${process.version}`,
);
console.table([
  { figure: 'checks made', value: started.length.toLocaleString('en') },
  ...[...counts].map(([field, byOutcome]) => ({
    figure: `outcomes: ${field}`,
    value: [...byOutcome].map(([k, v]) => `${k} ${v}`).join(', '),
  })),
  { figure: 'ticks', value: ticks },
  { figure: 'time for all', value: `${seconds.toFixed(1)} s (the period: ${PERIOD_MS / 1000} s)` },
  { figure: 'configured rate (proofs / period)', value: `${rate.toFixed(1)} checks/s` },
  { figure: 'mean rate', value: `${(started.length / seconds).toFixed(1)} checks/s` },
  { figure: 'most checks begun in any 1 s', value: busiest },
  { figure: 'peak RSS (before the sweep)', value: `${mib(peakRss)} (${mib(rssBefore)})` },
  { figure: 'peak heap used (before the sweep)', value: `${mib(peakHeap)} (${mib(heapBefore)})` },
]);
