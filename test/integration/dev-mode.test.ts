/**
 * A newcomer's first ten minutes, exactly as the README says: `npm run dev` (here its command,
 * `node dist/cli.js dev`), then `registrar dev request`, then the mail in the mail catcher, its
 * link, Confirm, and the judgement on the embedded chain. Only the project's own files are used.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from '@jest/globals';
import { confirm, eventually, freePort } from '../support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'registrar-dev-'));
let dev: ChildProcess | undefined;

afterAll(() => {
  dev?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

it('npm run dev and the request command reach JudgementGiven following the README', async () => {
  const [httpPort, mailPort, chainPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH ?? '',
    REGISTRAR_DEV_DIR: join(dir, 'dev'),
    REGISTRAR_HTTP_PORT: String(httpPort),
    REGISTRAR_DEV_MAIL_PORT: String(mailPort),
    REGISTRAR_DEV_CHAIN_PORT: String(chainPort),
  };
  const child = spawn(process.execPath, ['dist/cli.js', 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  dev = child;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await eventually(
    async () => (output.includes('The registrar is running') ? true : undefined),
    'dev mode',
    90_000,
  );
  expect(output).toContain(`http://127.0.0.1:${httpPort}/`);
  expect(output).toContain(`http://127.0.0.1:${mailPort}/`);
  expect(output).toContain('npm run registrar -- dev request --display "Alice" --email alice@example.org');

  const request = await promisify(execFile)(
    process.execPath,
    ['dist/cli.js', 'dev', 'request', '--display', 'Alice', '--email', 'alice@example.org'],
    { env },
  );
  const statusUrl = /Status: (\S+)/.exec(request.stdout)?.[1] ?? '';
  expect(statusUrl).toContain(`http://127.0.0.1:${httpPort}/status/`);

  // The mail catcher's page shows the mail; its JSON gives the link.
  const link = await eventually(async () => {
    const mails = (await (await fetch(`http://127.0.0.1:${mailPort}/mails.json`)).json()) as {
      text: string;
    }[];
    return /https?:\/\/\S+\/confirm\/\S+/.exec(mails[0]?.text ?? '')?.[0];
  }, 'the challenge mail');
  expect(await (await fetch(`http://127.0.0.1:${mailPort}/`)).text()).toContain('alice@example.org');
  expect((await confirm(link)).status).toBe(200);

  const judged = await eventually(
    async () => {
      const status = (await (await fetch(statusUrl)).json()) as { status: string };
      return status.status === 'judged' ? status : undefined;
    },
    'the judgement',
    60_000,
  );
  expect(judged).toMatchObject({ status: 'judged' });

  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  expect(code).toBe(0);
});
