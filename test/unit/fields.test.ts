import { describe, expect, it } from '@jest/globals';
import { fieldsOfMask, maskOfFields } from '../../src/domain/fields.js';

describe('field bitflags', () => {
  it('reads a People mask: 665 is display, matrix, email, twitter and discord', () => {
    expect(fieldsOfMask(665)).toEqual(['display', 'matrix', 'email', 'twitter', 'discord']);
    expect(maskOfFields(['display', 'matrix', 'email', 'twitter', 'discord'])).toBe(665n);
    expect(fieldsOfMask(256n)).toEqual(['github']);
  });

  it('reads a legacy relay mask, where bit 3 is riot (Matrix) and there is no GitHub or Discord', () => {
    expect(fieldsOfMask(0b1001_1001, 'legacy')).toEqual(['display', 'matrix', 'email', 'twitter']);
    // Bits past the layout's last field name nothing.
    expect(fieldsOfMask(0b11_0000_0000, 'legacy')).toEqual([]);
    expect(() => maskOfFields(['discord'], 'legacy')).toThrow(
      'field discord has no bit in the legacy layout',
    );
  });
});
