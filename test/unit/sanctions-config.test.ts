import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';
import { checkSanctions } from '../../src/operator/config-check.js';

const valid = {
  REGISTRAR_CHAIN_ENDPOINTS: 'wss://people-a.example',
  REGISTRAR_INDEX: '3',
  REGISTRAR_ACCOUNT: '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5',
  REGISTRAR_PROXY_SEED: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk//Proxy',
  REGISTRAR_PUBLIC_URL: 'https://registrar.example/',
  REGISTRAR_JWT_SECRET: 'x'.repeat(40),
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('configuration was accepted');
}

describe('the sanctions settings', () => {
  it('default to no URL, a day between fetches and legal names only', () => {
    expect(loadConfig(valid).sanctions).toEqual({ url: undefined, refreshHours: 24, display: false });
    expect(
      loadConfig({
        ...valid,
        REGISTRAR_SANCTIONS_URL: 'https://lists.example/sdn.xml',
        REGISTRAR_SANCTIONS_REFRESH_HOURS: '6',
        REGISTRAR_SANCTIONS_DISPLAY: 'on',
      }).sanctions,
    ).toEqual({ url: 'https://lists.example/sdn.xml', refreshHours: 6, display: true });
  });

  it('name the setting that is wrong', () => {
    expect(problemsOf({ ...valid, REGISTRAR_SANCTIONS_URL: 'ftp://lists.example/sdn.xml' })).toEqual([
      'REGISTRAR_SANCTIONS_URL: expected the http(s):// URL of an OFAC SDN XML or EU consolidated list XML file',
    ]);
    expect(problemsOf({ ...valid, REGISTRAR_SANCTIONS_REFRESH_HOURS: '0' })[0]).toMatch(
      /^REGISTRAR_SANCTIONS_REFRESH_HOURS: /,
    );
    expect(problemsOf({ ...valid, REGISTRAR_SANCTIONS_DISPLAY: 'true' })).toEqual([
      'REGISTRAR_SANCTIONS_DISPLAY: expected on (display names are screened too) or off (legal names only)',
    ]);
  });
});

describe('config check of the sanctions list URL', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const eu = readFileSync(new URL('../fixtures/sanctions/eu.xml', import.meta.url), 'utf8');
    server = createServer((request, response) => {
      if (request.url?.startsWith('/eu.xml')) response.writeHead(200).end(eu);
      else if (request.url === '/page') response.writeHead(200).end('<html><body>Lists</body></html>');
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (url: string, review = 'legal') =>
    checkSanctions(loadConfig({ ...valid, REGISTRAR_SANCTIONS_URL: url, REGISTRAR_REVIEW_FIELDS: review }));

  it('says which list the URL answers with, without the query', async () => {
    expect(await check(`${base}/eu.xml?token=secret`)).toEqual([
      {
        setting: 'REGISTRAR_SANCTIONS_URL',
        ok: true,
        verdict: `${base}/eu.xml answers with the EU consolidated list`,
      },
    ]);
  });

  it('fails a URL that answers something else, an error, or nothing', async () => {
    expect(await check(`${base}/page`)).toEqual([
      {
        setting: 'REGISTRAR_SANCTIONS_URL',
        ok: false,
        verdict: `${base}/page answers, but not with the OFAC SDN XML or the EU consolidated list XML`,
      },
    ]);
    expect((await check(`${base}/gone`))[0]).toMatchObject({
      ok: false,
      verdict: `${base}/gone answered HTTP 404`,
    });
    expect((await check('http://127.0.0.1:9/sdn.xml'))[0]).toMatchObject({
      ok: false,
      verdict: expect.stringContaining('http://127.0.0.1:9/sdn.xml is unreachable'),
    });
  });

  it('fails a list with no name to screen: legal names not reviewed, display names off', async () => {
    expect((await check(`${base}/eu.xml`, 'image'))[1]).toMatchObject({
      setting: 'REGISTRAR_REVIEW_FIELDS',
      ok: false,
    });
  });
});
