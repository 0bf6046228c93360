/**
 * The sweep of judged proofs at scale: 10,000 judged websites, all due at once, checked again by the
 * registrar's own sweep (`Sweep.tick`, as the leader runs it) through the real web channel against
 * local stand-ins (a DNS server holding each site's TXT line, an HTTPS site for the ones gone), over
 * the real SQLite store. The chain is scripted (every judgement stands); a check found gone starts a
 * grace. Prints time, peak memory and the most checks seen in any second against the configured
 * rate. Run: npm run bench (or node dist-bench/bench/sweep.js); BENCH_SWEEP_N (10,000),
 * BENCH_SWEEP_PERIOD_SECONDS (60) and BENCH_SWEEP_GONE (1 in 100) size it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { pino } from 'pino';
import { proofLine } from '../src/channels/account.js';
import type { RecheckedProof } from '../src/channels/channel.js';
import { WEB_PROOF_LABEL, WebChannel } from '../src/channels/web.js';
import { WebSite } from '../src/dev/stand-ins/web-site.js';
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

const site = await WebSite.start(['*.bench.test'], true);
const SITE = site.address ?? '';
const original = getCACertificates('default');
setDefaultCACertificates([...original, site.ca]);
const dir = mkdtempSync(join(tmpdir(), 'registrar-bench-sweep-'));
const store = new SqliteStore(join(dir, 'bench.sqlite'));
let now = 1_000_000;

// Every site publishes its line in DNS, but one in GONE_EVERY, which took it down (its site
// answers 404, a definite answer: a grace starts).
for (let i = 0; i < N; i++) {
  const host = hostOf(i);
  if (i % GONE_EVERY === 0) site.addresses.set(host, SITE);
  else
    site.texts.set(`${WEB_PROOF_LABEL}.${host}`, [[proofLine({ account: accountOf(i), nonce: nonceOf(i) })]]);
  await store.saveJudgedProof({
    account: accountOf(i),
    registrarIndex: INDEX,
    field: 'web',
    subject: host,
    nonce: nonceOf(i),
    identityHash: HASH,
    judgedAt: now,
    nextCheckAt: now + PERIOD_MS,
  });
}

/** When each check began (ms, monotonic), to find the busiest second. */
const started: number[] = [];
const web = new WebChannel({ dnsServers: [`127.0.0.1:${site.dnsPort}`], allowLoopback: true });
const channel = Object.assign(Object.create(web) as WebChannel, {
  recheck: (proof: RecheckedProof) => {
    started.push(performance.now());
    return web.recheck(proof);
  },
});
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
  channels: new Map([['web', channel]]),
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
const rssBefore = process.memoryUsage().rss;
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
const counts = new Map<string, number>();
for (const f of findings) counts.set(f.outcome, (counts.get(f.outcome) ?? 0) + 1);

await store.close();
await site.close();
setDefaultCACertificates(original);
rmSync(dir, { recursive: true, force: true });

const rate = evenRate(N, times);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
console.log(
  `Sweep of ${N.toLocaleString('en')} judged websites, all due at once, period ${PERIOD_MS / 1000} s, tick ${tickMs} ms, Node ${process.version}`,
);
console.table([
  { figure: 'checks made', value: started.length.toLocaleString('en') },
  { figure: 'outcomes', value: [...counts].map(([k, v]) => `${k} ${v}`).join(', ') },
  { figure: 'ticks', value: ticks },
  { figure: 'time for all', value: `${seconds.toFixed(1)} s (the period: ${PERIOD_MS / 1000} s)` },
  { figure: 'configured rate (proofs / period)', value: `${rate.toFixed(1)} checks/s` },
  { figure: 'mean rate', value: `${(started.length / seconds).toFixed(1)} checks/s` },
  { figure: 'most checks begun in any 1 s', value: busiest },
  { figure: 'peak RSS (before the sweep)', value: `${mib(peakRss)} (${mib(rssBefore)})` },
  { figure: 'peak heap used', value: mib(peakHeap) },
]);
