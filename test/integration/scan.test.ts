/**
 * The full scan of IdentityOf on the real runtime, page by page: each entry's judgements read from
 * the head of its stored bytes say what decoding it in full says, every pending request is found,
 * and the pending ones of a page are handed over while the scan still has pages to read.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';
import { decodeRegistration, readIdentities, registrationOf } from '../../src/chain/identity.js';
import { JudgedNames } from '../../src/chain/judged-names.js';
import {
  AccountKeys,
  PAGES_AHEAD,
  readPendingIdentities,
  readPendingOf,
  readsJudgementsDirectly,
  type StoredIdentity,
  scanIdentities,
} from '../../src/chain/stored-identities.js';
import { FinalityRelay } from '../../src/dev/finality-relay.js';
import { undecodableIdentities, writeIdentities } from '../../src/dev/storage-identities.js';
import { LookAlikeIndex, Skeletons } from '../../src/domain/look-alikes.js';
import { loadConfusables } from '../../src/support/confusables.js';
import { TestChain } from '../support/chain.js';

const INDEX = 3;

describe('a full scan of IdentityOf', () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await TestChain.start();
  });
  afterAll(async () => {
    await chain?.close();
  });

  it('finds every pending request, page by page, handing each page over before the next', async () => {
    const { pending } = await writeIdentities(chain, INDEX, { total: 45, pending: 12, judged: 8 });
    await chain.newBlock();
    const at = (await chain.api.rpc.chain.getFinalizedHead()).toHex();
    const visited: StoredIdentity[] = [];
    const handed: { accounts: string[]; visitedBefore: number }[] = [];
    const keys = new AccountKeys();
    const found = await readPendingIdentities(chain.api, INDEX, {
      at,
      pageSize: 10,
      keys,
      visit: (entry) => visited.push(entry),
      found: async (page) => {
        handed.push({ accounts: [...page.keys()], visitedBefore: visited.length });
      },
    });

    expect(visited.length).toBeGreaterThanOrEqual(45);
    expect([...found.keys()].sort()).toEqual([...pending].sort());
    expect(handed.flatMap((h) => h.accounts).sort()).toEqual([...pending].sort());
    // Twelve pending among 45 entries in pages of ten: several pages hold some, the first of them
    // handed over while pages were still to come.
    expect(handed.length).toBeGreaterThan(1);
    expect(handed[0]?.visitedBefore).toBeLessThan(visited.length);
    for (const { accounts, visitedBefore } of handed) {
      expect(visitedBefore % 10 === 0 || visitedBefore === visited.length).toBe(true);
      expect(accounts.length).toBeLessThanOrEqual(10);
    }

    // What the head of the bytes says is what the whole value says, for every entry: read from the
    // bytes directly (this runtime's Judgement is one whose layout is known), not with codecs.
    expect(readsJudgementsDirectly(chain.api)).toBe(true);
    for (const entry of visited) {
      const registration = registrationOf(entry.value());
      expect(registration).toBeDefined();
      if (registration) expect(entry.judgements).toEqual(decodeRegistration(registration).judgements);
    }
    const judged = visited.filter((e) => e.judgements.some((j) => j.judgement === 'Reasonable'));
    expect(judged).toHaveLength(8);
    // The account is the one the key names: reading it directly gives the same identity.
    const sample = visited.find((e) => pending.includes(e.account));
    const direct = registrationOf(await chain.api.query.identity.identityOf(sample?.account ?? ''));
    const scanned = sample ? registrationOf(sample.value()) : undefined;
    expect(direct && decodeRegistration(direct)).toEqual(scanned && decodeRegistration(scanned));
    expect(direct).toBeDefined();

    // Each entry knows its storage key, and the keys of the pending ones are kept for the next
    // read of the open requests: it needs no key computed (an api that cannot compute one will do).
    for (const entry of visited)
      expect(entry.key).toBe(chain.api.query.identity.identityOf.key(entry.account));
    const cannotHash = {
      query: {
        identity: {
          identityOf: {
            key: () => {
              throw new Error('a key was computed again');
            },
          },
        },
      },
    } as unknown as typeof chain.api;
    expect(keys.of(cannotHash, pending)).toEqual(
      pending.map((a) => chain.api.query.identity.identityOf.key(a)),
    );
    const reread = await readPendingOf(chain.api, at, INDEX, pending, { keys });
    expect([...reread.keys()].sort()).toEqual([...pending].sort());
  });

  it('reads open accounts over several pages, each account with its own identity', async () => {
    const { pending } = await writeIdentities(chain, INDEX + 2, { total: 3, pending: 3, judged: 0 });
    await chain.newBlock();
    const at = (await chain.api.rpc.chain.getFinalizedHead()).toHex();
    // 2,500 accounts, most without an identity, the pending ones on the first, second and third page.
    const accounts = Array.from({ length: 2_500 }, (_, i) => encodeAddress(blake2AsU8a(`nobody ${i}`), 0));
    pending.forEach((account, i) => {
      accounts[i * 1_200 + 5] = account;
    });
    const read = await readPendingOf(chain.api, at, INDEX + 2, accounts);
    const direct = await readIdentities(chain.api, pending);

    expect([...read.keys()].sort()).toEqual([...pending].sort());
    for (const account of pending) {
      expect(read.get(account)?.snapshot).toEqual(direct.get(account)?.snapshot);
      expect(read.get(account)?.info).toEqual(direct.get(account)?.info);
    }
  });

  it('reads open accounts without decoding an identity that still holds its snapshot, and sees an edit', async () => {
    const { pending } = await writeIdentities(chain, INDEX + 1, { total: 6, pending: 4, judged: 0 });
    const [same, edited, unknown, stillSame] = pending;
    const none = chain.account('//NoIdentityHere').address;
    await chain.newBlock();
    const before = await readIdentities(chain.api, pending);
    const snapshot = (account: string | undefined) => before.get(account ?? '')?.snapshot;
    // One of them is edited on chain after its request was opened.
    await chain.api.rpc('dev_setStorage', {
      Identity: {
        IdentityOf: [
          [
            [edited],
            {
              judgements: [[INDEX + 1, { FeePaid: '1000' }]],
              deposit: '1',
              info: { display: { Raw: 'Edited Name' } },
            },
          ],
        ],
      },
    });
    await chain.newBlock();
    const at = (await chain.api.rpc.chain.getFinalizedHead()).toHex();
    const known = new Map(
      [same, edited, stillSame].map((account) => [
        account ?? '',
        snapshot(account) ?? { infoHex: '', hash: '' },
      ]),
    );
    const read = await readPendingOf(chain.api, at, INDEX + 1, [...pending, none], { known });
    const now = await readIdentities(chain.api, pending);

    expect([...read.keys()].sort()).toEqual([...pending].sort());
    // Unchanged: the snapshot it was opened on, and the same info once asked for.
    for (const account of [same, stillSame]) {
      expect(read.get(account ?? '')?.snapshot).toBe(known.get(account ?? ''));
      expect(read.get(account ?? '')?.info).toEqual(now.get(account ?? '')?.info);
      expect(read.get(account ?? '')?.judgements).toEqual(now.get(account ?? '')?.judgements);
    }
    // Edited: the new identity, not the snapshot it was opened on.
    expect(read.get(edited ?? '')?.snapshot).toEqual(now.get(edited ?? '')?.snapshot);
    expect(read.get(edited ?? '')?.snapshot.hash).not.toBe(snapshot(edited)?.hash);
    expect(read.get(edited ?? '')?.info.values.display).toMatchObject({ text: 'Edited Name' });
    // Not known before: decoded in full.
    expect(read.get(unknown ?? '')).toEqual(now.get(unknown ?? ''));
  });

  it('keeps the judged names a whole scan saw, and drops those of identities gone unseen', async () => {
    const { pending } = await writeIdentities(chain, INDEX + 2, { total: 10, pending: 2, judged: 5 });
    await chain.newBlock();
    const names = new JudgedNames(chain.api, new LookAlikeIndex(new Skeletons(loadConfusables())));
    // A name kept from before, whose identity was cleared while the daemon was down.
    names.index.set('1GoneWhileDown', 'Gone While Down');
    const scan = async (complete: boolean) => {
      names.beginScan();
      await readPendingIdentities(chain.api, INDEX + 2, { visit: (entry) => names.visit(entry) });
      if (complete) names.endScan();
    };
    // A scan cut short (a dropped connection) proves nothing about what it did not reach.
    await scan(false);
    expect(names.index.accounts()).toContain('1GoneWhileDown');
    await scan(true);
    expect(names.index.accounts()).not.toContain('1GoneWhileDown');
    // Every judged identity on chain is there (this file's other tests wrote some too), no pending one.
    expect(names.index.size).toBeGreaterThanOrEqual(5);
    for (const account of pending) expect(names.index.accounts()).not.toContain(account);
  });

  it('asks the node for the next pages while a page is handed over', async () => {
    await writeIdentities(chain, INDEX + 3, { total: 40, pending: 0, judged: 0 });
    await chain.newBlock();
    const prefix = chain.api.query.identity.identityOf.keyPrefix();
    // The node's side of the scan: every page of keys it answered, seen on the way.
    let listed = 0;
    let onAnswer = () => {};
    const relay = await FinalityRelay.start(chain.endpoint, 0, (call) => {
      if (call.method !== 'state_getKeysPaged' || (call.params as unknown[])[0] !== prefix) return;
      listed += 1;
      onAnswer();
    });
    const api = await ApiPromise.create({ provider: new WsProvider(relay.endpoint), noInitWarn: true });
    try {
      const aheadAtVisit: number[] = [];
      let pages = 0;
      const read = await scanIdentities(
        api,
        undefined,
        async () => {
          pages += 1;
          if (pages === 1) {
            // Held until two more pages are listed: they are asked for while this one is handed over.
            await new Promise<void>((resolve) => {
              onAnswer = () => {
                if (listed >= 3) resolve();
              };
              onAnswer();
            });
          }
          aheadAtVisit.push(listed - pages);
        },
        5,
      );
      expect(read).toBeGreaterThanOrEqual(40);
      expect(pages).toBeGreaterThanOrEqual(8);
      // Pages listed ahead of the one handed over, never more than the bound (answers are seen a
      // moment after they are asked for, so this is a floor of what was asked).
      expect(Math.max(...aheadAtVisit)).toBeGreaterThanOrEqual(2);
      expect(Math.max(...aheadAtVisit)).toBeLessThanOrEqual(PAGES_AHEAD);
    } finally {
      await api.disconnect();
      await relay.close();
    }
  });

  it('skips an entry whose value does not decode, and reads the rest', async () => {
    const index = INDEX + 4;
    const { pending } = await writeIdentities(chain, index, { total: 12, pending: 4, judged: 2 });
    // One with a judgement of no known kind; one pending for us whose info is not an IdentityInfo;
    // one that ends inside the fee of its judgement.
    const badHead = chain.account('//UndecodableHead').address;
    const badInfo = chain.account('//UndecodableInfo').address;
    const cutShort = chain.account('//CutShort').address;
    const key = (account: string) => chain.api.query.identity.identityOf.key(account);
    const undecodable = undecodableIdentities(index);
    await chain.api.rpc('dev_setStorage', [
      [key(badHead), undecodable.judgementOfNoKind],
      [key(badInfo), undecodable.pendingWithoutInfo],
      [key(cutShort), undecodable.cutInFee],
    ]);
    await chain.newBlock();
    const at = (await chain.api.rpc.chain.getFinalizedHead()).toHex();

    const skipped: string[] = [];
    const found = await readPendingIdentities(chain.api, index, {
      at,
      pageSize: 5,
      unreadable: (account) => skipped.push(account),
    });
    expect([...found.keys()].sort()).toEqual([...pending].sort());
    expect(skipped.sort()).toEqual([badHead, badInfo, cutShort].sort());
    // Without someone to tell, a value that does not decode is an error, as it always was.
    await expect(readPendingIdentities(chain.api, index, { at, pageSize: 5 })).rejects.toThrow();

    // The periodic read of open accounts skips it the same way.
    const skippedOpen: string[] = [];
    const open = await readPendingOf(chain.api, at, index, [...pending, badInfo, cutShort], {
      unreadable: (account) => skippedOpen.push(account),
    });
    expect([...open.keys()].sort()).toEqual([...pending].sort());
    expect(skippedOpen).toEqual([badInfo, cutShort]);
  });
});
