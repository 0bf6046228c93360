/**
 * Identity fields and the registrar's field bitflags (pallet-identity). The People layout is the
 * current one; the legacy relay layout puts `riot` (Matrix) where People has `matrix`, and has no
 * GitHub or Discord. Bits follow each layout's own SCALE order.
 */
export const FIELDS = [
  'display',
  'legal',
  'web',
  'matrix',
  'email',
  'pgpFingerprint',
  'image',
  'twitter',
  'github',
  'discord',
] as const;

export type Field = (typeof FIELDS)[number];

export type Layout = 'people' | 'legacy';

const BITS: Record<Layout, readonly Field[]> = {
  people: FIELDS,
  // Legacy order: display, legal, web, riot, email, pgp_fingerprint, image, twitter.
  legacy: ['display', 'legal', 'web', 'matrix', 'email', 'pgpFingerprint', 'image', 'twitter'],
};

/** The fields a registrar's bitflag mask names, in layout order. Unknown high bits are ignored. */
export function fieldsOfMask(mask: bigint | number, layout: Layout = 'people'): Field[] {
  const bits = BigInt(mask);
  return BITS[layout].filter((_, bit) => (bits >> BigInt(bit)) & 1n);
}

/** The bitflag mask for a set of fields. */
export function maskOfFields(fields: Iterable<Field>, layout: Layout = 'people'): bigint {
  let mask = 0n;
  for (const field of fields) {
    const bit = BITS[layout].indexOf(field);
    if (bit < 0) throw new Error(`field ${field} has no bit in the ${layout} layout`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}
