/**
 * Reads identities and the registrar entry with the connected runtime's own types. Supports every
 * `IdentityOf` value shape (`Registration`, `(Registration, Option<Username>)`) and both the People
 * and the legacy relay `IdentityInfo` layouts, by field name rather than position.
 */
import type { ApiPromise } from '@polkadot/api';
import type { ApiDecoration } from '@polkadot/api/types';
import type { Codec } from '@polkadot/types/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';
import type { Field, Layout } from '../domain/fields.js';
import { FIELDS, fieldsOfMask } from '../domain/fields.js';
import { type FieldValue, type HashAlgorithm, type IdentityInfo, textOf } from '../domain/identity.js';
import type { Snapshot } from '../domain/request.js';

export interface JudgementSlot {
  registrarIndex: number;
  /** The Judgement variant: FeePaid, Reasonable, KnownGood, ... */
  judgement: string;
  /** The fee held, for FeePaid. */
  fee?: bigint;
}

export interface ChainIdentity {
  info: IdentityInfo;
  snapshot: Snapshot;
  judgements: JudgementSlot[];
}

export interface RegistrarEntry {
  account: string;
  fee: bigint;
  mask: bigint;
  fields: Field[];
}

type MapCodec = Codec & { get(key: string): Codec | undefined; keys(): IterableIterator<string> };
type EnumCodec = Codec & { type: string; value: Codec; isNone?: boolean };

const HASHES: readonly HashAlgorithm[] = ['BlakeTwo256', 'Sha256', 'Keccak256', 'ShaThree256'];

/** Unwraps an Option and a `(Registration, extra)` tuple down to the Registration struct. */
export function registrationOf(value: Codec): MapCodec | undefined {
  let current: Codec = value;
  const option = current as Codec & { isSome?: boolean; unwrap?: () => Codec };
  if (typeof option.isSome === 'boolean') {
    if (!option.isSome || !option.unwrap) return undefined;
    current = option.unwrap();
  }
  if (Array.isArray(current)) current = current[0] as Codec;
  const struct = current as MapCodec;
  if (typeof struct.get !== 'function' || !struct.get('info')) {
    throw new Error(`unexpected IdentityOf value type ${current.toRawType()}`);
  }
  return struct;
}

function layoutOfInfo(info: MapCodec): Layout {
  const keys = [...info.keys()];
  return keys.includes('riot') || keys.includes('additional') ? 'legacy' : 'people';
}

/** The IdentityInfo layout the connected runtime declares, read from an empty IdentityOf value. */
export function identityLayout(api: ApiPromise): Layout {
  const { registry } = api;
  const valueType = api.query.identity.identityOf.creator.meta.type.asMap.value;
  const empty = registry.createType(registry.lookup.getTypeDef(valueType).type);
  const registration = registrationOf(empty);
  if (!registration) throw new Error('cannot read the IdentityInfo layout from the metadata');
  return layoutOfInfo(registration.get('info') as MapCodec);
}

/** Decodes a Registration struct into the registrar's view, with the snapshot of its info. */
export function decodeRegistration(registration: MapCodec): ChainIdentity {
  const info = registration.get('info') as MapCodec;
  const keys = [...info.keys()];
  const layout = layoutOfInfo(info);
  const values: IdentityInfo['values'] = {};
  const unverifiable: string[] = [];
  for (const key of keys) {
    if (key === 'additional') {
      for (const [name] of info.get(key) as unknown as Iterable<Codec[]>) {
        const label = name ? decodeValue(name) : undefined;
        unverifiable.push(
          `the additional field "${label?.kind === 'raw' ? (label.text ?? label.hex) : '?'}"`,
        );
      }
      continue;
    }
    const name = key === 'riot' ? 'matrix' : key;
    const field = (FIELDS as readonly string[]).includes(name) ? (name as Field) : undefined;
    const value = decodeValue(info.get(key) as Codec);
    if (!value) continue;
    // A field a newer runtime added that this code does not know is never silently attested.
    if (field) values[field] = value;
    else unverifiable.push(`the field "${key}"`);
  }
  const bytes = info.toU8a();
  const judgements = slotsOf(registration.get('judgements') as unknown as Iterable<Codec[]>);
  return {
    info: unverifiable.length > 0 ? { layout, values, unverifiable } : { layout, values },
    snapshot: { infoHex: u8aToHex(bytes), hash: blake2AsHex(bytes, 256) },
    judgements,
  };
}

/** A `Data` value, or the `Option<[u8; 20]>` PGP fingerprint. */
function decodeValue(codec: Codec): FieldValue | undefined {
  const option = codec as Codec & { isSome?: boolean; unwrap?: () => Codec };
  if (typeof option.isSome === 'boolean') {
    if (!option.isSome || !option.unwrap) return undefined;
    const hex = option.unwrap().toHex();
    return { kind: 'raw', hex, text: hex };
  }
  const data = codec as EnumCodec;
  if (data.type === 'None') return undefined;
  if (data.type === 'Raw') {
    const bytes = data.value.toU8a(true);
    return { kind: 'raw', hex: u8aToHex(bytes), text: textOf(bytes) };
  }
  if ((HASHES as readonly string[]).includes(data.type)) {
    return { kind: 'hash', algorithm: data.type as HashAlgorithm, hex: data.value.toHex() };
  }
  throw new Error(`unknown Data variant ${data.type}`);
}

export async function readIdentity(api: ApiPromise, account: string): Promise<ChainIdentity | undefined> {
  const registration = registrationOf(await api.query.identity.identityOf(account));
  return registration ? decodeRegistration(registration) : undefined;
}

export async function readRegistrar(api: ApiPromise, index: number): Promise<RegistrarEntry | undefined> {
  const registrars = (await api.query.identity.registrars()) as unknown as Codec[];
  const entry = registrars[index] as (Codec & { isSome: boolean; unwrap(): MapCodec }) | undefined;
  if (!entry?.isSome) return undefined;
  const struct = entry.unwrap();
  const mask = BigInt((struct.get('fields') as Codec).toString());
  return {
    account: (struct.get('account') as Codec).toString(),
    fee: BigInt((struct.get('fee') as Codec).toString()),
    mask,
    // Mask bits follow the runtime's own field order.
    fields: fieldsOfMask(mask, identityLayout(api)),
  };
}

/** An account named as a sub-identity (`SuperOf`): its parent and the name the parent gave it. */
export interface SubIdentity {
  account: string;
  parent: string;
  /** The name as text; undefined when it is not a readable `Raw` name. */
  name?: string;
}

/** The name of a `Data` value when it is a readable `Raw` text. */
function nameOf(data: Codec | undefined): string | undefined {
  const value = data as EnumCodec | undefined;
  return value?.type === 'Raw' ? textOf(value.value.toU8a(true)) : undefined;
}

/** What `SuperOf` holds for `account`, or undefined when the account is no one's sub. */
export async function readSubOf(api: ApiPromise, account: string): Promise<SubIdentity | undefined> {
  const superOf = (await api.query.identity.superOf(account)) as unknown as Codec & {
    isSome: boolean;
    unwrap(): Codec[];
  };
  if (!superOf.isSome) return undefined;
  const [parent, name] = superOf.unwrap();
  if (!parent) return undefined;
  const text = nameOf(name);
  return { account, parent: parent.toString(), ...(text === undefined ? {} : { name: text }) };
}

/** The parent of a sub-identity (`SuperOf`), or undefined when the account is no one's sub. */
export async function readParent(api: ApiPromise, account: string): Promise<string | undefined> {
  return (await readSubOf(api, account))?.parent;
}

/** The sub-identities `parent` names (`SubsOf`, then their names from `SuperOf`), at most 100 on People. */
export async function readSubs(api: ApiPromise, parent: string): Promise<SubIdentity[]> {
  const subsOf = (await api.query.identity.subsOf(parent)) as unknown as [Codec, Iterable<Codec>];
  const accounts = [...subsOf[1]].map((sub) => sub.toString());
  if (accounts.length === 0) return [];
  const named = (await api.query.identity.superOf.multi(accounts)) as unknown as (Codec & {
    isSome: boolean;
    unwrap(): Codec[];
  })[];
  return accounts.map((account, i) => {
    const entry = named[i];
    const text = entry?.isSome ? nameOf(entry.unwrap()[1]) : undefined;
    return { account, parent, ...(text === undefined ? {} : { name: text }) };
  });
}

type Reader = Pick<ApiPromise, 'query'> | ApiDecoration<'promise'>;

/** Whether the judgement slot of registrar `index` is FeePaid: a request pending for it. */
export function pendingFor(judgements: readonly JudgementSlot[], index: number): boolean {
  return judgements.some((j) => j.registrarIndex === index && j.judgement === 'FeePaid');
}

/** The judgement slots of a `Vec<(RegistrarIndex, Judgement)>` codec. */
export function slotsOf(judgements: Iterable<Codec[]>): JudgementSlot[] {
  return [...judgements].map(([index, judgement]) => {
    const j = judgement as EnumCodec;
    const slot: JudgementSlot = { registrarIndex: Number(index?.toString()), judgement: j.type };
    if (j.type === 'FeePaid') slot.fee = BigInt(j.value.toString());
    return slot;
  });
}

/** Entries read per storage call: what bounds a full scan's memory, whatever the size of the chain. */
export const SCAN_PAGE = 1_000;

/** The identities of `accounts` (those that have one), a page of accounts per storage query. */
export async function readIdentities(
  at: Reader,
  accounts: readonly string[],
): Promise<Map<string, ChainIdentity>> {
  const found = new Map<string, ChainIdentity>();
  for (let start = 0; start < accounts.length; start += SCAN_PAGE) {
    const page = accounts.slice(start, start + SCAN_PAGE);
    const values = (await at.query.identity.identityOf.multi(page)) as unknown as Codec[];
    values.forEach((value, i) => {
      const registration = registrationOf(value);
      const account = page[i];
      if (registration && account !== undefined) found.set(account, decodeRegistration(registration));
    });
  }
  return found;
}

/**
 * Proxy types that may call `identity.provide_judgement` on the People runtimes, most narrow first:
 * a key with several is used through the narrowest.
 */
export const JUDGING_PROXY_TYPES = ['IdentityJudgement', 'Identity', 'NonTransfer', 'Any'] as const;

/**
 * The proxy types `delegate` has for `registrar`, without delay: `usable` is the narrowest that
 * can give judgements, if any; `others` every other type it holds (to name in an error).
 */
export async function judgementProxyOf(
  api: ApiPromise,
  registrar: string,
  delegate: string,
): Promise<{ usable: string | undefined; others: string[] }> {
  const [proxies] = (await api.query.proxy.proxies(registrar)) as unknown as [Iterable<MapCodec>, Codec];
  const wanted = api.createType('AccountId', delegate).toString();
  const held: string[] = [];
  for (const proxy of proxies) {
    if ((proxy.get('delegate') as Codec).toString() !== wanted) continue;
    const type = (proxy.get('proxyType') as EnumCodec).type;
    const delay = Number((proxy.get('delay') as Codec).toString());
    held.push(delay === 0 ? type : `${type} (with a delay of ${delay} blocks)`);
  }
  const usable = JUDGING_PROXY_TYPES.find((type) => held.includes(type));
  return { usable, others: held.filter((type) => type !== usable) };
}

/** Whether the judgement slot of `index` in `account`'s identity is FeePaid right now (best block). */
export async function isPending(api: ApiPromise, account: string, index: number): Promise<boolean> {
  const identity = await readIdentity(api, account);
  return identity ? pendingFor(identity.judgements, index) : false;
}
