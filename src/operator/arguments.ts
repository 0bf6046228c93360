/**
 * The operator commands' arguments, checked before anything is sent: a mistyped account, judgement,
 * field or hash is wrong usage (exit code 2) with a message that says what was expected, not a
 * daemon's 400 or a judgement given to the wrong account.
 */
import { decodeAddress } from '@polkadot/util-crypto';
import {
  isOperatorName,
  OPERATOR_JUDGEMENTS,
  OPERATOR_NAME_RULE,
  type OperatorJudgement,
} from '../domain/operator.js';

/** Wrong usage: the command ends with exit code 2 and this message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** SS58 addresses are base58; a hex public key or anything else is not what the commands take. */
const SS58 = /^[1-9A-HJ-NP-Za-km-z]{40,60}$/;

/** An SS58 account address; `what` names the argument in the message. */
export function accountArgument(value: string | undefined, what = 'ACCOUNT'): string {
  if (value === undefined) throw new UsageError(`give the ${what} (an SS58 account address)`);
  let valid = SS58.test(value);
  if (valid) {
    try {
      decodeAddress(value);
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    throw new UsageError(
      `${what} "${value}" is not an SS58 account address (like 15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5)`,
    );
  }
  return value;
}

/** A judgement the operator may give by hand, in any case ("erroneous" is Erroneous). */
export function judgementArgument(value: string | undefined): OperatorJudgement {
  const found = OPERATOR_JUDGEMENTS.find((j) => j.toLowerCase() === value?.toLowerCase());
  if (!found) {
    throw new UsageError(
      `${value === undefined ? 'give the JUDGEMENT' : `"${value}" is no judgement given by hand`}: expected one of ${OPERATOR_JUDGEMENTS.join(', ')} (Reasonable follows proofs only)`,
    );
  }
  return found;
}

/** Fields the operator reviews: legal name and image, and display to allow a flagged name. */
const REVIEWED = ['legal', 'image', 'display'] as const;

export function reviewFieldArgument(value: string | undefined): (typeof REVIEWED)[number] {
  const found = REVIEWED.find((f) => f === value);
  if (!found) {
    throw new UsageError(
      `${value === undefined ? 'give the FIELD' : `"${value}" is no field the operator reviews`}: expected legal, image or display`,
    );
  }
  return found;
}

/** The identity hash a review is pinned to: 0x and 64 hex digits, as `registrar status` prints it. */
export function identityHashArgument(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new UsageError(
      `--identity "${value}" is not an identity hash: expected 0x and 64 hex digits, as \`registrar status ACCOUNT\` prints it`,
    );
  }
  return value;
}

/** Who acts, for the audit log (--by, or the login name). */
export function operatorNameArgument(value: string): string {
  if (!isOperatorName(value)) {
    throw new UsageError(`--by "${value}" is not a name for the audit log: expected ${OPERATOR_NAME_RULE}`);
  }
  return value;
}

/** No more positional arguments than the command takes. */
export function noMoreThan(positionals: readonly string[], count: number): void {
  if (positionals.length > count) {
    throw new UsageError(`unexpected argument "${positionals[count]}"`);
  }
}
