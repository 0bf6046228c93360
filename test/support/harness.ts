/**
 * Everything a daemon test needs, started in one call: a real People runtime (Instant blocks) behind
 * a TCP relay that can cut connections, a registrar with an IdentityJudgement proxy, a real SMTP
 * server, a data folder, and the compiled daemon configured for all of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyringPair } from '@polkadot/keyring/types';
import { eventually, freePort } from '../../src/dev/waiting.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { type IdentityFields, TestChain, UNIT } from './chain.js';
import { type RunningDaemon, startDaemon } from './daemon.js';
import { TestMailbox } from './smtp.js';
import { TcpProxy } from './tcp-proxy.js';

export { eventually, freePort } from '../../src/dev/waiting.js';

export const FEE = UNIT;

export interface StatusView {
  status: string;
  identityHash?: string;
  judgeable: boolean;
  fields: Record<
    string,
    {
      status: string;
      value?: string;
      reason?: string;
      hint?: string;
      nextMessageAt?: number;
      refusal?: { reason: string; at: number };
      grace?: { reason: string; since: number; until: number };
    }
  >;
  unverifiable: string[];
  subOf?: { parent: string; name?: string; parentJudgement?: string };
  subs?: { account: string; name?: string }[];
  blockers: { field?: string; reason: string; hint: string; kind: 'wait' | 'change' }[];
}

/** Presses the Confirm button of a challenge page, as a form POST. */
export const confirm = (link: string) => fetch(link, { method: 'POST' });

export class DaemonHarness {
  daemon: RunningDaemon | undefined;
  /** What every earlier daemon of this harness printed. */
  earlierOutput = '';
  private people = 0;

  private constructor(
    readonly chain: TestChain,
    readonly mailbox: TestMailbox,
    readonly relay: TcpProxy,
    /** Between the daemon and the SMTP server, so a test can make mail stall. */
    readonly smtpRelay: TcpProxy,
    readonly registrar: KeyringPair,
    readonly index: number,
    readonly dataDir: string,
    readonly httpPort: number,
    private readonly extraEnv: Record<string, string>,
  ) {}

  /** `fields`: the registrar's on-chain field mask; `env`: settings beyond the base ones. */
  static async start(fields: number, env: Record<string, string> = {}): Promise<DaemonHarness> {
    const chain = await TestChain.start({ mode: 'Instant' });
    const mailbox = await TestMailbox.start();
    const [host, port] = chain.endpoint.replace('ws://', '').split(':');
    const relay = await TcpProxy.start(host ?? '127.0.0.1', Number(port));
    const smtpRelay = await TcpProxy.start('127.0.0.1', mailbox.port);
    const { registrar, index } = await chain.setUpRegistrar('Harness', { fee: FEE, fields });
    const dataDir = mkdtempSync(join(tmpdir(), 'registrar-daemon-'));
    const harness = new DaemonHarness(
      chain,
      mailbox,
      relay,
      smtpRelay,
      registrar,
      index,
      dataDir,
      await freePort(),
      env,
    );
    harness.daemon = await startDaemon(harness.env());
    return harness;
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  env(): Record<string, string> {
    return {
      REGISTRAR_CHAIN_ENDPOINTS: `ws://127.0.0.1:${this.relay.port}`,
      REGISTRAR_INDEX: String(this.index),
      REGISTRAR_ACCOUNT: this.registrar.address,
      REGISTRAR_PROXY_SEED: '//HarnessProxy',
      REGISTRAR_PUBLIC_URL: this.url,
      REGISTRAR_JWT_SECRET: 'integration-test-secret-0123456789abcdef',
      REGISTRAR_STORE: `sqlite:${join(this.dataDir, 'registrar.sqlite')}`,
      REGISTRAR_HTTP_PORT: String(this.httpPort),
      REGISTRAR_SMTP_URL: `smtp://127.0.0.1:${this.smtpRelay.port}`,
      REGISTRAR_SMTP_FROM: 'Test Registrar <registrar@example.org>',
      LOG_LEVEL: 'info',
      // Tests poll the status many times a second from one address; one test checks the limit.
      REGISTRAR_REQUESTS_PER_MINUTE_PER_IP: '1000000',
      ...this.extraEnv,
    };
  }

  /** Stops the daemon (expecting a clean exit code) and starts it again with `overrides`. */
  async restart(
    overrides: Record<string, string> = {},
    between?: () => Promise<void>,
  ): Promise<number | null> {
    const code = (await this.daemon?.stop()) ?? null;
    this.earlierOutput += this.daemon?.output() ?? '';
    await between?.();
    this.daemon = await startDaemon({ ...this.env(), ...overrides });
    return code;
  }

  /** Kills the daemon (SIGKILL, mid-step) and starts it again. */
  async crashAndRestart(): Promise<void> {
    await this.daemon?.kill();
    this.earlierOutput += this.daemon?.output() ?? '';
    this.daemon = await startDaemon(this.env());
  }

  /** Every line every daemon of this harness printed. */
  logs(): string {
    return this.earlierOutput + (this.daemon?.output() ?? '');
  }

  async newPerson(fields: IdentityFields): Promise<KeyringPair> {
    const person = this.chain.account(`//Person${++this.people}`);
    await this.chain.fund(person.address);
    await this.chain.setIdentity(person, fields);
    return person;
  }

  /** Reads the daemon's store beside it (WAL: a second connection reads what the daemon wrote). */
  async withStore<T>(read: (store: SqliteStore) => Promise<T>): Promise<T> {
    const store = new SqliteStore(join(this.dataDir, 'registrar.sqlite'));
    try {
      return await read(store);
    } finally {
      await store.close();
    }
  }

  async statusOf(address: string): Promise<StatusView> {
    const response = await fetch(`${this.url}/status/${address}`);
    return (await response.json()) as StatusView;
  }

  statusBecomes(address: string, status: string): Promise<StatusView> {
    return eventually(async () => {
      const view = await this.statusOf(address);
      return view.status === status ? view : undefined;
    }, `status ${status} for ${address}`);
  }

  async close(): Promise<void> {
    // The daemon's log, for whoever reads a failure (REGISTRAR_TEST_LOG=path).
    if (process.env.REGISTRAR_TEST_LOG) writeFileSync(process.env.REGISTRAR_TEST_LOG, this.logs());
    await this.daemon?.stop();
    await this.relay.close();
    await this.smtpRelay.close();
    await this.mailbox.close();
    await this.chain.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
