/**
 * IdentityOf read as stored, in pages of raw values: the full scan of every identity and the
 * periodic read of the accounts with open requests. Only the head of each value (its judgements)
 * is decoded up front. Decoding every identity in full cost more time and memory than reading it:
 * most entries are looked at for their judgements alone, and an open request's identity is most
 * often the one it was opened on, which the stored bytes can say without decoding them.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { compactFromU8aLim, hexToU8a, u8aEq } from '@polkadot/util';
import type { Snapshot } from '../domain/request.js';
import {
  type ChainIdentity,
  decodeRegistration,
  type JudgementSlot,
  pendingFor,
  registrationOf,
  SCAN_PAGE,
  slotsOf,
} from './identity.js';

/** Bytes of hash before the key itself, for the hashers that keep the key (pallet-identity: Twox64Concat). */
const CONCAT_HASH_LENGTH: Record<string, number> = { Blake2128Concat: 16, Twox64Concat: 8, Identity: 0 };

/** The runtime types stored values are decoded with, found from the metadata. */
interface StoredTypes {
  /** Where the account begins in a key. */
  accountAt: number;
  value: string;
  judgements: string;
  /** Bytes of the deposit after the judgements, when the Registration is (judgements, deposit, info). */
  depositLength: number | undefined;
  /** The kinds of Judgement by their SCALE index, when their layout is one readJudgements knows. */
  judgementKinds: Map<number, JudgementKind> | undefined;
}

/** A variant of the runtime's Judgement: its name and the bytes of its value (FeePaid's fee). */
interface JudgementKind {
  name: string;
  valueBytes: number;
}

type Lookup = ApiPromise['registry']['lookup'];
type TypeId = Parameters<Lookup['getSiType']>[0];

/** The definition of a type, seen through single-field wrappers (BoundedVec, a newtype). */
function unwrapped(lookup: Lookup, id: TypeId) {
  let def = lookup.getSiType(id).def;
  for (let field = def.isComposite ? def.asComposite.fields : undefined; field?.length === 1; ) {
    def = lookup.getSiType(field[0]?.type ?? id).def;
    field = def.isComposite ? def.asComposite.fields : undefined;
  }
  return def;
}

/** Bytes of an unsigned integer type; undefined for any other. */
function uintWidth(lookup: Lookup, id: TypeId): number | undefined {
  const def = unwrapped(lookup, id);
  if (!def.isPrimitive) return undefined;
  return { U8: 1, U16: 2, U32: 4, U64: 8, U128: 16 }[def.asPrimitive.type as string];
}

/**
 * The kinds of Judgement, when the judgements are a sequence of (u32, Judgement) whose variants
 * carry nothing or one unsigned integer (pallet-identity's layout): then they are read from the
 * bytes directly. Building codecs for them cost most of a periodic pass's read, profiled. Any
 * other layout: undefined, and they are decoded with the runtime's types.
 */
function judgementKindsOf(lookup: Lookup, judgements: TypeId) {
  const def = unwrapped(lookup, judgements);
  if (!def.isSequence) return undefined;
  const item = lookup.getSiType(def.asSequence.type).def;
  const [index, judgement] = item.isTuple ? item.asTuple : [];
  if (!index || !judgement || item.asTuple.length !== 2 || uintWidth(lookup, index) !== 4) return undefined;
  const variants = lookup.getSiType(judgement).def;
  if (!variants.isVariant) return undefined;
  const kinds = new Map<number, JudgementKind>();
  for (const variant of variants.asVariant.variants) {
    const [value, ...more] = variant.fields;
    const valueBytes = value ? uintWidth(lookup, value.type) : 0;
    if (valueBytes === undefined || more.length > 0) return undefined;
    kinds.set(variant.index.toNumber(), { name: variant.name.toString(), valueBytes });
  }
  return kinds;
}

/**
 * The judgement slots at the head of a stored value, and where they end. Throws where the value
 * ends inside them or names a kind the runtime does not have, as decoding it would.
 */
function readJudgements(bytes: Uint8Array, kinds: ReadonlyMap<number, JudgementKind>) {
  const [offset, count] = compactFromU8aLim(bytes);
  const judgements: JudgementSlot[] = [];
  let at = offset;
  const need = (length: number) => {
    if (at + length > bytes.length) throw new Error('the stored value ends inside its judgements');
  };
  for (let i = 0; i < count; i++) {
    need(5);
    const registrarIndex = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
    const kind = kinds.get(bytes[at + 4] ?? -1);
    if (!kind) throw new Error(`a judgement of no known kind (${bytes[at + 4]})`);
    at += 5;
    const slot: JudgementSlot = { registrarIndex, judgement: kind.name };
    need(kind.valueBytes);
    if (kind.name === 'FeePaid') {
      let fee = 0n;
      for (let b = kind.valueBytes - 1; b >= 0; b--) fee = (fee << 8n) | BigInt(bytes[at + b] ?? 0);
      slot.fee = fee;
    }
    at += kind.valueBytes;
    judgements.push(slot);
  }
  return { judgements, end: at };
}

const typesOf = new WeakMap<ApiPromise['registry'], StoredTypes>();

function storedTypes(api: ApiPromise): StoredTypes {
  const known = typesOf.get(api.registry);
  if (known) return known;
  const { registry } = api;
  const entry = api.query.identity.identityOf;
  const map = entry.creator.meta.type.asMap;
  const hasher = map.hashers[0]?.type;
  const hashLength = hasher ? CONCAT_HASH_LENGTH[hasher] : undefined;
  if (hashLength === undefined) {
    throw new Error(
      `IdentityOf is keyed by ${hasher ?? 'no'} hasher, which does not keep the account: not supported`,
    );
  }
  let registration = map.value;
  const valueDef = registry.lookup.getSiType(map.value).def;
  if (valueDef.isTuple) registration = valueDef.asTuple[0] ?? registration;
  const def = registry.lookup.getSiType(registration).def;
  const fields = def.isComposite ? [...def.asComposite.fields] : [];
  const names = fields.map((field) => field.name.unwrapOr(undefined)?.toString());
  const [judgements, deposit] = fields;
  // The Registration struct begins with its judgements, so their type alone decodes the head.
  if (names[0] !== 'judgements' || !judgements) {
    throw new Error('IdentityOf values do not begin with their judgements: this runtime is not supported');
  }
  const orderKnown = names[1] === 'deposit' && names[2] === 'info' && deposit;
  const types: StoredTypes = {
    // The key is the prefix, the account's hash, then the account itself.
    accountAt: entry.keyPrefix().length / 2 - 1 + hashLength,
    value: registry.createLookupType(map.value),
    judgements: registry.createLookupType(judgements.type),
    depositLength: orderKnown
      ? registry.createType(registry.createLookupType(deposit.type)).encodedLength
      : undefined,
    judgementKinds: judgementKindsOf(registry.lookup, judgements.type),
  };
  typesOf.set(registry, types);
  return types;
}

/** One IdentityOf value as stored: its judgements read from its head, the rest decoded on demand. */
export class StoredIdentity {
  readonly judgements: JudgementSlot[];
  /** Where the info begins in the bytes, when the layout says. */
  private readonly infoAt: number | undefined;

  constructor(
    readonly account: string,
    /** Its storage key, as hex. */
    readonly key: string,
    private readonly bytes: Uint8Array,
    private readonly api: ApiPromise,
    private readonly types: StoredTypes,
  ) {
    const { judgements, end } = types.judgementKinds
      ? readJudgements(bytes, types.judgementKinds)
      : decodeJudgements(api, types, bytes);
    this.judgements = judgements;
    this.infoAt = types.depositLength === undefined ? undefined : end + types.depositLength;
  }

  isPendingFor(index: number): boolean {
    return pendingFor(this.judgements, index);
  }

  /** The IdentityOf value, decoded in full with the runtime's types. */
  value(): Codec {
    return this.api.registry.createType(this.types.value, this.bytes);
  }

  identity(): ChainIdentity | undefined {
    const registration = registrationOf(this.value());
    return registration ? decodeRegistration(registration) : undefined;
  }

  /**
   * Whether its info is exactly the snapshot's: the stored bytes hold the snapshot's info where
   * the info begins. Decoding is deterministic over those bytes, so the info decodes to the very
   * value the snapshot was taken of, and ends where the snapshot's bytes end.
   */
  hasInfo(snapshot: Snapshot): boolean {
    if (this.infoAt === undefined) return false;
    const info = hexToU8a(snapshot.infoHex);
    return u8aEq(this.bytes.subarray(this.infoAt, this.infoAt + info.length), info);
  }
}

/** The judgement slots at the head of a stored value, decoded with the runtime's types. */
function decodeJudgements(api: ApiPromise, types: StoredTypes, bytes: Uint8Array) {
  const head = api.registry.createType(types.judgements, bytes) as unknown as Codec & Iterable<Codec[]>;
  return { judgements: slotsOf(head), end: head.encodedLength };
}

/** Whether the judgements of this runtime's stored values are read from their bytes directly. */
export function readsJudgementsDirectly(api: ApiPromise): boolean {
  return storedTypes(api).judgementKinds !== undefined;
}

/** What a full scan of IdentityOf shows, entry by entry, to whoever keeps a corpus from it. */
export interface ScanVisitor {
  beginScan(): void;
  visit(entry: StoredIdentity): void;
  /** The scan read every entry (not called when it failed on the way). */
  endScan(): void;
}

/** The raw values at `keys` at block `at` (the newest when undefined), in their order. */
async function storedValues(
  api: ApiPromise,
  keys: readonly string[],
  at: string | undefined,
): Promise<(Uint8Array | undefined)[]> {
  // The JSON-RPC answer as it comes: values as hex by key, without a codec made for each entry.
  const sets = (await api.rpc(
    'state_queryStorageAt',
    keys,
    ...(at === undefined ? [] : [at]),
  )) as unknown as {
    changes: [string, string | null][];
  }[];
  const values = new Map(sets[0]?.changes ?? []);
  return keys.map((key) => {
    const hex = values.get(key);
    return hex && hex !== '0x' ? hexToU8a(hex) : undefined;
  });
}

/** Pages listed but not yet handed over: what a scan holds, whatever the size of the chain. */
export const PAGES_AHEAD = 4;

/**
 * Told of an entry whose stored value does not decode with the runtime's types (a `Data` variant
 * of a later runtime, a corrupt value): the entry is skipped, the rest read as usual.
 */
export type Unreadable = (account: string, error: unknown) => void;

/** Runs `read` for one entry; a decoding failure goes to `unreadable` (thrown without it). */
function orSkip<T>(account: string, unreadable: Unreadable | undefined, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!unreadable) throw error;
    unreadable(account, error);
    return undefined;
  }
}

/**
 * Every IdentityOf entry at block `at` (the newest when undefined), a page at a time (keys, then
 * their raw values), handed to `visitPage` and dropped: memory is bounded by a few pages, not by
 * the chain. Listing keys is what costs a node (it walks its keys for each one), so the next page
 * is asked for the moment a page's keys arrive, while earlier pages are still being handed over;
 * `visitPage` is awaited before the next page is handed over. Returns how many were read.
 */
export async function scanIdentities(
  api: ApiPromise,
  at: string | undefined,
  visitPage: (page: StoredIdentity[]) => Promise<void> | void,
  pageSize = SCAN_PAGE,
  unreadable?: Unreadable,
): Promise<number> {
  const { registry } = api;
  const prefix = api.query.identity.identityOf.keyPrefix();
  // Every page from the same block, whatever is built meanwhile.
  const block = at ?? (await api.rpc.chain.getBlockHash()).toHex();
  const listed: Promise<{ keys: string[]; values: Promise<(Uint8Array | undefined)[]> }>[] = [];
  let waiting: string | undefined; // The last key of a page whose successor waits for room.
  let stopped = false;
  const list = (startKey: string | undefined): void => {
    const page = api.rpc.state.getKeysPaged(prefix, pageSize, startKey, block).then((found) => {
      const keys = found.map((key) => key.toHex());
      const values = storedValues(api, keys, block);
      // Awaited in turn; a failure meanwhile must not go unhandled.
      values.catch(() => undefined);
      const last = keys.length === pageSize ? keys[keys.length - 1] : undefined;
      if (last !== undefined && !stopped) {
        if (listed.length < PAGES_AHEAD) list(last);
        else waiting = last;
      }
      return { keys, values };
    });
    page.catch(() => undefined);
    listed.push(page);
  };
  list(undefined);
  let read = 0;
  try {
    for (let next = listed.shift(); next; next = listed.shift()) {
      const { keys, values } = await next;
      if (keys.length === 0) break;
      if (waiting !== undefined) {
        const startKey = waiting;
        waiting = undefined;
        list(startKey);
      }
      const types = storedTypes(api);
      const stored = await values;
      const page: StoredIdentity[] = [];
      keys.forEach((key, i) => {
        const bytes = stored[i];
        if (!bytes) return;
        const account = registry.createType('AccountId', hexToU8a(key).subarray(types.accountAt)).toString();
        const entry = orSkip(account, unreadable, () => new StoredIdentity(account, key, bytes, api, types));
        if (entry) page.push(entry);
      });
      await visitPage(page);
      read += keys.length;
    }
    return read;
  } finally {
    stopped = true;
  }
}

/**
 * Every account whose judgement slot for `index` is FeePaid, with its identity: the pending
 * requests, from a full scan of storage at block `at`. `visit` sees every entry on the way;
 * `found` the pending ones of each page as soon as the page is read (the scan goes on after it);
 * `unreadable` each entry skipped because its value does not decode; `keys` is given the storage
 * key of each pending one, so that the next read of the open requests does not compute them again.
 */
export async function readPendingIdentities(
  api: ApiPromise,
  index: number,
  options: {
    at?: string;
    visit?: (entry: StoredIdentity) => void;
    found?: (page: ReadonlyMap<string, ChainIdentity>) => Promise<void>;
    pageSize?: number;
    unreadable?: Unreadable;
    keys?: AccountKeys;
  } = {},
): Promise<Map<string, ChainIdentity>> {
  const pending = new Map<string, ChainIdentity>();
  await scanIdentities(
    api,
    options.at,
    async (entries) => {
      const found = new Map<string, ChainIdentity>();
      for (const entry of entries) {
        const identity = orSkip(entry.account, options.unreadable, () => {
          options.visit?.(entry);
          return entry.isPendingFor(index) ? entry.identity() : undefined;
        });
        if (identity) {
          found.set(entry.account, identity);
          options.keys?.remember(entry.account, entry.key);
        }
      }
      for (const [account, identity] of found) pending.set(account, identity);
      if (found.size > 0) await options.found?.(found);
    },
    options.pageSize,
    options.unreadable,
  );
  return pending;
}

/**
 * The storage keys of accounts read pass after pass, hashed once: each read keeps those of its own
 * accounts, so what is kept is the last pass's, not every account ever read.
 */
export class AccountKeys {
  private keys = new Map<string, string>();

  /**
   * Keeps `key` as the storage key of `account` until the next read: computing a key (the address
   * decoded, then hashed) cost more than the rest of a periodic pass's read, measured.
   */
  remember(account: string, key: string): void {
    this.keys.set(account, key);
  }

  /** The keys of `accounts`, in their order; from now on only these are kept. */
  of(api: ApiPromise, accounts: readonly string[]): string[] {
    const previous = this.keys;
    this.keys = new Map();
    return accounts.map((account) => {
      const key = previous.get(account) ?? api.query.identity.identityOf.key(account);
      this.keys.set(account, key);
      return key;
    });
  }
}

/**
 * The identities of `accounts` that are pending for `index` at block `at` (the newest when
 * undefined): one storage query per page of accounts. `known`: the snapshot each was last seen
 * with. An identity still holding it is not decoded: it is handed over with that snapshot, its
 * info decoded only if asked for. `unreadable`: each account skipped because its value does not
 * decode. `keys`: where the accounts' storage keys are kept between reads.
 */
export async function readPendingOf(
  api: ApiPromise,
  at: string | undefined,
  index: number,
  accounts: readonly string[],
  options: { known?: ReadonlyMap<string, Snapshot>; unreadable?: Unreadable; keys?: AccountKeys } = {},
): Promise<Map<string, ChainIdentity>> {
  const pending = new Map<string, ChainIdentity>();
  const { known = new Map<string, Snapshot>(), unreadable } = options;
  const keys = (options.keys ?? new AccountKeys()).of(api, accounts);
  for (let start = 0; start < accounts.length; start += SCAN_PAGE) {
    const page = accounts.slice(start, start + SCAN_PAGE);
    const pageKeys = keys.slice(start, start + SCAN_PAGE);
    const values = await storedValues(api, pageKeys, at);
    page.forEach((account, i) => {
      const bytes = values[i];
      if (!bytes) return;
      const identity = orSkip(account, unreadable, () => {
        const stored = new StoredIdentity(account, pageKeys[i] ?? '', bytes, api, storedTypes(api));
        if (!stored.isPendingFor(index)) return undefined;
        const snapshot = known.get(account);
        return snapshot && stored.hasInfo(snapshot) ? unchanged(stored, snapshot) : stored.identity();
      });
      if (identity) pending.set(account, identity);
    });
  }
  return pending;
}

/** An identity whose info is the snapshot's: its info is decoded the first time it is asked for. */
function unchanged(stored: StoredIdentity, snapshot: Snapshot): ChainIdentity {
  let info: ChainIdentity['info'] | undefined;
  return {
    snapshot,
    judgements: stored.judgements,
    get info() {
      info ??= stored.identity()?.info;
      if (!info) throw new Error('an identity read a moment ago no longer decodes');
      return info;
    },
  };
}
