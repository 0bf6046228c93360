/**
 * How long the chain's blocks are, and when a block was built: read from the runtime (Aura's slot,
 * the blocks' own timestamps), never assumed. People Polkadot builds a block every 2 seconds since
 * 2026, several in one Aura slot, so the slot alone is not the block time there.
 */
import type { ApiPromise } from '@polkadot/api';

/** twox128("Timestamp") ++ twox128("Now"): the storage key of a block's time (ms, a SCALE u64). */
export const TIMESTAMP_NOW = '0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb';
/** How many recent blocks the block time is measured over. */
const SPAN = 16;

/** A stored Timestamp.Now (SCALE u64, little-endian hex) in ms; NaN when it is not one. */
export function readTimestamp(hex: string): number {
  const bytes = Buffer.from(hex.replace(/^0x/, ''), 'hex');
  return bytes.length >= 8 ? Number(bytes.readBigUInt64LE(0)) : Number.NaN;
}

/**
 * Aura's slot in ms: the pallet's constant where it holds one, else the runtime's own answer
 * (`AuraApi_slot_duration`), else twice the timestamp's minimum period.
 */
export async function slotDuration(api: ApiPromise): Promise<number> {
  const constant = Number(api.consts.aura?.slotDuration?.toString());
  if (constant > 0) return constant;
  try {
    const asked = Number((await api.call.auraApi?.slotDuration?.())?.toString());
    if (asked > 0) return asked;
  } catch {
    // An older runtime without the API: the timestamp's period below.
  }
  return 2 * Number(api.consts.timestamp?.minimumPeriod?.toString() ?? 0);
}

/**
 * The block time in ms: the time between the last blocks where that is shorter than Aura's slot
 * (several blocks per slot), else the slot.
 */
export async function blockTimeOf(api: ApiPromise): Promise<number> {
  const slot = await slotDuration(api);
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const span = Math.min(SPAN, head - 1);
  if (span > 0) {
    const timeAt = async (number: number) => {
      const hash = await api.rpc.chain.getBlockHash(number);
      const raw = (await api.rpc.state.getStorage(TIMESTAMP_NOW, hash)) as unknown as { toHex(): string };
      return readTimestamp(raw.toHex());
    };
    const measured = ((await timeAt(head)) - (await timeAt(head - span))) / span;
    if (measured > 0 && (!(slot > 0) || measured < slot)) return measured;
  }
  if (slot > 0) return slot;
  throw new Error('the runtime tells no block time');
}
