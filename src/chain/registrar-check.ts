/**
 * Whether the chain agrees with the configuration: the registrar index exists, belongs to the
 * configured account, and the daemon's key is its IdentityJudgement proxy. Used at start-up (which
 * refuses to go on) and by `registrar config check` (which reports), with the same words.
 */
import type { ApiPromise } from '@polkadot/api';
import { isJudgementProxy, type RegistrarEntry, readRegistrar } from './identity.js';

export interface RegistrarCheck {
  entry: RegistrarEntry | undefined;
  proxyAccount: string;
  /** Each problem names its setting first: `SETTING: what is wrong`. */
  problems: string[];
}

export async function checkRegistrar(
  api: ApiPromise,
  index: number,
  account: string,
  proxyAddress: string,
): Promise<RegistrarCheck> {
  const proxyAccount = api.createType('AccountId', proxyAddress).toString();
  const entry = await readRegistrar(api, index);
  if (!entry) {
    return {
      entry,
      proxyAccount,
      problems: [`REGISTRAR_INDEX: registrar #${index} does not exist on this chain`],
    };
  }
  if (entry.account !== api.createType('AccountId', account).toString()) {
    return {
      entry,
      proxyAccount,
      problems: [`REGISTRAR_ACCOUNT: registrar #${index} belongs to ${entry.account}, not to this account`],
    };
  }
  if (!(await isJudgementProxy(api, entry.account, proxyAccount))) {
    return {
      entry,
      proxyAccount,
      problems: [
        `REGISTRAR_PROXY_SEED: its account ${proxyAccount} is not an IdentityJudgement proxy (without delay) of ${entry.account}; the registrar adds it with proxy.addProxy(${proxyAccount}, IdentityJudgement, 0)`,
      ],
    };
  }
  return { entry, proxyAccount, problems: [] };
}
