/**
 * The automatic display-name check. A display name is what wallets show; it must be readable and
 * must not be able to disguise itself as another name.
 */
import { BIDI, CONTROL, INVISIBLE } from './text.js';

export const MAX_DISPLAY_NAME_LENGTH = 32;

export type DisplayNameVerdict = { ok: true } | { ok: false; reason: string; hint: string };

/** Each rule: what makes a name fail, why, and what the person should do. First match wins. */
const RULES: readonly { fails: (name: string) => boolean; reason: string; hint: string }[] = [
  {
    fails: (name) => name.trim().length === 0,
    reason: 'the display name is empty',
    hint: 'Set a display name with visible characters.',
  },
  {
    fails: (name) => CONTROL.test(name),
    reason: 'the display name contains control characters',
    hint: 'Remove line breaks, tabs and other control characters.',
  },
  {
    fails: (name) => BIDI.test(name),
    reason: 'the display name contains text-direction override characters',
    hint: 'Remove the invisible right-to-left/left-to-right marks and overrides.',
  },
  {
    fails: (name) => INVISIBLE.test(name),
    reason: 'the display name contains zero-width or invisible characters',
    hint: 'Remove the invisible characters (zero-width spaces, joiners, soft hyphens).',
  },
  {
    fails: (name) => name !== name.trim(),
    reason: 'the display name starts or ends with spaces',
    hint: 'Remove the leading and trailing spaces.',
  },
  {
    fails: (name) => [...name].length > MAX_DISPLAY_NAME_LENGTH,
    reason: `the display name is longer than ${MAX_DISPLAY_NAME_LENGTH} characters`,
    hint: `Shorten the display name to at most ${MAX_DISPLAY_NAME_LENGTH} characters.`,
  },
];

/** `undefined` stands for raw bytes that are not valid UTF-8. */
export function checkDisplayName(name: string | undefined): DisplayNameVerdict {
  if (name === undefined) {
    return {
      ok: false,
      reason: 'the display name is not valid UTF-8 text',
      hint: 'Set a display name in plain text.',
    };
  }
  const broken = RULES.find((rule) => rule.fails(name));
  return broken ? { ok: false, reason: broken.reason, hint: broken.hint } : { ok: true };
}
