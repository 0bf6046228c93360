/**
 * Whether the chain agrees with the configuration: the registrar index exists, belongs to the
 * configured account, and the daemon's key is its IdentityJudgement proxy. Used at start-up (which
 * refuses to go on) and by `registrar config check` (which reports), with the same words.
 */
import type { ApiPromise } from '@polkadot/api';
import { judgementProxyOf, type RegistrarEntry, readRegistrar } from './identity.js';

export interface RegistrarCheck {
  entry: RegistrarEntry | undefined;
  proxyAccount: string;
  /** The proxy type judgements go through (the narrowest the key has that permits them). */
  proxyType?: string;
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
      ],
    };
  }
  return { entry, proxyAccount, proxyType: proxy.usable, problems: [] };
}
