/**
 * The People runtime chain specs the project ships (chain/*.json.gz), for the tests and the dev
 * mode: read, decompressed and checked against chain/SHA256SUMS, so that a fresh clone runs a real
 * runtime without anything beside it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type ShippedSpec = 'people-paseo-local' | 'paseo-people.raw';

/** chain/ at the root of the clone: two levels up from src/dev and dist/dev, three from dist-bench/src/dev. */
function chainDir(): URL {
  const near = new URL('../../chain/', import.meta.url);
  return existsSync(new URL('SHA256SUMS', near)) ? near : new URL('../../../chain/', import.meta.url);
}

/** The parsed chain spec, as chopsticks takes it for `genesis`. Throws when the file was altered. */
export function shippedChainSpec(name: ShippedSpec): Record<string, unknown> {
  const file = `${name}.json`;
  const CHAIN_DIR = chainDir();
  const bytes = gunzipSync(readFileSync(new URL(`${file}.gz`, CHAIN_DIR)));
  const sums = readFileSync(new URL('SHA256SUMS', CHAIN_DIR), 'utf8');
  const expected = sums
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find(([, named]) => named === file)?.[0];
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (expected !== actual) throw new Error(`chain/${file}.gz does not match chain/SHA256SUMS`);
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}
