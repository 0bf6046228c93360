/**
 * `registrar config check`: the configuration is read as the daemon reads it, then every service it
 * names is reached, each reported with a verdict and the setting to change. Nothing is written.
 */
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import nodemailer from 'nodemailer';
import { ChainConnection } from '../chain/connection.js';
import { checkRegistrar } from '../chain/registrar-check.js';
import { unprovable } from '../channels/configured.js';
import type { Config } from '../config.js';
import type { Field } from '../domain/fields.js';
import { detectSanctionsFormat } from '../domain/sanctions-file.js';
import { labelOf } from '../domain/verification.js';
import { MongoStore } from '../store/mongodb.js';
import { SqliteStore } from '../store/sqlite.js';
import { createLogger } from '../support/log.js';

export interface Check {
  setting: string;
  ok: boolean;
  verdict: string;
}

const TIMEOUT_MS = 10_000;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no answer within ${TIMEOUT_MS / 1000} s`)),
        TIMEOUT_MS,
      );
    }),
  ]);
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function checkConfig(config: Config): Promise<Check[]> {
  const checks: Check[] = [];
  await cryptoWaitReady();
  /** The on-chain mask, as the first endpoint that answered read it. */
  let mask: readonly Field[] | undefined;

  // Each endpoint on its own, so that one dead endpoint of several is named.
  for (const endpoint of config.chain.endpoints) {
    let connection: ChainConnection | undefined;
    try {
      connection = await ChainConnection.open([endpoint], createLogger('silent'), { timeoutMs: TIMEOUT_MS });
      const { api } = connection;
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      checks.push({
        setting: 'REGISTRAR_CHAIN_ENDPOINTS',
        ok: true,
        verdict: `${endpoint}: reachable, head #${head}`,
      });
      const proxy = new Keyring({ type: 'sr25519' }).addFromUri(config.registrar.proxySeed.reveal());
      const { entry, proxyAccount, proxyType, problems, warnings } = await checkRegistrar(
        api,
        config.registrar.index,
        config.registrar.account,
        proxy.address,
        { policy: config.policy, allowDisplayOnly: config.allowDisplayOnly },
      );
      // Problems fail; what the operator allowed is reported, in the same `SETTING: words`.
      const report = (line: string, ok: boolean) => {
        const [setting = 'REGISTRAR_INDEX', ...rest] = line.split(': ');
        checks.push({ setting, ok, verdict: rest.join(': ') });
      };
      mask ??= entry?.fields;
      for (const problem of problems) report(problem, false);
      for (const warning of warnings) report(warning, true);
      // The registrar and its proxy are as configured, whatever else is wrong.
      if (entry && proxyType) {
        checks.push({
          setting: 'REGISTRAR_ACCOUNT',
          ok: true,
          verdict: `registrar #${config.registrar.index} verifies ${entry.fields.join(', ')}`,
        });
        checks.push({
          setting: 'REGISTRAR_PROXY_SEED',
          ok: true,
          verdict: `${proxyAccount} is a judgement proxy`,
        });
      }
    } catch (error) {
      checks.push({
        setting: 'REGISTRAR_CHAIN_ENDPOINTS',
        ok: false,
        verdict: `${endpoint}: unreachable (${message(error)})`,
      });
    } finally {
      await connection?.close().catch(() => undefined);
    }
  }

  // A field of the mask that nothing here proves would keep every request that sets it open.
  const missing = mask ? unprovable(config, mask) : [];
  for (const { field, setting } of missing) {
    checks.push({
      setting,
      ok: false,
      verdict: `not set, but the on-chain mask of registrar #${config.registrar.index} holds the ${labelOf(field)}: every request that sets it would stay open`,
    });
  }

  try {
    const store =
      config.store.kind === 'sqlite'
        ? new SqliteStore(config.store.path)
        : await withTimeout(MongoStore.connect(config.store.uri.reveal()), 'MongoDB');
    await store.getCheckpoint('config-check');
    await store.close();
    checks.push({ setting: 'REGISTRAR_STORE', ok: true, verdict: `${config.store.kind} store opens` });
  } catch (error) {
    checks.push({
      setting: 'REGISTRAR_STORE',
      ok: false,
      verdict: `cannot open the store (${message(error).replace(/\/\/[^@\s]*@/g, '//[secret]@')})`,
    });
  }

  if (config.smtp) {
    const transport = nodemailer.createTransport(config.smtp.url.reveal());
    try {
      await withTimeout(transport.verify(), 'SMTP');
      checks.push({ setting: 'REGISTRAR_SMTP_URL', ok: true, verdict: 'the SMTP server accepts the login' });
    } catch (error) {
      const code = (error as { code?: string }).code;
      const verdict =
        code === 'EAUTH'
          ? 'the SMTP server refused the user name or password'
          : `the SMTP server cannot be used (${code ?? 'no answer'})`;
      checks.push({ setting: 'REGISTRAR_SMTP_URL', ok: false, verdict });
    } finally {
      transport.close();
    }
  } else if (!missing.some((m) => m.field === 'email')) {
    checks.push({
      setting: 'REGISTRAR_SMTP_URL',
      ok: true,
      verdict: 'not set: the email field cannot be verified',
    });
  }

  if (config.matrix) {
    const { homeserver, accessToken } = config.matrix;
    try {
      if (accessToken) {
        const response = await withTimeout(
          fetch(`${homeserver}/_matrix/client/v3/account/whoami`, {
            headers: { authorization: `Bearer ${accessToken.reveal()}` },
          }),
          'Matrix',
        );
        checks.push(
          response.ok
            ? {
                setting: 'REGISTRAR_MATRIX_ACCESS_TOKEN',
                ok: true,
                verdict: 'the homeserver accepts the bot token',
              }
            : {
                setting: 'REGISTRAR_MATRIX_ACCESS_TOKEN',
                ok: false,
                verdict: `the homeserver refused the bot token (HTTP ${response.status})`,
              },
        );
      } else {
        const response = await withTimeout(fetch(`${homeserver}/_matrix/client/versions`), 'Matrix');
        checks.push({
          setting: 'REGISTRAR_MATRIX_HOMESERVER',
          ok: response.ok,
          verdict: response.ok ? 'the homeserver answers' : `HTTP ${response.status}`,
        });
      }
    } catch (error) {
      checks.push({
        setting: 'REGISTRAR_MATRIX_HOMESERVER',
        ok: false,
        verdict: `unreachable (${message(error)})`,
      });
    }
  }
  checks.push(...(await checkSanctions(config)));
  return checks;
}

const LIST_NAMES = { ofac: 'the OFAC SDN list', eu: 'the EU consolidated list' } as const;

/**
 * The sanctions list's URL answers with a list of a format the registrar reads (its first bytes
 * looked at, not the whole file), and screening has names to screen: legal names are screened when
 * the operator reviews them. The URL is named without its query, which may hold a token.
 */
export async function checkSanctions(config: Config): Promise<Check[]> {
  const { url, display } = config.sanctions;
  if (!url) return [];
  const checks: Check[] = [];
  const parsed = new URL(url);
  const shown = `${parsed.origin}${parsed.pathname}`;
  try {
    const response = await withTimeout(fetch(url), 'the sanctions list');
    let head = '';
    if (response.ok && response.body) {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      while (head.length < 4096) {
        const { done, value } = await withTimeout(reader.read(), 'the sanctions list');
        if (done) break;
        head += decoder.decode(value, { stream: true });
      }
      await reader.cancel();
    }
    const format = detectSanctionsFormat(head);
    checks.push({
      setting: 'REGISTRAR_SANCTIONS_URL',
      ok: response.ok && format !== undefined,
      verdict: !response.ok
        ? `${shown} answered HTTP ${response.status}`
        : format
          ? `${shown} answers with ${LIST_NAMES[format]}`
          : `${shown} answers, but not with the OFAC SDN XML or the EU consolidated list XML`,
    });
  } catch (error) {
    checks.push({
      setting: 'REGISTRAR_SANCTIONS_URL',
      ok: false,
      verdict: `${shown} is unreachable (${message(error)})`,
    });
  }
  if (!config.reviewFields.includes('legal') && !display) {
    checks.push({
      setting: 'REGISTRAR_REVIEW_FIELDS',
      ok: false,
      verdict:
        'legal is not reviewed, so no legal name is screened against the sanctions list: add legal, or set REGISTRAR_SANCTIONS_DISPLAY=on',
    });
  }
  return checks;
}
