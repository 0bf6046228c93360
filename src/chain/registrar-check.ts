/**
 * Whether the chain agrees with the configuration: the registrar index exists, belongs to the
 * configured account, the daemon's key is its IdentityJudgement proxy, and its mask holds an
 * account field unless the operator allowed judging display names alone. Used at start-up (which
 * refuses to go on) and by `registrar config check` (which reports), with the same words.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Field } from '../domain/fields.js';
import { ACCOUNT_FIELDS, type Policy } from '../domain/verification.js';
import { judgementProxyOf, type RegistrarEntry, readRegistrar } from './identity.js';

export interface RegistrarCheck {
  entry: RegistrarEntry | undefined;
  proxyAccount: string;
  /** The proxy type judgements go through (the narrowest the key has that permits them). */
  proxyType?: string;
  /** Each problem names its setting first: `SETTING: what is wrong`. */
  problems: string[];
  /** What the operator allowed but should know, named the same way: `SETTING: what it means`. */
  warnings: string[];
}

/** What the configuration says beyond the registrar's identity. */
export interface RegistrarCheckOptions {
  policy: Pick<Policy, 'kind'>;
  /** REGISTRAR_ALLOW_DISPLAY_ONLY: a mask without any account field is accepted. */
  allowDisplayOnly: boolean;
}

/**
 * Whether every judgement rests on the display-name check alone: under the `mask` policy, a mask
 * without any account field (display only, or with the legal name or image) proves nothing else.
 */
export function judgesDisplayOnly(fields: readonly Field[], policy: Pick<Policy, 'kind'>): boolean {
  return policy.kind === 'mask' && !fields.some((field) => ACCOUNT_FIELDS.includes(field));
}

function displayOnlyWords(index: number, fields: readonly Field[]): string {
  return `the on-chain mask of registrar #${index} (${fields.length > 0 ? fields.join(', ') : 'no fields'}) holds no account field (${ACCOUNT_FIELDS.join(', ')})`;
}

export async function checkRegistrar(
  api: ApiPromise,
  index: number,
  account: string,
  proxyAddress: string,
  options: RegistrarCheckOptions,
): Promise<RegistrarCheck> {
  const proxyAccount = api.createType('AccountId', proxyAddress).toString();
  const entry = await readRegistrar(api, index);
  if (!entry) {
    return {
      entry,
      proxyAccount,
      problems: [`REGISTRAR_INDEX: registrar #${index} does not exist on this chain`],
      warnings: [],
    };
  }
  if (entry.account !== api.createType('AccountId', account).toString()) {
    return {
      entry,
      proxyAccount,
      problems: [`REGISTRAR_ACCOUNT: registrar #${index} belongs to ${entry.account}, not to this account`],
      warnings: [],
    };
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  if (judgesDisplayOnly(entry.fields, options.policy)) {
    if (options.allowDisplayOnly) {
      warnings.push(
        `REGISTRAR_ALLOW_DISPLAY_ONLY: ${displayOnlyWords(index, entry.fields)}; this registrar judges display names alone: a judgement says only that the display name is not a look-alike of a name it already judged, not that any account, address or name belongs to the person`,
      );
    } else {
      problems.push(
        `REGISTRAR_ALLOW_DISPLAY_ONLY: ${displayOnlyWords(index, entry.fields)}, so every judgement would rest on the display-name check alone; add account fields with identity.setFields(${index}, MASK) (\`registrar mask FIELD...\` gives the MASK), or set REGISTRAR_ALLOW_DISPLAY_ONLY=true to judge on display names alone`,
      );
    }
  }
  const proxy = await judgementProxyOf(api, entry.account, proxyAccount);
  if (!proxy.usable) {
    const has =
      proxy.others.length > 0
        ? `is a proxy of ${entry.account} only as ${proxy.others.join(', ')}, which cannot give judgements`
        : `is not a proxy of ${entry.account}`;
    return {
      entry,
      proxyAccount,
      problems: [
        `REGISTRAR_PROXY_SEED: its account ${proxyAccount} ${has}; the registrar adds it with proxy.addProxy(${proxyAccount}, IdentityJudgement, 0)`,
        ...problems,
      ],
      warnings,
    };
  }
  return { entry, proxyAccount, proxyType: proxy.usable, problems, warnings };
}
