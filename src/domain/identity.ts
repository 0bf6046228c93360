/**
 * An identity as the registrar reads it, independent of the runtime's layout. The chain layer
 * decodes `IdentityOf` with the runtime's own types and hands over this shape.
 */
import type { Field, Layout } from './fields.js';

export type HashAlgorithm = 'BlakeTwo256' | 'Sha256' | 'Keccak256' | 'ShaThree256';

/** One `Data` value (or the PGP fingerprint, which is a fixed 20-byte value when set). */
export type FieldValue =
  | { kind: 'raw'; hex: string; text: string | undefined }
  | { kind: 'hash'; algorithm: HashAlgorithm; hex: string };

export interface IdentityInfo {
  layout: Layout;
  /** The fields that are set (not `Data::None`). */
  values: Partial<Record<Field, FieldValue>>;
  /** Set entries the registrar cannot verify by construction: `additional` pairs, unknown fields. */
  unverifiable?: string[];
}

// ignoreBOM keeps a leading byte order mark in the text (by default it is dropped silently), so the
// text checked is every byte on chain: an invisible mark must fail, not vanish.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes raw bytes as text when they are valid UTF-8; undefined otherwise. */
export function textOf(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The canonical form of a value, used to tell whether a field changed between two snapshots and
 * stored as the field's value. Text when it is text, otherwise the bytes in hex.
 */
export function canonicalValue(value: FieldValue): string {
  if (value.kind === 'hash') return `${value.algorithm}:${value.hex}`;
  return value.text ?? value.hex;
}
