import { describe, expect, it } from '@jest/globals';
import { freePort } from '../../src/dev/waiting.js';
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

describe('the daemon while it waits for the chain', () => {
  /** A daemon on `port` that has tried the (unreachable) chain once. */
  const waiting = (port: number) =>
    startDaemon({ ...base, REGISTRAR_HTTP_PORT: String(port) }, 20_000, 'chain endpoint did not answer');

  it('answers on its web server that it is starting, and exits at once and cleanly on SIGTERM', async () => {
    const port = await freePort();
    const daemon = await waiting(port);
    const url = `http://127.0.0.1:${port}`;
    // Monitoring: alive (a liveness probe must not kill it) but starting, and not ready, with what
    // start-up is doing.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'starting', step: 'connecting to the chain' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      ready: false,
      checks: { startup: 'connecting to the chain' },
    });
    // A person's link: a page that says to come back, with the headers every page has.
    for (const method of ['GET', 'POST']) {
      const link = await fetch(`${url}/confirm/some.challenge.token`, { method });
      expect(link.status).toBe(503);
      expect(link.headers.get('retry-after')).toBe('5');
      expect(link.headers.get('referrer-policy')).toBe('no-referrer');
      expect(link.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await link.text()).toContain('The registrar is starting');
    }

    const asked = Date.now();
    expect(await daemon.stop()).toBe(0);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(daemon.output()).toContain('"signal":"SIGTERM","msg":"stopping"');
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('says so and exits when its web server cannot listen, before it tries the chain', async () => {
    const port = await freePort();
    const taken = await waiting(port);
    try {
      const result = await runDaemonToExit({ ...base, REGISTRAR_HTTP_PORT: String(port) });
      expect(result.code).toBe(2);
      expect(result.output).toContain(`the web server cannot listen on 127.0.0.1:${port}`);
      expect(result.output).not.toContain('chain endpoint');
    } finally {
      await taken.stop();
    }
  });
});
