import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from '@jest/globals';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from '../contract/store.contract.js';

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
    expect(() => new SqliteStore(path)).toThrow('the store file has schema 99; this registrar knows up to 1');
  });
});
