/**
 * `registrar whitelist`: `export FILE` writes the anonymous whitelist (the same filter the daemon
 * serves at /whitelist.bloom, under its own salt) from the store; `check ADDRESS [--file FILE]`
 * answers from a published file, or from one built from the store now. Both print the filter's
 * size and false-positive rate; neither prints the accounts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { accountIdOf, buildWhitelist } from '../chain/whitelist.js';
import type { Config } from '../config.js';
import { BloomFilter } from '../domain/bloom.js';
import { openStoreAt } from '../store/open.js';

export interface CommandResult {
  /** What goes to stdout. */
  out: string;
  /** 0 done (check: probably whitelisted), 1 not whitelisted or failed, 2 wrong usage. */
  code: number;
}

export const WHITELIST_USAGE = `  whitelist export FILE                 write the anonymous whitelist (a Bloom filter) built from the store
  whitelist check ADDRESS [--file FILE] whether an account is on it, from FILE or the store; size and rate
`;

/** Size, accounts, hash functions and rate, on one line. */
export function describeFilter(filter: BloomFilter, bytes: number): string {
  return `${filter.n} accounts, ${filter.m} bits (${bytes} bytes) and ${filter.k} hash functions: false-positive rate ${filter.rate.toExponential(2)} (target ${filter.targetRate.toExponential(2)})`;
}

async function fromStore(config: Config): Promise<BloomFilter> {
  const store = await openStoreAt(config.store);
  try {
    return buildWhitelist(await store.listJudgements(), config.registrar.index, config.whitelistFpRate);
  } finally {
    await store.close();
  }
}

/** Runs `registrar whitelist ...` with `args` (after the word whitelist). */
export async function whitelistCommand(
  args: string[],
  readConfig: () => Promise<Config>,
): Promise<CommandResult> {
  const { values, positionals } = parseArgs({
    args,
    options: { file: { type: 'string' } },
    allowPositionals: true,
  });
  const [action, target] = positionals;
  if (action === 'export' && target && positionals.length === 2 && values.file === undefined) {
    const filter = await fromStore(await readConfig());
    const bytes = filter.encode();
    await writeFile(target, bytes);
    return { out: `wrote ${target}: ${describeFilter(filter, bytes.length)}\n`, code: 0 };
  }
  if (action === 'check' && target && positionals.length === 2) {
    const id = accountIdOf(target);
    if (!id) return { out: `${target} is not an account address\n`, code: 2 };
    let filter: BloomFilter;
    let size: number;
    if (values.file !== undefined) {
      const bytes = await readFile(values.file);
      filter = BloomFilter.decode(bytes);
      size = bytes.length;
    } else {
      filter = await fromStore(await readConfig());
      size = filter.encode().length;
    }
    const found = filter.has(id);
    const verdict = found
      ? `${target} is on the whitelist (or is a false positive, at the rate below)`
      : `${target} is not on the whitelist`;
    return { out: `${verdict}\n${describeFilter(filter, size)}\n`, code: found ? 0 : 1 };
  }
  return { out: WHITELIST_USAGE, code: 2 };
}
