import { describe, expect, it } from '@jest/globals';
import { runDaemonToExit, startDaemon } from '../support/daemon.js';

/** Complete but for what each test breaks; no chain needs to answer, start-up stops before that. */
const base = {
  REGISTRAR_CHAIN_ENDPOINTS: 'ws://127.0.0.1:9',
  REGISTRAR_INDEX: '0',
  REGISTRAR_ACCOUNT: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  REGISTRAR_PROXY_SEED: '//SecretProxySeed',
  REGISTRAR_PUBLIC_URL: 'https://registrar.example',
  REGISTRAR_JWT_SECRET: 'a-secret-that-is-long-enough-1234567890',
};

describe('starting the daemon with a broken configuration', () => {
  it('names the wrong variable and exits non-zero', async () => {
    const result = await runDaemonToExit({ ...base, REGISTRAR_INDEX: '-1' });
    expect(result.code).toBe(2);
    expect(result.output).toContain('REGISTRAR_INDEX: expected a whole number from 0 to 4294967295');
    expect(result.output).not.toContain('SecretProxySeed');
  });

  it('says which variables are missing when nothing is set', async () => {
    const result = await runDaemonToExit({});
    expect(result.code).toBe(2);
    for (const name of [
      'REGISTRAR_CHAIN_ENDPOINTS',
      'REGISTRAR_INDEX',
      'REGISTRAR_ACCOUNT',
      'REGISTRAR_PROXY_SEED',
    ]) {
      expect(result.output).toMatch(new RegExp(`${name}: is required`));
    }
  });

  it('says a proxy seed is not a key, without printing the seed', async () => {
    const result = await runDaemonToExit({
      ...base,
      REGISTRAR_PROXY_SEED: 'seven words that are not a mnemonic phrase',
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('REGISTRAR_PROXY_SEED: not a valid mnemonic or secret URI');
    expect(result.output).not.toContain('mnemonic phrase');
  });
});

describe('stopping the daemon while it waits for the chain', () => {
  it('exits at once and cleanly on SIGTERM', async () => {
    const daemon = await startDaemon(base, 20_000, 'chain endpoint did not answer');
    const asked = Date.now();
    expect(await daemon.stop()).toBe(0);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(daemon.output()).toContain('"signal":"SIGTERM","msg":"stopping"');
  });
});
