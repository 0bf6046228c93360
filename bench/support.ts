/**
 * What the chain benchmarks share: a real People runtime (chopsticks) behind a relay whose finality
 * trails by a few blocks, a block every few seconds, identities written straight into its storage,
 * and the compiled daemon as a child process whose memory is read from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KeyringPair } from '@polkadot/keyring/types';
import { FinalityRelay, type RelayedCall } from '../src/dev/finality-relay.js';
import { TestChain, UNIT } from '../src/dev/local-chain.js';

export { nameOf, writeIdentities } from '../src/dev/storage-identities.js';

import { TestMailbox } from '../src/dev/mailbox.js';

export const FEE = UNIT;
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789';

/** Builds a block every `intervalMs` (after the previous one is built), as a live chain does. */
export class BlockProducer {
  readonly built: { number: number; hash: string; at: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private building: Promise<void> = Promise.resolve();

  constructor(
    private readonly chain: TestChain,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.building = this.buildOne().then(
        () => undefined,
        () => undefined,
      );
      void this.building.then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  async buildOne(): Promise<{ number: number; hash: string; at: number }> {
    const hash = await this.chain.newBlock();
    const at = Date.now();
    const header = await this.chain.api.rpc.chain.getHeader(hash);
    const block = { number: header.number.toNumber(), hash, at };
    this.built.push(block);
    return block;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.building.catch(() => undefined);
  }
}

export interface RunningDaemon {
  child: ChildProcess;
  startedAt: number;
  output(): string;
  /** Resident memory now and its peak, in MiB (/proc/PID/status VmRSS and VmHWM). */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

export function spawnDaemon(env: Record<string, string>): RunningDaemon {
  const script = process.env.BENCH_DAEMON ?? 'dist/main.js';
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    startedAt: Date.now(),
    output: () => output,
    memory: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
      return { rss: kb('VmRSS'), peak: kb('VmHWM') };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
      // For finding out where a figure's time goes: the daemon's own log lines, with durations.
      if (process.env.BENCH_DAEMON_LOG) appendFileSync(process.env.BENCH_DAEMON_LOG, output);
    },
  };
}

/**
 * The time the node spends answering a listing of IdentityOf that passes through the relay (the
 * daemon's full scan): the union of the spans its key pages and their values were in flight, so
 * overlapping requests count once and a wait between them not at all; each page is counted once.
 */
export class ListingClock {
  private readonly spans: { from: number; to: number }[] = [];
  /** The pages already counted: a daemon that lists the same entries twice is timed for one. */
  private readonly counted = new Set<string>();

  constructor(private readonly prefix: string) {}

  record(call: RelayedCall): void {
    const [first, , startKey] = Array.isArray(call.params) ? (call.params as unknown[]) : [];
    let page: string | undefined;
    if (call.method === 'state_getKeysPaged' && first === this.prefix)
      page = `keys after ${String(startKey)}`;
    else if (
      call.method === 'state_queryStorageAt' &&
      Array.isArray(first) &&
      first.length > 0 &&
      first.every((key) => typeof key === 'string' && key.startsWith(this.prefix))
    )
      page = `values from ${String(first[0])}`;
    if (page === undefined || this.counted.has(page)) return;
    this.counted.add(page);
    // In epoch ms, as the rest of the bench times things.
    this.spans.push({
      from: performance.timeOrigin + call.sentAt,
      to: performance.timeOrigin + call.answeredAt,
    });
  }

  /** Milliseconds the node was answering the listing between `from` and `to` (epoch ms). */
  busy(from: number, to: number): number {
    let total = 0;
    let end = from;
    const spans = this.spans
      .map((span) => ({ from: Math.max(span.from, from), to: Math.min(span.to, to) }))
      .filter((span) => span.to > span.from)
      .sort((a, b) => a.from - b.from);
    for (const span of spans) {
      if (span.to <= end) continue;
      total += span.to - Math.max(span.from, end);
      end = span.to;
    }
    return total;
  }
}

/** A chain (with a registrar and its proxy), a relay, a mailbox and a data folder for one scenario. */
export class BenchWorld {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'registrar-bench-'));
  private people = 0;

  private constructor(
    readonly chain: TestChain,
    readonly relay: FinalityRelay,
    readonly mailbox: TestMailbox,
    readonly registrar: KeyringPair,
    readonly index: number,
    /** How long the node spends answering the listings that pass through the relay. */
    readonly listing: ListingClock,
  ) {}

  /** `mode`: Manual (blocks by a producer or by hand) or Instant; `lag`: finality, in blocks. */
  static async start(
    fields: number,
    options: { mode: 'Manual' | 'Instant'; lag: number },
  ): Promise<BenchWorld> {
    const chain = await TestChain.start({ mode: options.mode });
    const { registrar, index } = await chain.setUpRegistrar('Bench', { fee: FEE, fields });
    const listing = new ListingClock(chain.api.query.identity.identityOf.keyPrefix());
    const relay = await FinalityRelay.start(chain.endpoint, options.lag, (call) => listing.record(call));
    const mailbox = await TestMailbox.start();
    return new BenchWorld(chain, relay, mailbox, registrar, index, listing);
  }

  get storePath(): string {
    return join(this.dataDir, 'registrar.sqlite');
  }

  env(httpPort: number, adminPort: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      REGISTRAR_CHAIN_ENDPOINTS: this.relay.endpoint,
      REGISTRAR_INDEX: String(this.index),
      REGISTRAR_ACCOUNT: this.registrar.address,
      REGISTRAR_PROXY_SEED: '//BenchProxy',
      REGISTRAR_PUBLIC_URL: `http://127.0.0.1:${httpPort}`,
      REGISTRAR_JWT_SECRET: 'bench-secret-0123456789abcdef0123456789',
      REGISTRAR_STORE: `sqlite:${this.storePath}`,
      REGISTRAR_HTTP_PORT: String(httpPort),
      REGISTRAR_ADMIN_TOKEN: ADMIN_TOKEN,
      REGISTRAR_ADMIN_PORT: String(adminPort),
      REGISTRAR_SMTP_URL: `smtp://127.0.0.1:${this.mailbox.port}`,
      REGISTRAR_SMTP_FROM: 'Bench Registrar <registrar@example.org>',
      REGISTRAR_REQUESTS_PER_MINUTE_PER_IP: '1000000',
      REGISTRAR_MESSAGES_PER_ACCOUNT_PER_DAY: '1000',
      REGISTRAR_MESSAGES_PER_TARGET_PER_DAY: '1000',
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  /** A funded person with a real key (to sign its own identity calls). */
  async person(): Promise<KeyringPair> {
    const person = this.chain.account(`//BenchPerson${++this.people}`);
    await this.chain.fund(person.address);
    return person;
  }

  /** How many requests the daemon's store holds open, read from its SQLite file. */
  openRequests(): number {
    try {
      const db = new DatabaseSync(this.storePath, { readOnly: true });
      try {
        const row = db.prepare('SELECT count(*) AS n FROM requests WHERE is_open = 1').get() as { n: number };
        return row.n;
      } finally {
        db.close();
      }
    } catch {
      return 0; // Not created yet.
    }
  }

  async admin(adminPort: number, method: string, path: string): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return response.json();
  }

  async close(): Promise<void> {
    await this.relay.close();
    await this.mailbox.close();
    await this.chain.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export { eventually as until, freePort } from '../src/dev/waiting.js';

export const mib = (n: number) => `${n.toFixed(0)} MiB`;
export const ms = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${n.toFixed(0)} ms`);

/**
 * A bare JSON-RPC client over one WebSocket, for the reference listing: it decodes and keeps
 * nothing, so the node's process (this one: chopsticks runs in it) is left as it was found.
 */
export async function rawRpc(endpoint: string): Promise<{
  call(method: string, params: unknown[]): Promise<unknown>;
  close(): void;
}> {
  const socket = new WebSocket(endpoint);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${endpoint}`)), {
      once: true,
    });
  });
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  socket.addEventListener('message', (event) => {
    const reply = JSON.parse(String(event.data)) as {
      id: number;
      result?: unknown;
      error?: { message: string };
    };
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.error) pending?.reject(new Error(reply.error.message));
    else pending?.resolve(reply.result);
  });
  let id = 0;
  return {
    call: (method, params) =>
      new Promise((resolve, reject) => {
        id += 1;
        waiting.set(id, { resolve, reject });
        socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/**
 * A full collection in this process, which hosts the node: the daemon then starts against a node
 * that is not paying for a listing just done (a real node is another process, and has no GC).
 */
export function collectNodeGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
