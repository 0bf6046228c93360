/**
 * `registrar proxy-rotate NEW_ACCOUNT`: the call the cold registrar account signs to replace the
 * daemon's judgement proxy (remove the configured one, add the new one, in one batchAll), as call
 * data to paste into a signer. It reads the chain and signs nothing.
 */
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { ChainConnection } from '../chain/connection.js';
import type { Config } from '../config.js';
import { createLogger } from '../support/log.js';

export async function proxyRotationCall(config: Config, next: string): Promise<string> {
  await cryptoWaitReady();
  const connection = await ChainConnection.open(config.chain.endpoints, createLogger('silent'), {
    timeoutMs: 20_000,
  });
  try {
    const { api } = connection;
    const current = new Keyring({ type: 'sr25519' }).addFromUri(config.registrar.proxySeed.reveal()).address;
    const old = api.createType('AccountId', current).toString();
    const replacement = api.createType('AccountId', next).toString();
    const call = api.tx.utility.batchAll([
      api.tx.proxy.removeProxy(old, 'IdentityJudgement' as never, 0),
      api.tx.proxy.addProxy(replacement, 'IdentityJudgement' as never, 0),
    ]);
    return [
      `Sign this call with the registrar account ${config.registrar.account} (Developer → Extrinsics → Decode in polkadot.js apps):`,
      call.method.toHex(),
      `It removes ${old} and adds ${replacement} as IdentityJudgement proxy. Then restart the daemon with the new REGISTRAR_PROXY_SEED.`,
      '',
    ].join('\n');
  } finally {
    await connection.close();
  }
}
