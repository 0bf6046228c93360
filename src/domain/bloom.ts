/**
 * The anonymous whitelist's Bloom filter: a set of account IDs that answers "probably in" or
 * "certainly not in" without listing them. Sized from the number of accounts and a target
 * false-positive rate; written in a small self-describing binary format (docs/WHITELIST.md) so that
 * anyone can check an account against the published file without this code. Pure: SHA-256 is
 * computation, not I/O.
 */
import { createHash } from 'node:crypto';

/** The file's first four bytes: "PRBF" (People Registrar Bloom Filter). */
const MAGIC = 0x50524246;
const FORMAT_VERSION = 1;
/** Hash scheme 1: k 32-bit words of SHA-256(salt || account ID || block), mod m (docs/WHITELIST.md). */
const SCHEME_SHA256_WORDS = 1;
export const HEADER_BYTES = 44;
export const SALT_BYTES = 16;
/** What a filter may hold at most: 2^32 bits (512 MiB), the range of a 32-bit index. */
const MAX_BITS = 2 ** 32;
/** Blocks of 8 positions are numbered by one byte. */
const MAX_K = 8 * 256;

export interface BloomSize {
  /** Bits. */
  m: number;
  /** Hash functions (bit positions per account). */
  k: number;
}

/**
 * The optimal size for `n` accounts at false-positive rate `p`: m = -n ln p / (ln 2)^2 bits and
 * k = (m / n) ln 2 positions, rounded. An empty set still gets 8 bits, so every file has a body.
 */
export function bloomSize(n: number, p: number): BloomSize {
  if (!(p > 0 && p < 1)) throw new RangeError('the false-positive rate must be between 0 and 1');
  if (n <= 0) return { m: 8, k: 1 };
  const m = Math.max(8, Math.ceil((-n * Math.log(p)) / Math.LN2 ** 2));
  if (m > MAX_BITS) throw new RangeError(`${n} accounts at rate ${p} need more than 2^32 bits`);
  return { m, k: Math.min(MAX_K, Math.max(1, Math.round((m / n) * Math.LN2))) };
}

/** The false-positive rate a filter of m bits and k positions has with n entries: (1 - e^(-kn/m))^k. */
export function expectedRate(size: BloomSize, n: number): number {
  return (1 - Math.exp((-size.k * n) / size.m)) ** size.k;
}

export class BloomFilter {
  private constructor(
    readonly m: number,
    readonly k: number,
    /** How many accounts were added. */
    public n: number,
    /** The target false-positive rate it was sized for. */
    readonly targetRate: number,
    readonly salt: Uint8Array,
    private readonly bits: Uint8Array,
  ) {}

  /** An empty filter sized for `n` accounts at rate `p`; `salt` makes its bit positions its own. */
  static sized(n: number, p: number, salt: Uint8Array): BloomFilter {
    if (salt.length !== SALT_BYTES) throw new RangeError(`the salt must be ${SALT_BYTES} bytes`);
    const { m, k } = bloomSize(n, p);
    return new BloomFilter(m, k, 0, p, Uint8Array.from(salt), new Uint8Array(Math.ceil(m / 8)));
  }

  /** Reads a filter written by `encode`; throws on anything else. */
  static decode(bytes: Uint8Array): BloomFilter {
    if (bytes.length < HEADER_BYTES) throw new Error('not a whitelist filter: too short');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== MAGIC) throw new Error('not a whitelist filter: wrong magic bytes');
    const version = view.getUint8(4);
    if (version !== FORMAT_VERSION) throw new Error(`whitelist filter format ${version} is not known`);
    const scheme = view.getUint8(5);
    if (scheme !== SCHEME_SHA256_WORDS) throw new Error(`whitelist hash scheme ${scheme} is not known`);
    const k = view.getUint16(6);
    const m = Number(view.getBigUint64(8));
    const n = view.getUint32(16);
    const targetRate = view.getFloat64(20);
    const salt = bytes.slice(28, 28 + SALT_BYTES);
    const body = bytes.slice(HEADER_BYTES);
    if (k < 1 || k > MAX_K || m < 1 || m > MAX_BITS || body.length !== Math.ceil(m / 8)) {
      throw new Error('whitelist filter header and body do not agree');
    }
    return new BloomFilter(m, k, n, targetRate, salt, body);
  }

  /** Adds an account by its 32-byte ID (the public key, not an SS58 text, which differs by network). */
  add(accountId: Uint8Array): void {
    for (const bit of this.positions(accountId))
      this.bits[bit >>> 3] = (this.bits[bit >>> 3] ?? 0) | (1 << (bit & 7));
    this.n += 1;
  }

  /** Whether the account may be in the set (false: certainly not). */
  has(accountId: Uint8Array): boolean {
    for (const bit of this.positions(accountId))
      if (((this.bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) === 0) return false;
    return true;
  }

  /** The false-positive rate this filter has with the accounts it holds. */
  get rate(): number {
    return expectedRate(this, this.n);
  }

  /** Header (big-endian) and bit array, as docs/WHITELIST.md describes. */
  encode(): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.bits.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, MAGIC);
    view.setUint8(4, FORMAT_VERSION);
    view.setUint8(5, SCHEME_SHA256_WORDS);
    view.setUint16(6, this.k);
    view.setBigUint64(8, BigInt(this.m));
    view.setUint32(16, this.n);
    view.setFloat64(20, this.targetRate);
    out.set(this.salt, 28);
    out.set(this.bits, HEADER_BYTES);
    return out;
  }

  /**
   * Bit i of the account is word i mod 8 (big-endian u32) of block i div 8, mod m, where block b is
   * SHA-256(salt || account ID || b as one byte): k independent positions. Double hashing (two
   * words stepping through the array) was tried first and let in 1.5 times the target at 1e-5 on
   * 10,000 accounts: two accounts with the same step share most positions once offset by a step.
   */
  private positions(accountId: Uint8Array): number[] {
    const out: number[] = [];
    for (let block = 0; out.length < this.k; block++) {
      const digest = createHash('sha256')
        .update(this.salt)
        .update(accountId)
        .update(Uint8Array.of(block))
        .digest();
      for (let word = 0; word < 8 && out.length < this.k; word++)
        out.push(digest.readUInt32BE(word * 4) % this.m);
    }
    return out;
  }
}
