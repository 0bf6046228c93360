/**
 * The anonymous whitelist built from the audit log: a Bloom filter (domain/bloom.ts) of the 32-byte
 * IDs of the accounts this registrar vouches for (domain/whitelist.ts). Here because an address is
 * turned into its account ID by the chain's SS58 rules; the daemon's endpoint and the CLI's export
 * build it the same way.
 */
import { randomBytes } from 'node:crypto';
import { decodeAddress } from '@polkadot/util-crypto';
import { BloomFilter, SALT_BYTES } from '../domain/bloom.js';
import type { JudgementRecord } from '../domain/request.js';
import { whitelistedAccounts } from '../domain/whitelist.js';

/** The account ID of an SS58 address of any network (or 0x-hex), or undefined when it is none. */
export function accountIdOf(address: string): Uint8Array | undefined {
  try {
    const id = decodeAddress(address.trim());
    return id.length === 32 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A new filter of the accounts `records` whitelist, sized for them at `rate`, under a fresh salt:
 * two builds of the same list share no bit positions, so comparing them says nothing of who joined.
 */
export function buildWhitelist(
  records: readonly JudgementRecord[],
  registrarIndex: number,
  rate: number,
): BloomFilter {
  const ids = whitelistedAccounts(records, registrarIndex)
    .map(accountIdOf)
    .filter((id): id is Uint8Array => id !== undefined);
  const filter = BloomFilter.sized(ids.length, rate, randomBytes(SALT_BYTES));
  for (const id of ids) filter.add(id);
  return filter;
}
