/** The pure rules of proving before paying: who may prepare, masked targets. */
import { describe, expect, it } from '@jest/globals';
import { maskedTarget, notPreparable } from '../../src/domain/prepared.js';

describe('prepared requests', () => {
  it('may be started only for an identity with no pending request to us and no judgement of ours', () => {
    expect(notPreparable([], 1)).toBeUndefined();
    expect(notPreparable([{ registrarIndex: 2, judgement: 'Reasonable' }], 1)).toBeUndefined();
    expect(notPreparable([{ registrarIndex: 1, judgement: 'FeePaid' }], 1)).toBe('pending');
    expect(notPreparable([{ registrarIndex: 1, judgement: 'Reasonable' }], 1)).toBe('judged');
    expect(notPreparable([{ registrarIndex: 1, judgement: 'Erroneous' }], 1)).toBe('judged');
  });

  it('shows where messages went with all but a first letter hidden', () => {
    expect(maskedTarget('email', 'alice.smith@example.org')).toBe('a***@e***.org');
    expect(maskedTarget('matrix', '@alice:matrix.org')).toBe('@a***:m***.org');
    expect(maskedTarget('matrix', '@alice:localhost')).toBe('@a***:l***');
    expect(maskedTarget('discord', 'alice_01')).toBe('a***');
    // The length is not given away either.
    expect(maskedTarget('email', 'a@b.co')).toBe(maskedTarget('email', 'averylongname@bigcompany.co'));
  });
});
