/** The store part: the embedded SQLite file by default, MongoDB when configured (loaded only then). */
import type { Config } from '../config.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';

export async function openStore(config: Config): Promise<Store> {
  if (config.store.kind === 'sqlite') return new SqliteStore(config.store.path);
  const { MongoStore } = await import('../store/mongodb.js');
  return MongoStore.connect(config.store.uri.reveal());
}
