/**
 * Pickup on the best block, on the real runtime: finality trails the best block by three blocks (a
 * relay in front of chopsticks, as on the live People chains), blocks are built by the test. A
 * request is acted on in its own best block, its close waits for finality, and a re-org that
 * retracts the request's block loses nothing and judges nothing twice.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { FinalityRelay } from '../../src/dev/finality-relay.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { TestChain, UNIT } from '../support/chain.js';
import { type RunningDaemon, startDaemon } from '../support/daemon.js';
import { confirm, eventually, freePort, type StatusView } from '../support/harness.js';
import { linkIn, TestMailbox } from '../support/smtp.js';

const LAG = 3;

describe('pickup on the best block', () => {
  let chain: TestChain;
  let relay: FinalityRelay;
  let mailbox: TestMailbox;
  let daemon: RunningDaemon;
  let dataDir: string;
  let url: string;
  let index: number;
  let people = 0;

  beforeAll(async () => {
    chain = await TestChain.start({ mode: 'Manual' });
    const setUp = await chain.setUpRegistrar('Best', { fee: UNIT, fields: 1 | 16 });
    index = setUp.index;
    relay = await FinalityRelay.start(chain.endpoint, LAG);
    mailbox = await TestMailbox.start();
    dataDir = mkdtempSync(join(tmpdir(), 'registrar-best-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    daemon = await startDaemon({
      REGISTRAR_CHAIN_ENDPOINTS: relay.endpoint,
      REGISTRAR_INDEX: String(index),
      REGISTRAR_ACCOUNT: setUp.registrar.address,
      REGISTRAR_PROXY_SEED: '//BestProxy',
      REGISTRAR_PUBLIC_URL: url,
      REGISTRAR_JWT_SECRET: 'integration-test-secret-0123456789abcdef',
      REGISTRAR_STORE: `sqlite:${join(dataDir, 'registrar.sqlite')}`,
      REGISTRAR_HTTP_PORT: String(port),
      REGISTRAR_SMTP_URL: mailbox.url,
      REGISTRAR_SMTP_FROM: 'Test Registrar <registrar@example.org>',
      REGISTRAR_REQUESTS_PER_MINUTE_PER_IP: '1000000',
      // The request asked again is mailed again at once (the limits have tests of their own).
      REGISTRAR_MESSAGE_COOLDOWN_SECONDS: '0',
      LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    if (process.env.REGISTRAR_TEST_LOG) writeFileSync(process.env.REGISTRAR_TEST_LOG, daemon?.output() ?? '');
    await daemon?.stop();
    await relay?.close();
    await mailbox?.close();
    await chain?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const statusOf = async (address: string) =>
    (await (await fetch(`${url}/status/${address}`)).json()) as StatusView;
  const head = async () => (await chain.api.rpc.chain.getHeader()).number.toNumber();

  async function person(email: string): Promise<KeyringPair> {
    const who = chain.account(`//BestPerson${++people}`);
    await chain.fund(who.address);
    // Names far apart: a judged name's look-alike would be refused.
    const display =
      ['Alvarez Ortega', 'Brightwater Kim', 'Chukwu Nnamdi', 'Dufresne Leclerc'][people % 4] ?? '';
    await chain.setIdentity(who, { display, email });
    return who;
  }

  /** Builds blocks, as a collator would, until `who` holds our Reasonable judgement. */
  async function judgedWhileBuilding(who: KeyringPair): Promise<void> {
    await eventually(
      async () =>
        (await chain.judgementOf(who.address, index)) === 'Reasonable'
          ? true
          : await chain.newBlock().then(() => undefined),
      'the judgement',
    );
  }

  /** Builds blocks until finality (as the relay reports it) reaches `number`. */
  async function finalize(number: number): Promise<void> {
    while ((await relay.finalizedNumber()) < number) await chain.newBlock();
  }

  it('mails the challenge for a request in a best block that is not final yet, and closes only once it is', async () => {
    const who = await person('best@example.org');
    await chain.requestJudgement(who, index, UNIT);
    const requestedIn = await head();
    const mail = await mailbox.nextMail('best@example.org');
    // No block was built since: the request's block is the best one, three blocks above finality.
    expect(await head()).toBe(requestedIn);
    expect(await relay.finalizedNumber()).toBe(requestedIn - LAG);

    await confirm(linkIn(mail));
    const given = chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === who.address);
    // The judgement waits in the pool for the next block.
    await eventually(
      async () => ((await chain.api.rpc.author.pendingExtrinsics()).length > 0 ? true : undefined),
      'the judgement in the pool',
    );
    await chain.newBlock();
    const judgedIn = (await chain.api.rpc.chain.getHeader((await given).blockHash)).number.toNumber();
    expect(judgedIn).toBe(requestedIn + 1);
    expect(await chain.judgementOf(who.address, index)).toBe('Reasonable');
    // Judged in a best block, not final: the request is not closed yet.
    expect((await statusOf(who.address)).status).toBe('judging');
    await finalize(judgedIn);
    await eventually(
      async () => ((await statusOf(who.address)).status === 'judged' ? true : undefined),
      'judged',
    );
  });

  it('keeps a request whose block was retracted when the new branch has it too: one mail, one judgement', async () => {
    const who = await person('comes-back@example.org');
    const before = await head();
    await chain.requestJudgement(who, index, UNIT);
    const mail = await mailbox.nextMail('comes-back@example.org');
    // A re-org: the branch from `before` on replaces the request's block; the request comes back in it.
    await chain.api.rpc('dev_setHead', before);
    await chain.newBlock();
    await chain.requestJudgement(who, index, UNIT);
    await finalize((await head()) + 1);
    expect((await statusOf(who.address)).status).toBe('open');
    await confirm(linkIn(mail));
    await judgedWhileBuilding(who);
    await finalize(await head());
    await eventually(
      async () => ((await statusOf(who.address)).status === 'judged' ? true : undefined),
      'judged',
    );
    expect(mailbox.mailsTo('comes-back@example.org')).toHaveLength(1);
    expect(
      chain.recorded('identity', 'JudgementGiven').filter((e) => e.data.target === who.address),
    ).toHaveLength(1);
  });

  it('closes a request that only its retracted block had, once finality passes it; asked again, it is judged once', async () => {
    const who = await person('retracted@example.org');
    const before = await head();
    await chain.requestJudgement(who, index, UNIT);
    await mailbox.nextMail('retracted@example.org');
    expect((await statusOf(who.address)).status).toBe('open');
    // The new branch has no request: once it is final, neither does the registrar.
    await chain.api.rpc('dev_setHead', before);
    await chain.newBlock();
    expect(await chain.judgementOf(who.address, index)).toBeUndefined();
    await finalize((await head()) + 1);
    await eventually(
      async () => ((await statusOf(who.address)).status === 'cancelled' ? true : undefined),
      'closed',
    );

    // Nothing lost: asked again, the request opens, is mailed again and judged once.
    await chain.requestJudgement(who, index, UNIT);
    const mail = await mailbox.nextMail('retracted@example.org', 2);
    await confirm(linkIn(mail));
    await judgedWhileBuilding(who);
    expect(
      chain.recorded('identity', 'JudgementGiven').filter((e) => e.data.target === who.address),
    ).toHaveLength(1);
  });

  it('gives a judgement again when its block is retracted, and records it once, when final', async () => {
    const who = await person('judged-again@example.org');
    await chain.requestJudgement(who, index, UNIT);
    const mail = await mailbox.nextMail('judged-again@example.org');
    await finalize(await head());
    await confirm(linkIn(mail));
    await eventually(
      async () => ((await chain.api.rpc.author.pendingExtrinsics()).length > 0 ? true : undefined),
      'the judgement in the pool',
    );
    const before = await head();
    const included = daemon.output().split('"judgement included"').length;
    await chain.newBlock();
    expect(await chain.judgementOf(who.address, index)).toBe('Reasonable');
    // The registrar saw it in the best block (as a node's re-org comes after that).
    await eventually(
      async () => (daemon.output().split('"judgement included"').length > included ? true : undefined),
      'the registrar sees the judgement included',
    );
    const audit = async () => {
      const store = new SqliteStore(join(dataDir, 'registrar.sqlite'));
      try {
        return await store.listJudgements(who.address);
      } finally {
        await store.close();
      }
    };
    // In a best block only: nothing in the audit log.
    expect(await audit()).toEqual([]);
    // A re-org drops the judgement's block; the new branch has no judgement.
    await chain.api.rpc('dev_setHead', before);
    expect(await chain.judgementOf(who.address, index)).toBe('FeePaid');
    // Once finality passes the retracted height, the registrar reads the request again and
    // judges it again (no one asked it to), and records that judgement once it is final.
    await judgedWhileBuilding(who);
    await finalize(await head());
    await eventually(
      async () => ((await statusOf(who.address)).status === 'judged' ? true : undefined),
      'judged',
    );
    const entries = await audit();
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    const canonical = await chain.api.rpc.chain.getBlockHash(
      (await chain.api.rpc.chain.getHeader(entry?.blockHash)).number.toNumber(),
    );
    // The block it names is the final one that holds the judgement, not the retracted one, and
    // the extrinsic it names is in that block.
    expect(canonical.toHex()).toBe(entry?.blockHash);
    const { block } = await chain.api.rpc.chain.getBlock(entry?.blockHash);
    expect(block.extrinsics.map((x) => x.hash.toHex())).toContain(entry?.extrinsicHash);
    expect(mailbox.mailsTo('judged-again@example.org')).toHaveLength(1);
  });
});
