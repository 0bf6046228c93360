/** The store part: the embedded SQLite file by default, MongoDB when configured (loaded only then). */
import type { Config } from '../config.js';
import { openStoreAt } from '../store/open.js';
import type { Store } from '../store/store.js';

export function openStore(config: Config): Promise<Store> {
  return openStoreAt(config.store);
}
