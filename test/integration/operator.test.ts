/**
 * The operator's CLI against the compiled daemon on the real runtime: `pending`, `status` and
 * `rescan` through the admin API, and `config check` reporting a wrong SMTP password and an
 * unreachable endpoint by the setting's name, with exit code 1.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { DaemonHarness, FEE, freePort } from '../support/harness.js';

const ADMIN_TOKEN = 'operator-test-admin-token-0123456789abcdef';
let h: DaemonHarness;
let adminPort: number;

beforeAll(async () => {
  adminPort = await freePort();
  h = await DaemonHarness.start(1 | 16, {
    REGISTRAR_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRAR_ADMIN_PORT: String(adminPort),
  });
});

afterAll(async () => {
  await h?.close();
});

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli.js', ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('the registrar command', () => {
  it('lists pending requests, shows one, and rescans, through the admin API', async () => {
    const person = await h.newPerson({ display: 'Operator View', email: 'operator@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await h.mailbox.nextMail('operator@example.org');

    const pending = await cli(['pending'], h.env());
    expect(pending.code).toBe(0);
    expect(pending.stdout).toMatch(/^account\s+status\s+since\s+fields/);
    expect(pending.stdout).toContain(person.address);
    expect(pending.stdout).toContain('email:awaiting');

    const status = await cli(['status', person.address, '--json'], h.env());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'open',
      fields: { email: { status: 'awaiting' } },
    });
    const none = await cli(['status', h.chain.account('//NobodyAsked').address], h.env());
    expect(none.code).toBe(3);

    const rescan = await cli(['rescan'], h.env());
    expect(rescan.code).toBe(0);
    expect(rescan.stdout).toMatch(/Rescanned chain storage: 1 request\(s\) pending/);

    const wrongToken = await cli(['pending'], {
      ...h.env(),
      REGISTRAR_ADMIN_TOKEN: 'a-wrong-token-of-enough-length-0123456789',
    });
    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toContain('REGISTRAR_ADMIN_TOKEN: the daemon refused this token');
    // The admin API is not on the public server.
    expect((await fetch(`${h.url}/admin/requests`)).status).toBe(404);
  });

  it('config check passes a good configuration and names each failing setting', async () => {
    const good = await cli(['config', 'check'], h.env());
    expect(good.stdout).toContain('ok    REGISTRAR_CHAIN_ENDPOINTS');
    expect(good.stdout).toContain('ok    REGISTRAR_PROXY_SEED');
    expect(good.stdout).toContain('ok    REGISTRAR_SMTP_URL');
    expect(good.code).toBe(0);

    // An SMTP server that refuses the password, and a chain endpoint nobody listens on.
    const smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    const deadPort = await freePort();
    try {
      const bad = await cli(['config', 'check'], {
        ...h.env(),
        REGISTRAR_SMTP_URL: `smtp://registrar:wrong-password@127.0.0.1:${smtpPort}`,
        REGISTRAR_CHAIN_ENDPOINTS: `ws://127.0.0.1:${deadPort},ws://127.0.0.1:${h.relay.port}`,
      });
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(
        `FAIL  REGISTRAR_CHAIN_ENDPOINTS: ws://127.0.0.1:${deadPort}: unreachable`,
      );
      expect(bad.stdout).toContain(
        `ok    REGISTRAR_CHAIN_ENDPOINTS: ws://127.0.0.1:${h.relay.port}: reachable`,
      );
      expect(bad.stdout).toContain(
        'FAIL  REGISTRAR_SMTP_URL: the SMTP server refused the user name or password',
      );
      expect(bad.stdout + bad.stderr).not.toContain('wrong-password');
    } finally {
      await new Promise((resolve) => smtp.close(() => resolve(undefined)));
    }

    const invalid = await cli(['config', 'check'], { ...h.env(), REGISTRAR_INDEX: 'x' });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('REGISTRAR_INDEX');
  });
});
