import { describe, expect, it } from '@jest/globals';
import { checkDisplayName } from '../../src/domain/display-name.js';

describe('display-name check', () => {
  it.each(['Alice', 'Gavin Wood', 'Ünïcödé Ñame', '山田太郎', 'a'.repeat(32)])('accepts %p', (name) => {
    expect(checkDisplayName(name)).toEqual({ ok: true });
  });

  it.each([
    [undefined, 'not valid UTF-8'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['Line\nbreak', 'control characters'],
    ['Tab\there', 'control characters'],
    ['abc\u202Efed', 'text-direction override'],
    ['abc\u2066x\u2069', 'text-direction override'],
    ['Al\u200Bice', 'zero-width or invisible'],
    ['Al\u00ADice', 'zero-width or invisible'],
    ['\uFEFFAlice', 'zero-width or invisible'],
    [' Alice', 'starts or ends with spaces'],
    ['a'.repeat(33), 'longer than 32'],
  ])('refuses %p (%s) and says how to fix it', (name, reason) => {
    const verdict = checkDisplayName(name);
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.reason).toContain(reason);
    expect(verdict.hint.length).toBeGreaterThan(10);
  });
});
