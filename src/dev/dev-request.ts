/**
 * `registrar dev request`: a dev account (//Alice unless --seed) sets an identity on the dev chain
 * and asks the dev registrar that `npm run dev` started to judge it. Light on purpose: the chain
 * library loads only when a request is sent, so `--help` and wrong usage answer at once.
 */
import { join } from 'node:path';
import { DevRefused } from './dev-lock.js';

/** What `npm run dev` tells the `dev request` command. */
export interface DevState {
  endpoint: string;
  index: number;
  fee: string;
  url: string;
  mailUrl: string;
}

export const devDir = (env: NodeJS.ProcessEnv) => env.REGISTRAR_DEV_DIR ?? join('data', 'dev');

/** The identity fields `dev request` sets, by option name (`--x` is the `twitter` field). */
export const DEV_REQUEST_FIELDS = {
  display: 'display',
  legal: 'legal',
  email: 'email',
  matrix: 'matrix',
  github: 'github',
  discord: 'discord',
  x: 'twitter',
  web: 'web',
  image: 'image',
  pgp: 'pgpFingerprint',
} as const;

export type DevRequestOptions = { [option in keyof typeof DEV_REQUEST_FIELDS]?: string } & { seed?: string };

/** The on-chain identity for the options given: each text field at most 32 bytes (`Data::Raw`). */
export function devIdentity(options: DevRequestOptions): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  for (const [option, field] of Object.entries(DEV_REQUEST_FIELDS)) {
    const value = options[option as keyof typeof DEV_REQUEST_FIELDS];
    if (value === undefined) continue;
    if (field === 'pgpFingerprint') {
      const hex = value.replace(/^0x/i, '').replace(/\s+/g, '');
      if (!/^[0-9a-f]{40}$/i.test(hex)) {
        throw new DevRefused("--pgp: give the key's 40 hexadecimal digit fingerprint (gpg --fingerprint)");
      }
      info[field] = `0x${hex.toLowerCase()}`;
    } else {
      if (Buffer.byteLength(value) > 32) throw new DevRefused(`--${option}: at most 32 bytes on chain`);
      info[field] = { Raw: value };
    }
  }
  if (Object.keys(info).length === 0)
    throw new DevRefused('give at least one field, such as --display or --email');
  return info;
}

/** `registrar dev request`: a dev account sets an identity and asks the dev registrar to judge it. */
export async function devRequest(
  options: DevRequestOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ account: string; statusUrl: string }> {
  const info = devIdentity(options);
  const { readFileSync } = await import('node:fs');
  const { ApiPromise, Keyring, WsProvider } = await import('@polkadot/api');
  const { cryptoWaitReady } = await import('@polkadot/util-crypto');
  let state: DevState;
  try {
    state = JSON.parse(readFileSync(join(devDir(env), 'dev.json'), 'utf8')) as DevState;
  } catch {
    throw new Error('no dev registrar is running here: start it with `npm run dev` first');
  }
  await cryptoWaitReady();
  const provider = new WsProvider(state.endpoint, 1_000);
  let timer: NodeJS.Timeout | undefined;
  const unreachable = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void provider.disconnect();
      reject(new Error(`cannot reach the dev chain at ${state.endpoint}: is \`npm run dev\` still running?`));
    }, 20_000);
  });
  const api = await Promise.race([ApiPromise.create({ provider, noInitWarn: true }), unreachable]);
  clearTimeout(timer);
  try {
    const who = new Keyring({ type: 'sr25519' }).addFromUri(options.seed ?? '//Alice');
    const submit = (tx: ReturnType<typeof api.tx.identity.setIdentity>) =>
      new Promise<void>((resolve, reject) => {
        tx.signAndSend(who, (result) => {
          if (result.dispatchError)
            reject(
              new Error(
                `${tx.method.section}.${tx.method.method} failed: ${result.dispatchError.toString()}`,
              ),
            );
          else if (result.status.isFinalized) resolve();
        }).catch(reject);
      });
    await submit(api.tx.identity.setIdentity(info as never));
    await submit(api.tx.identity.requestJudgement(state.index, BigInt(state.fee)) as never);
    const account = api.createType('AccountId', who.address).toString();
    return { account, statusUrl: `${state.url}/status/${account}` };
  } finally {
    await api.disconnect();
  }
}

export const DEV_USAGE = `usage: registrar dev                     (npm run dev)
  Starts, on this machine only: an embedded People chain, a dev registrar whose mask covers every
  field, the registrar daemon (admin API on), a mail catcher page that also shows the Matrix and
  Discord bots' messages, and dev-only stand-ins of a Matrix homeserver, Discord, GitHub and X sign-in
  (a form asks for the user name; no password) and a DNS server with a page to publish TXT records.
  Ports: REGISTRAR_HTTP_PORT (8080), REGISTRAR_ADMIN_PORT (8081), REGISTRAR_DEV_MAIL_PORT (1080),
  REGISTRAR_DEV_CHAIN_PORT (9944); data in REGISTRAR_DEV_DIR (data/dev), emptied at each start.

usage: registrar dev request [FIELD OPTIONS] [--seed //Alice]   (npm run registrar -- dev request ...)
  Sets an identity on the dev chain for the account of --seed and requests a judgement of the dev
  registrar (fee included). At least one field:
    --display NAME          display name            --legal NAME     legal name (the operator reviews it)
    --email ADDRESS         email                   --matrix @USER:localhost   Matrix
    --github USER           GitHub                  --discord USER   Discord
    --x USER                X                       --web DOMAIN     website (publish a TXT record in dev DNS)
    --pgp FINGERPRINT       PGP key (40 hex digits) --image TEXT     image (the operator reviews it)
  Each text is at most 32 bytes. Prints the status page's address.
`;
