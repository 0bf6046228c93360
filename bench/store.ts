/**
 * How fast the embedded SQLite store does what the registrar does most, and what it costs in memory.
 * Run: npm run bench. Prints one table; not part of the test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Challenge, JudgementRequest } from '../src/domain/request.js';
import { SqliteStore } from '../src/store/sqlite.js';

const N = Number(process.env.BENCH_N ?? 5_000);

function request(i: number): JudgementRequest {
  return {
    id: `req-${i}`,
    account: `account-${i}`,
    registrarIndex: 0,
    status: 'open',
    snapshot: { infoHex: `0x${'00'.repeat(120)}`, hash: `0x${'ab'.repeat(32)}` },
    fields: {
      display: { status: 'confirmed', value: `Person ${i}`, subject: `Person ${i}`, confirmedAt: 1 },
      email: { status: 'awaiting', value: `person${i}@example.org`, subject: `person${i}@example.org` },
    },
    createdAt: i,
    updatedAt: i,
    version: 0,
  };
}

function challenge(i: number): Challenge {
  return {
    id: `chl-${i}`,
    requestId: `req-${i}`,
    account: `account-${i}`,
    field: 'email',
    snapshotHash: `0x${'ab'.repeat(32)}`,
    subject: `person${i}@example.org`,
    createdAt: 1,
    expiresAt: Number.MAX_SAFE_INTEGER,
  };
}

async function measure(name: string, count: number, work: (i: number) => Promise<unknown>) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await work(i);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    operation: name,
    count,
    'total ms': ms.toFixed(1),
    'ops/s': Math.round((count / ms) * 1000),
    'µs/op': ((ms * 1000) / count).toFixed(1),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'registrar-bench-'));
const store = new SqliteStore(join(dir, 'bench.sqlite'));
const heapBefore = process.memoryUsage().heapUsed;
const rows = [
  await measure('insertRequest', N, (i) => store.insertRequest(request(i))),
  await measure('getRequest', N, (i) => store.getRequest(`req-${i}`)),
  await measure('findOpenRequest', N, (i) => store.findOpenRequest(`account-${i}`, 0)),
  await measure('updateRequest (CAS)', N, async (i) => {
    const current = await store.getRequest(`req-${i}`);
    if (current) await store.updateRequest({ ...current, updatedAt: i + 1 });
  }),
  await measure('insertChallenge', N, (i) => store.insertChallenge(challenge(i))),
  await measure('listChallenges', N, (i) => store.listChallenges(`req-${i}`)),
  await measure('consumeChallenge', N, (i) => store.consumeChallenge(`chl-${i}`, 2)),
  await measure(`listOpenRequests (${N} open)`, 20, () => store.listOpenRequests(0)),
];
const heapAfter = process.memoryUsage().heapUsed;
await store.close();
rmSync(dir, { recursive: true, force: true });

console.log(`SQLite store, ${N} requests, synchronous=FULL, Node ${process.version}`);
console.table(rows);
console.log(
  `heap growth over the run: ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB; rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`,
);
