/**
 * Identities written straight into a local chain's storage, in bulk: what the benchmarks and the
 * scale tests need (tens of thousands of identities, many pending), without signing a call each.
 */
import { randomBytes } from 'node:crypto';
import { encodeAddress } from '@polkadot/util-crypto';
import { type TestChain, UNIT } from './local-chain.js';

const FEE = UNIT;

/** Random but readable display names: no two alike, so the look-alike guard passes each. */
export function nameOf(i: number): string {
  const syllables = [
    'ka',
    'lo',
    'mi',
    'ne',
    'su',
    'ta',
    'ri',
    'vo',
    'ze',
    'pa',
    'gu',
    'fe',
    'do',
    'bi',
    'hy',
    'wu',
  ];
  let n = i + 4096;
  let name = '';
  while (n > 0) {
    name += syllables[n % 16];
    n = Math.floor(n / 16);
  }
  return `${name[0]?.toUpperCase()}${name.slice(1)} ${randomBytes(3).toString('hex')}`;
}

export interface WrittenIdentities {
  pending: string[];
  all: number;
}

/**
 * Writes `total` identities into the runtime's storage: `pending` of them FeePaid for `index` (with
 * the fee reserved as `request_judgement` would), `judged` Reasonable by another registrar, the
 * rest without judgements. Each has a display name, a legal name and an email address.
 */
export async function writeIdentities(
  chain: TestChain,
  index: number,
  counts: { total: number; pending: number; judged: number },
): Promise<WrittenIdentities> {
  const pending: string[] = [];
  const CHUNK = Number(process.env.CHUNK ?? 2_000);
  for (let start = 0; start < counts.total; start += CHUNK) {
    const identities: unknown[] = [];
    const accounts: unknown[] = [];
    for (let i = start; i < Math.min(counts.total, start + CHUNK); i++) {
      const account = encodeAddress(randomBytes(32), 0);
      const isPending = i < counts.pending;
      const judgements = isPending
        ? [[index, { FeePaid: FEE.toString() }]]
        : i < counts.pending + counts.judged
          ? [[index + 1, 'Reasonable']]
          : [];
      if (isPending) pending.push(account);
      identities.push([
        [account],
        {
          judgements,
          deposit: UNIT.toString(),
          info: {
            display: { Raw: nameOf(i) },
            legal: { Raw: `Legal Name ${i}` },
            email: { Raw: `person${i}@example.org` },
          },
        },
      ]);
      accounts.push([
        [account],
        {
          providers: 1,
          data: { free: (10n * UNIT).toString(), reserved: (isPending ? 2n * UNIT : UNIT).toString() },
        },
      ]);
    }
    await chain.api.rpc('dev_setStorage', {
      Identity: { IdentityOf: identities },
      System: { Account: accounts },
    });
  }
  return { pending, all: counts.total };
}

const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer).toString('hex');
const BALANCE_ONE = `01${'00'.repeat(15)}`;

/**
 * IdentityOf values this runtime's types cannot decode, as a later runtime's might look to it:
 * `judgementOfNoKind`, one judgement of an unknown kind from `index`; `pendingWithoutInfo`, a
 * FeePaid slot for `index` (so pending by its head) followed by bytes that are no IdentityInfo;
 * `cutInFee`, a FeePaid slot for `index` whose fee the value ends inside of.
 */
export function undecodableIdentities(index: number): {
  judgementOfNoKind: string;
  pendingWithoutInfo: string;
  cutInFee: string;
} {
  return {
    judgementOfNoKind: `0x04${u32(index)}0f`,
    cutInFee: `0x04${u32(index)}01${BALANCE_ONE.slice(0, 12)}`,
    pendingWithoutInfo: `0x04${u32(index)}01${BALANCE_ONE}${BALANCE_ONE}${'ff'.repeat(40)}`,
  };
}
