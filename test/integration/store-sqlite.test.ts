import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from '@jest/globals';
import { SqliteStore } from '../../src/store/sqlite.js';
import { request, storeContract } from '../contract/store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'registrar-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('SQLite', {
  connect: async () => new SqliteStore(join(dir, 'nested', 'registrar.sqlite')),
});

describe('the SQLite store file', () => {
  it('refuses a file written by a newer registrar instead of misreading it', () => {
    const path = join(dir, 'newer.sqlite');
    new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    expect(() => new SqliteStore(path)).toThrow('the store file has schema 99; this registrar knows up to 9');
  });

  it('upgrades a schema-1 file: challenges sent before the outbox count as delivered, none is sent again, reviews can be logged', async () => {
    const path = join(dir, 'schema1.sqlite');
    const raw = new DatabaseSync(path);
    raw.exec(`CREATE TABLE challenges (id TEXT PRIMARY KEY, request_id TEXT NOT NULL, field TEXT NOT NULL,
      expires_at INTEGER NOT NULL, used_at INTEGER, voided_at INTEGER, doc TEXT NOT NULL) STRICT;
      CREATE TABLE requests (id TEXT PRIMARY KEY, account TEXT NOT NULL, registrar_index INTEGER NOT NULL,
      is_open INTEGER NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL) STRICT;
      CREATE TABLE checkpoints (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      PRAGMA user_version = 1;`);
    const old = {
      id: 'c1',
      requestId: 'r1',
      account: 'a',
      field: 'email',
      snapshotHash: '0x',
      subject: 's',
      createdAt: 1_000,
      expiresAt: 100_000,
    };
    raw
      .prepare('INSERT INTO challenges VALUES (?, ?, ?, ?, NULL, NULL, ?)')
      .run('c1', 'r1', 'email', 100_000, JSON.stringify(old));
    raw.close();
    const store = new SqliteStore(path);
    try {
      expect(await store.getChallenge('c1')).toEqual({ ...old, deliveredAt: 1_000 });
      expect(await store.dueDeliveries(50_000, 10)).toEqual([]);
      expect(await store.claimLease('registrar', 'me', 10, 0)).toBe(true);
      const review = {
        account: 'a',
        registrarIndex: 0,
        field: 'legal',
        decision: 'confirm' as const,
        reviewer: 'ops',
        identityHash: '0x',
        at: 1,
      };
      await store.appendReview(review);
      expect(await store.listReviews('a')).toEqual([review]);
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema-3 file: a request written before readiness was kept is still found when ready', async () => {
    const path = join(dir, 'schema3.sqlite');
    new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    const ready = request({
      fields: {
        email: { status: 'confirmed', value: 'a@example.org', subject: 'a@example.org', confirmedAt: 2 },
      },
    });
    // What schema 3 was: no readiness column.
    raw.exec(
      `DROP INDEX requests_maybe_ready; ALTER TABLE requests DROP COLUMN ready;
       DROP INDEX checkpoints_by_expiry; ALTER TABLE checkpoints DROP COLUMN expires_at; PRAGMA user_version = 3;`,
    );
    raw
      .prepare(
        'INSERT INTO requests (id, account, registrar_index, is_open, version, created_at, doc) VALUES (?, ?, ?, 1, 0, ?, ?)',
      )
      .run(ready.id, ready.account, ready.registrarIndex, ready.createdAt, JSON.stringify(ready));
    // A Matrix event handled before checkpoints could expire (its value: when) and one that never does.
    raw.exec(`INSERT INTO checkpoints VALUES ('matrix:event:$old', '1000'), ('matrix:room:@a:b', '!r:b')`);
    raw.close();
    const store = new SqliteStore(path);
    try {
      expect((await store.listReadyRequests(ready.registrarIndex)).map((r) => r.id)).toEqual([ready.id]);
      // Written again (back to awaiting): readiness is kept from then on.
      const waiting = { ...ready, fields: request().fields };
      await store.updateRequest(waiting);
      expect(await store.listReadyRequests(ready.registrarIndex)).toEqual([]);
      expect((await store.listOpenSnapshots(ready.registrarIndex)).get(ready.account)).toEqual(
        ready.snapshot,
      );
      expect(await store.deleteExpiredCheckpoints(1000 + 3 * 86_400_000)).toBe(1);
      expect(await store.getCheckpoint('matrix:event:$old')).toBeUndefined();
      expect(await store.getCheckpoint('matrix:room:@a:b')).toBe('!r:b');
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema-5 file: proven handles can be claimed and found', async () => {
    const path = join(dir, 'schema5-handles.sqlite');
    new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    // What schema 5 was: no handles table.
    raw.exec('DROP TABLE handles; PRAGMA user_version = 5;');
    raw.close();
    const store = new SqliteStore(path);
    try {
      await store.claimHandles([{ key: 'k', account: 'a', requestId: 'r', field: 'email', at: 1 }]);
      expect(await store.handleHolders(['k'])).toEqual(['a']);
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema-6 file: the highest finalized block seen is kept', async () => {
    const path = join(dir, 'schema6-finalized.sqlite');
    new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    // What schema 6 was: no finalized table.
    raw.exec('DROP TABLE finalized; PRAGMA user_version = 6;');
    raw.close();
    const store = new SqliteStore(path);
    try {
      expect(await store.raiseFinalized('0xgenesis', 12)).toBe(12);
      expect(await store.raiseFinalized('0xgenesis', 10)).toBe(12);
      expect(await store.highestFinalized('0xgenesis')).toBe(12);
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema-7 file: judged proofs can be kept and found due', async () => {
    const path = join(dir, 'schema7-judged-proofs.sqlite');
    new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    // What schema 7 was: no judged proofs table.
    raw.exec('DROP TABLE judged_proofs; PRAGMA user_version = 7;');
    raw.close();
    const store = new SqliteStore(path);
    try {
      const proof = {
        account: 'a',
        registrarIndex: 1,
        field: 'web' as const,
        subject: 'example.org',
        identityHash: '0x00',
        judgedAt: 1,
        nextCheckAt: 2,
      };
      await store.saveJudgedProof(proof);
      expect(await store.dueJudgedProofs(1, 2, 10)).toEqual([proof]);
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema-8 file: sanctions lists and hits can be kept', async () => {
    const path = join(dir, 'schema8-sanctions.sqlite');
    new SqliteStore(path).close();
    const raw = new DatabaseSync(path);
    // What schema 8 was: no sanctions tables.
    raw.exec('DROP TABLE sanctions_lists; DROP TABLE sanctions_hits; PRAGMA user_version = 8;');
    raw.close();
    const store = new SqliteStore(path);
    try {
      expect(await store.sanctionsListInfo()).toEqual([]);
      await store.replaceSanctionsList({
        format: 'eu',
        source: 'eu.xml',
        listDate: '2026-12-01',
        importedAt: 1,
        entries: [{ uid: '1', kind: 'person', names: ['A B'] }],
      });
      expect((await store.sanctionsListInfo())[0]?.entryCount).toBe(1);
      expect(await store.listSanctionsHits()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
