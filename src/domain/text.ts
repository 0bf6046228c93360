/** Characters that make text read differently from what it holds, refused in every field. */

// Line and paragraph separators break a line just as control characters do.
export const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;
export const BIDI = /\p{Bidi_Control}/u;
// Format characters (zero-width space and joiners, soft hyphen, BOM, ...), Hangul fillers, and the
// combining marks that render as nothing.
export const INVISIBLE = /[\p{Cf}\u115f\u1160\u3164\uffa0]|\u034f|\u17b4|\u17b5/u;

/** Whether `text` holds control, text-direction or invisible characters. */
export function hasHiddenCharacters(text: string): boolean {
  return CONTROL.test(text) || BIDI.test(text) || INVISIBLE.test(text);
}
