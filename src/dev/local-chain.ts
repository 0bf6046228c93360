/**
 * A real Paseo People runtime on this machine, for the tests and `npm run dev`: chopsticks executes
 * the runtime wasm from the raw chain spec the project ships in chain/ (or REGISTRAR_TEST_CHAIN_SPEC,
 * a path), offline, with real signature checks. Each helper is one line in a test.
 */
import { BuildBlockMode, setupWithServer } from '@acala-network/chopsticks';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { EventRecord } from '@polkadot/types/interfaces';
import type { ISubmittableResult } from '@polkadot/types/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { slotDuration } from '../chain/block-time.js';
import { Arrivals } from './arrivals.js';
import { shippedChainSpec } from './chain-spec.js';

/**
 * The proxy type, by name. @polkadot/api's bundled type augmentation describes another runtime;
 * the real ProxyType enum comes from the connected runtime's metadata.
 */
export const IDENTITY_JUDGEMENT = 'IdentityJudgement' as never;

/** 1 PAS = 10^10 planck on Paseo People. */
export const UNIT = 10_000_000_000n;

export type BlockMode = 'Manual' | 'Instant';

export interface ChainEvent {
  section: string;
  method: string;
  data: Record<string, unknown>;
  blockHash: string;
}

export interface Included {
  blockHash: string;
  events: ChainEvent[];
}

/** Human-readable identity fields; each becomes `Data::Raw`. */
export type IdentityFields = Partial<
  Record<
    'display' | 'legal' | 'web' | 'matrix' | 'email' | 'image' | 'twitter' | 'github' | 'discord',
    string
  >
>;

export class TestChain {
  readonly keyring = new Keyring({ type: 'sr25519', ss58Format: 0 });
  readonly alice: KeyringPair;
  private readonly events = new Arrivals<ChainEvent>();
  private unsubscribe: (() => void) | undefined;
  /** The events of each new head are read one head after another; close waits for the last. */
  private recording: Promise<void> = Promise.resolve();
  private funding: Promise<void> = Promise.resolve();

  private constructor(
    readonly api: ApiPromise,
    readonly endpoint: string,
    readonly mode: BlockMode,
    private readonly closeServer: () => Promise<void>,
  ) {
    this.alice = this.keyring.addFromUri('//Alice');
  }

  /** Starts a fresh runtime from genesis on 127.0.0.1 with an OS-chosen port. */
  static async start(
    options: { mode?: BlockMode; chainSpec?: string | Record<string, unknown>; port?: number } = {},
  ): Promise<TestChain> {
    const mode = options.mode ?? 'Manual';
    const chainSpec =
      options.chainSpec ?? process.env.REGISTRAR_TEST_CHAIN_SPEC ?? shippedChainSpec('people-paseo-local');
    await cryptoWaitReady();
    const server = await setupWithServer({
      genesis: chainSpec,
      port: options.port ?? 0,
      host: '127.0.0.1',
      'build-block-mode': mode === 'Manual' ? BuildBlockMode.Manual : BuildBlockMode.Instant,
      'mock-signature-host': false,
      'runtime-log-level': 0,
      offline: true,
    } as Parameters<typeof setupWithServer>[0]);
    const endpoint = `ws://${server.addr}`;
    const api = await ApiPromise.create({ provider: new WsProvider(endpoint), noInitWarn: true });
    await TestChain.ensureFirstBlock(api);
    const chain = new TestChain(api, endpoint, mode, () => server.close());
    await chain.recordEvents();
    return chain;
  }

  /**
   * chopsticks builds block 1 itself while it starts, and a genesis holds no time, so it reads the
   * clock twice for that block: once for Aura's slot in the header, once for the timestamp. When the
   * two reads fall on either side of a slot boundary the block fails ("Timestamp slot must match
   * CurrentSlot") and the head stays at genesis, whose state knows no genesis hash: every signed
   * extrinsic is then refused as badProof, and no block is built to end it. So when the head is
   * still genesis, a time on a slot boundary is stored and block 1 built again; every later block
   * takes its parent's time plus one slot, so it cannot happen again.
   */
  private static async ensureFirstBlock(api: ApiPromise): Promise<void> {
    if ((await api.rpc.chain.getHeader()).number.toNumber() > 0) return;
    const slot = await slotDuration(api);
    if (!(slot > 0)) throw new Error('the local runtime has no Aura slot duration');
    await api.rpc('dev_setStorage', { Timestamp: { Now: Math.floor(Date.now() / slot) * slot } });
    await api.rpc('dev_newBlock', {});
    if ((await api.rpc.chain.getHeader()).number.toNumber() === 0) {
      throw new Error('the local chain could not build its first block (see the runtime log above)');
    }
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    // A head that arrived just before is still being read: disconnecting under it would reject
    // that read with nobody to hear it, and fail whatever test file closes the chain.
    await this.recording;
    await this.api.disconnect();
    await this.closeServer();
  }

  account(uri: string): KeyringPair {
    return this.keyring.addFromUri(uri);
  }

  /** Builds one block (Manual mode). */
  async newBlock(): Promise<string> {
    return (await this.api.rpc('dev_newBlock', {})) as string;
  }

  /**
   * Sends `planck` from //Alice, in a block. Not written into storage: chopsticks lays such a write
   * on the head block, and a block being built at that moment (a daemon's judgement in Instant
   * mode) becomes the head without it. One at a time, so Alice's nonces never collide.
   */
  fund(address: string, planck: bigint = 1_000n * UNIT): Promise<void> {
    const sent = this.funding.then(() =>
      this.submit(this.api.tx.balances.transferKeepAlive(address, planck), this.alice),
    );
    this.funding = sent.then(
      () => undefined,
      () => undefined,
    );
    return sent.then(() => undefined);
  }

  async freeBalance(address: string): Promise<bigint> {
    const account = await this.api.query.system.account(address);
    return account.data.free.toBigInt();
  }

  /**
   * Signs and submits, builds the block when in Manual mode, and resolves once the extrinsic is in
   * a block. Rejects with the pallet error name when the dispatch failed.
   */
  async submit(tx: SubmittableExtrinsic<'promise'>, signer: KeyringPair): Promise<Included> {
    // In Manual mode the block is built once the pool holds the extrinsic. chopsticks reports InBlock
    // before it moves its head, and a nonce read in between is stale: the result counts once the
    // block is reported finalized, which chopsticks does after moving its head.
    let blockBuilt: Promise<unknown> = Promise.resolve();
    const included = new Promise<Included>((resolve, reject) => {
      tx.signAndSend(signer, { era: 0 }, (result) => {
        if (result.status.isReady && this.mode === 'Manual') blockBuilt = this.newBlock();
        if (result.isError) {
          reject(
            new Error(`extrinsic ${tx.method.section}.${tx.method.method} failed: ${result.status.type}`),
          );
          return;
        }
        if (!result.status.isFinalized) return;
        const blockHash = result.status.asFinalized.toHex();
        const events = result.events.map((record) => toChainEvent(record, blockHash));
        if (result.dispatchError) {
          reject(new Error(this.describeError(result.dispatchError)));
          return;
        }
        resolve({ blockHash, events });
      }).catch(reject);
    });
    const outcome = await included;
    await blockBuilt;
    return outcome;
  }

  /**
   * The outcome of the call inside `proxy.proxy`: 'Ok' or 'pallet.Error'. The extrinsic itself
   * succeeds either way; only ProxyExecuted's result says what the inner call did.
   */
  proxyOutcome(included: Included): string {
    const executed = included.events.find((e) => e.section === 'proxy' && e.method === 'ProxyExecuted');
    if (!executed) throw new Error('no proxy.ProxyExecuted event in the block');
    const result = executed.data.result as { ok?: null; err?: { module?: { index: number; error: string } } };
    if (!result.err) return 'Ok';
    const module = result.err.module;
    if (!module) return JSON.stringify(result.err);
    const meta = this.api.registry.findMetaError({
      index: this.api.createType('u8', module.index),
      error: this.api.createType('[u8;4]', module.error),
    });
    return `${meta.section}.${meta.name}`;
  }

  /** Makes `account` a registrar with the given fee and field mask; returns its index. */
  async makeRegistrar(account: KeyringPair, options: { fee: bigint; fields: number }): Promise<number> {
    const index = (await this.api.query.identity.registrars()).length;
    await this.submit(this.api.tx.sudo.sudo(this.api.tx.identity.addRegistrar(account.address)), this.alice);
    await this.submit(this.api.tx.identity.setFee(index, options.fee), account);
    await this.submit(this.api.tx.identity.setFields(index, options.fields), account);
    return index;
  }

  /**
   * A funded registrar `//{name}Registrar` with fee and field mask, and its funded IdentityJudgement
   * proxy `//{name}Proxy`: what every judgement test starts from.
   */
  async setUpRegistrar(
    name: string,
    options: { fee: bigint; fields: number },
  ): Promise<{ registrar: KeyringPair; proxy: KeyringPair; index: number }> {
    const registrar = this.account(`//${name}Registrar`);
    const proxy = this.account(`//${name}Proxy`);
    await this.fund(registrar.address);
    await this.fund(proxy.address);
    const index = await this.makeRegistrar(registrar, options);
    await this.addJudgementProxy(registrar, proxy.address);
    return { registrar, proxy, index };
  }

  async addJudgementProxy(registrar: KeyringPair, delegate: string): Promise<void> {
    await this.submit(this.api.tx.proxy.addProxy(delegate, IDENTITY_JUDGEMENT, 0), registrar);
  }

  /** Sets an identity whose fields are plain text (`Data::Raw`). */
  async setIdentity(who: KeyringPair, fields: IdentityFields): Promise<Included> {
    const info: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(fields)) info[name] = { Raw: value };
    return this.setIdentityInfo(who, info);
  }

  /** Sets an identity from an `IdentityInfo` value as @polkadot/api takes it (any `Data` variant). */
  async setIdentityInfo(who: KeyringPair, info: Record<string, unknown>): Promise<Included> {
    return this.submit(this.api.tx.identity.setIdentity(info as never), who);
  }

  async cancelRequest(who: KeyringPair, registrarIndex: number): Promise<Included> {
    return this.submit(this.api.tx.identity.cancelRequest(registrarIndex), who);
  }

  async clearIdentity(who: KeyringPair): Promise<Included> {
    return this.submit(this.api.tx.identity.clearIdentity(), who);
  }

  /** Governance removes an identity (`identity.killIdentity` through sudo, signed by //Alice). */
  async killIdentity(target: string): Promise<Included> {
    return this.submit(this.api.tx.sudo.sudo(this.api.tx.identity.killIdentity(target)), this.alice);
  }

  /** The judgement our registrar index holds for `address`, by variant name, if any. */
  async judgementOf(address: string, registrarIndex: number): Promise<string | undefined> {
    const registration = await this.api.query.identity.identityOf(address);
    if (registration.isNone) return undefined;
    const slot = registration.unwrap().judgements.find(([index]) => index.toNumber() === registrarIndex);
    return slot?.[1].type;
  }

  async requestJudgement(who: KeyringPair, registrarIndex: number, maxFee: bigint): Promise<Included> {
    return this.submit(this.api.tx.identity.requestJudgement(registrarIndex, maxFee), who);
  }

  /** Every event of `section.method` seen since start, in order. */
  recorded(section: string, method: string): ChainEvent[] {
    return this.events.all.filter((e) => e.section === section && e.method === method);
  }

  /** Resolves with the first event (seen since start) that matches; rejects after `timeoutMs`. */
  waitForEvent(
    section: string,
    method: string,
    matches: (event: ChainEvent) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<ChainEvent> {
    return this.events.waitFor(
      (events) => events.find((e) => e.section === section && e.method === method && matches(e)),
      `${section}.${method}`,
      timeoutMs,
    );
  }

  private async recordEvents(): Promise<void> {
    const unsubscribe = await this.api.rpc.chain.subscribeNewHeads((header) => {
      const blockHash = header.hash.toHex();
      this.recording = this.recording
        .then(async () => {
          const at = await this.api.at(header.hash);
          const records = (await at.query.system.events()) as unknown as EventRecord[];
          for (const record of records) this.events.add(toChainEvent(record, blockHash));
        })
        .catch((error: unknown) => {
          // A waitForEvent on this block's events then times out, naming the event it waited for.
          console.error(`the test chain could not read the events of block ${blockHash}: ${String(error)}`);
        });
    });
    this.unsubscribe = unsubscribe;
  }

  private describeError(error: NonNullable<ISubmittableResult['dispatchError']>) {
    if (error.isModule) {
      const meta = this.api.registry.findMetaError(error.asModule);
      return `${meta.section}.${meta.name}`;
    }
    return error.toString();
  }
}

function toChainEvent(record: EventRecord, blockHash: string): ChainEvent {
  const { event } = record;
  const names = event.data.names ?? event.data.map((_, i) => String(i));
  const data = Object.fromEntries(names.map((name, i) => [name, event.data[i]?.toJSON()]));
  return { section: event.section, method: event.method, data, blockHash };
}
