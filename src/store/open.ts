/** Opens the configured store: the embedded SQLite file, or MongoDB (its driver loaded only then). */
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/** Where the store is (config.ts's StoreLocation, by shape: the store layer reads no configuration). */
export type StoreAt = { kind: 'sqlite'; path: string } | { kind: 'mongodb'; uri: { reveal(): string } };

export async function openStoreAt(at: StoreAt): Promise<Store> {
  if (at.kind === 'sqlite') return new SqliteStore(at.path);
  const { MongoStore } = await import('./mongodb.js');
  return MongoStore.connect(at.uri.reveal());
}
