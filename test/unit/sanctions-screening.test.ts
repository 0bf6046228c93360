import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { ChainIdentity } from '../../src/chain/identity.js';
import { Skeletons } from '../../src/domain/look-alikes.js';
import { NO_METRICS } from '../../src/registrar/metrics.js';
import { Screening } from '../../src/registrar/sanctions.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { loadConfusables } from '../../src/support/confusables.js';
import { request } from '../contract/store.contract.js';

const skeletons = new Skeletons(loadConfusables());
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/sanctions/${name}`, import.meta.url), 'utf8');
const HASH = `0x${'ab'.repeat(32)}`;

function identityWith(legal: string, judgement: string): ChainIdentity {
  return {
    info: { layout: 'people', values: { legal: { kind: 'raw', hex: '0x', text: legal } } },
    snapshot: { infoHex: '0x00', hash: HASH },
    judgements: [{ registrarIndex: 7, judgement }],
  } as ChainIdentity;
}

function screeningOver(
  store: SqliteStore,
  identities: Record<string, ChainIdentity> = {},
  display = false,
): Screening {
  return new Screening({
    store,
    identity: async (account) => identities[account],
    registrarIndex: 7,
    skeletons,
    display,
    log: pino({ level: 'silent' }),
    now: () => 5_000,
    metrics: NO_METRICS,
  });
}

const awaitingLegal = (legal: string, account = 'acct-legal') =>
  request({
    account,
    fields: {
      legal: { status: 'awaiting', value: legal, subject: legal },
      display: { status: 'confirmed', value: 'Ivan Korsakov', subject: 'Ivan Korsakov', confirmedAt: 1 },
    },
  });

describe('sanctions screening', () => {
  it('finds nothing without a list, and a legal name awaiting review once there is one', async () => {
    const store = new SqliteStore(':memory:');
    const screening = screeningOver(store);
    expect(await screening.screenRequest(awaitingLegal('Ivan Korsakov'))).toEqual([]);
    await screening.importList(fixture('sdn.xml'), 'sdn.xml');
    const hits = await screening.screenRequest(awaitingLegal('Ivan Korsakov'));
    expect(hits).toEqual([
      expect.objectContaining({
        account: 'acct-legal',
        field: 'legal',
        identityHash: HASH,
        uid: '90001',
        reason: 'request',
        list: { format: 'ofac', source: 'sdn.xml', listDate: '2026-11-28' },
      }),
    ]);
    // Screened again (an edit back, a restart): not queued twice. The display name is not
    // screened unless the setting says so.
    expect(await screening.screenRequest(awaitingLegal('Ivan Korsakov'))).toEqual([]);
    // Nor for a newer edition of the same list (fetched every day): the hit is known already.
    await screening.importList(fixture('sdn.xml').replace('11/28/2026', '11/29/2026'), 'sdn.xml');
    expect(await screening.screenRequest(awaitingLegal('Ivan Korsakov'))).toEqual([]);
    expect(await store.listSanctionsHits()).toHaveLength(1);
    expect(await screening.displayHeld()).toBeUndefined();
  });

  it('screens a legal name only while the operator is to review it', async () => {
    const store = new SqliteStore(':memory:');
    const screening = screeningOver(store);
    await screening.importList(fixture('sdn.xml'), 'sdn.xml');
    const confirmed = request({
      fields: {
        legal: { status: 'confirmed', value: 'Ivan Korsakov', subject: 'Ivan Korsakov', confirmedAt: 1 },
      },
    });
    expect(await screening.screenRequest(confirmed)).toEqual([]);
  });

  it('holds and queues a display name like a listed one when display names are screened', async () => {
    const store = new SqliteStore(':memory:');
    const screening = screeningOver(store, {}, true);
    expect(await screening.displayHeld()).toBeUndefined();
    await screening.importList(fixture('sdn.xml'), 'sdn.xml');
    const held = await screening.displayHeld();
    expect(held?.('Ivan Korsakov')).toBe(true);
    expect(held?.('Ivan Petrov')).toBe(false);
    const hits = await screening.screenRequest(awaitingLegal('Jane Roe'));
    expect(hits.map((h) => [h.field, h.uid])).toEqual([['display', '90001']]);
  });

  it('screens judged legal names again on import, only those whose judgement by us still stands', async () => {
    const store = new SqliteStore(':memory:');
    const judged = (account: string, judgement: string) =>
      store.appendJudgement({
        account,
        registrarIndex: 7,
        judgement,
        identityHash: HASH,
        blockHash: '0x01',
        extrinsicHash: '0x02',
        at: 1,
      });
    await judged('acct-good', 'Reasonable');
    await judged('acct-gone', 'Reasonable');
    await judged('acct-other', 'Reasonable');
    await judged('acct-erroneous', 'Erroneous');
    const screening = screeningOver(store, {
      'acct-good': identityWith('Anatoly Belogorov', 'Reasonable'),
      // Judged once, but the judgement is gone (an edit): not ours to screen now.
      'acct-gone': identityWith('Anatoly Belogorov', 'FeePaid'),
      'acct-other': identityWith('Maria Lopez', 'KnownGood'),
      'acct-erroneous': identityWith('Anatoly Belogorov', 'Erroneous'),
    });
    await store.insertRequest(awaitingLegal('Белогоров Анатолий', 'acct-open'));
    const outcome = await screening.importList(fixture('eu.xml'), 'eu.xml');
    expect(outcome).toEqual({
      list: { format: 'eu', source: 'eu.xml', listDate: '2026-12-01', importedAt: 5_000, entryCount: 4 },
      screened: 3,
      hits: 2,
    });
    const hits = await store.listSanctionsHits();
    expect(hits.map((h) => [h.account, h.uid, h.reason])).toEqual([
      ['acct-open', '800001', 'request'],
      ['acct-good', '800001', 'import'],
    ]);
  });

  it('keeps the list there was when a file does not read, and uses a list another instance imported', async () => {
    const store = new SqliteStore(':memory:');
    const one = screeningOver(store);
    const two = screeningOver(store);
    await one.importList(fixture('sdn.xml'), 'sdn.xml');
    expect(await two.screenRequest(awaitingLegal('Ivan Korsakov', 'a1'))).toHaveLength(1);
    await expect(one.importList(fixture('sdn.xml').slice(0, 900), 'cut.xml')).rejects.toThrow(
      /not well-formed/,
    );
    expect((await store.sanctionsListInfo()).map((l) => l.source)).toEqual(['sdn.xml']);
    // The other instance imports a newer list in which the entry is gone: this one sees it at once.
    await two.importList(
      fixture('sdn.xml')
        .replace('11/28/2026', '11/30/2026')
        .replace(/KORSAKO(V|FF)/g, 'SMIRNOV'),
      'sdn2.xml',
    );
    expect(await one.screenRequest(awaitingLegal('Ivan Korsakov', 'a2'))).toEqual([]);
    const status = await one.status();
    expect(status.lists.map((l) => l.listDate)).toEqual(['2026-11-30']);
    expect(status.hits.map((h) => h.account)).toEqual(['a1']);
    expect(status.hits[0]?.reviewed).toBeUndefined();
    await store.appendReview({
      account: 'a1',
      registrarIndex: 7,
      field: 'legal',
      decision: 'reject',
      reviewer: 'Ann Ops',
      identityHash: HASH,
      at: 6_000,
    });
    expect((await one.status('a1')).hits[0]?.reviewed).toEqual({
      decision: 'reject',
      reviewer: 'Ann Ops',
      at: 6_000,
    });
  });
});
