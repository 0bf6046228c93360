import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from '../contract/store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'registrar-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('SQLite', {
  connect: async () => new SqliteStore(join(dir, 'nested', 'registrar.sqlite')),
});
