/**
 * A newcomer's first two hours, exactly as the README says: `npm run dev` (here its command,
 * `node dist/cli.js dev`), then `registrar dev request`, then the mail in the mail catcher, its
 * link, Confirm, and the judgement on the embedded chain. Then every field at once: the Matrix and
 * Discord messages on the mail catcher page, GitHub and X signed in at the stand-ins' forms, the
 * website's TXT record published on the dev DNS page, the legal name reviewed with the operator CLI
 * from the env file dev mode wrote. A second `npm run dev` is refused without touching the first, a
 * port taken by another program names its setting, and Ctrl-C says what it stopped.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from '@jest/globals';
import { textOfHtml } from '../support/every-service.js';
import { confirm, eventually, freePort } from '../support/harness.js';
import { callBack, confirmSignIn } from '../support/sign-in.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'registrar-dev-'));
let dev: ChildProcess | undefined;

afterAll(() => {
  dev?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const post = (url: string, form: Record<string, string>, redirect: 'follow' | 'manual' = 'follow') =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect,
  });

/** The settings of an env file as `set -a; . FILE` reads them (each value single-quoted). */
function sourced(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 2, -1).replace(/'\\''/g, "'")];
      }),
  );
}

/**
 * A browser's sign-in at a dev stand-in: Sign in, type the user name on its form, come back, Confirm.
 * Resolves with Confirm's status, or the page that came back instead of the question.
 */
async function signInAs(
  registrar: string,
  account: string,
  field: string,
  name: string,
): Promise<number | string> {
  const start = await fetch(`${registrar}/prove/${account}/${field}`, { method: 'POST', redirect: 'manual' });
  expect(start.status).toBe(303);
  const setCookie = start.headers.get('set-cookie') ?? '';
  const authorize = new URL(start.headers.get('location') ?? '');
  const form = await (await fetch(authorize)).text();
  expect(form).toContain('user name');
  const action = new URL(textOfHtml(/<form method="post" action="([^"]+)"/.exec(form)?.[1] ?? ''), authorize);
  const back = await post(action.href, { name }, 'manual');
  expect(back.status).toBe(302);
  const asked = await callBack({
    callback: back.headers.get('location') ?? '',
    cookie: setCookie.split(';')[0] ?? '',
    setCookie,
    authorize,
  });
  if (!asked.sealed) return asked.page;
  return (await confirmSignIn(registrar, asked.sealed)).status;
}

it('a port taken by another program names the setting to change, and nothing starts', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const refused = await run(process.execPath, ['dist/cli.js', 'dev'], {
    env: {
      PATH: process.env.PATH ?? '',
      REGISTRAR_DEV_DIR: join(dir, 'taken'),
      REGISTRAR_HTTP_PORT: String(await freePort()),
      REGISTRAR_ADMIN_PORT: String(await freePort()),
      REGISTRAR_DEV_MAIL_PORT: String(port),
      REGISTRAR_DEV_CHAIN_PORT: String(await freePort()),
    },
  }).catch((error: { code: number; stderr: string }) => error);
  taken.close();
  expect(refused).toMatchObject({ code: 2 });
  const { stderr } = refused as { stderr: string };
  expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is taken by another program`);
  expect(stderr).toContain('Set REGISTRAR_DEV_MAIL_PORT to a free port');
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(join(dir, 'taken.lock'))).toBe(false);
});

it('npm run dev and the request command reach JudgementGiven following the README, and every proof can be tried', async () => {
  const [httpPort, adminPort, mailPort, chainPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    PATH: process.env.PATH ?? '',
    REGISTRAR_DEV_DIR: join(dir, 'dev'),
    REGISTRAR_HTTP_PORT: String(httpPort),
    REGISTRAR_ADMIN_PORT: String(adminPort),
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
    // Minutes on a busy 2-core machine: the runtime's first start compiles it.
    300_000,
  );
  const registrar = `http://127.0.0.1:${httpPort}`;
  const catcher = `http://127.0.0.1:${mailPort}`;
  expect(output).toContain(`${registrar}/`);
  expect(output).toContain(`${catcher}/`);
  expect(output).toContain('verifying every field');
  expect(output).toContain('npm run registrar -- dev request --display "Alice" --email alice@example.org');
  const envFile = join(dir, 'dev', 'registrar.env');
  expect(output).toContain(`set -a; . ${envFile}; set +a`);
  const dnsPage = /dev DNS\s+(http:\/\/\S+?)\/?\s/.exec(output)?.[1] ?? '';
  expect(dnsPage).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  // A second dev registrar on the same folder is refused, saying who runs, and deletes nothing.
  const second = await run(process.execPath, ['dist/cli.js', 'dev'], { env }).catch(
    (error: { code: number; stderr: string }) => error,
  );
  expect(second).toMatchObject({ code: 2 });
  const secondErr = (second as { stderr: string }).stderr;
  expect(secondErr).toContain(`a dev registrar is already running (ports registrar pages ${httpPort}`);
  expect(secondErr).not.toMatch(/\n\s+at /);
  expect(existsSync(join(dir, 'dev', 'registrar.sqlite'))).toBe(true);
  expect(existsSync(join(dir, 'dev', 'dev.json'))).toBe(true);
  expect((await fetch(`${registrar}/healthz`)).status).toBe(200);

  const request = await run(
    process.execPath,
    ['dist/cli.js', 'dev', 'request', '--display', 'Alice', '--email', 'alice@example.org'],
    { env },
  );
  const statusUrl = /Status: (\S+)/.exec(request.stdout)?.[1] ?? '';
  expect(statusUrl).toContain(`${registrar}/status/`);

  // The mail catcher's page shows the mail; its JSON gives the link.
  const mailLink = async (to: string) =>
    eventually(async () => {
      const mails = (await (await fetch(`${catcher}/mails.json`)).json()) as { to: string[]; text: string }[];
      const mail = mails.find((m) => m.to.includes(to));
      return /https?:\/\/\S+\/confirm\/\S+/.exec(mail?.text ?? '')?.[0];
    }, `the challenge mail to ${to}`);
  const link = await mailLink('alice@example.org');
  expect(await (await fetch(`${catcher}/`)).text()).toContain('alice@example.org');
  expect((await confirm(link)).status).toBe(200);

  const judgedAt = async (url: string) =>
    eventually(
      async () => {
        const status = (await (await fetch(url)).json()) as { status: string };
        return status.status === 'judged' ? status : undefined;
      },
      'the judgement',
      90_000,
    );
  expect(await judgedAt(statusUrl)).toMatchObject({ status: 'judged' });

  // Every field at once, for another account.
  const every = await run(
    process.execPath,
    [
      'dist/cli.js',
      'dev',
      'request',
      '--seed',
      '//Bob',
      '--display',
      'Bob',
      '--legal',
      'Bob Builder',
      '--email',
      'bob@example.org',
      '--matrix',
      '@bob:localhost',
      '--github',
      'bob-gh',
      '--discord',
      'bob_dc',
      '--x',
      'bob_x',
      '--web',
      'bob.example.org',
    ],
    { env },
  );
  const bobStatus = /Status: (\S+)/.exec(every.stdout)?.[1] ?? '';
  const bob = bobStatus.split('/').at(-1) ?? '';
  const fieldsOf = async () =>
    ((await (await fetch(bobStatus)).json()) as { fields: Record<string, { status: string }> }).fields;
  expect(Object.keys(await fieldsOf()).sort()).toEqual(
    ['discord', 'display', 'email', 'github', 'legal', 'matrix', 'twitter', 'web'].sort(),
  );

  // Email, and the Matrix and Discord messages, as the mail catcher shows them.
  expect((await confirm(await mailLink('bob@example.org'))).status).toBe(200);
  const chatLink = (service: string, to: string) =>
    eventually(async () => {
      const chat = (await (await fetch(`${catcher}/chat.json`)).json()) as {
        service: string;
        to: string;
        text: string;
      }[];
      const message = chat.find((m) => m.service === service && m.to === to);
      return /https?:\/\/\S+\/confirm\/\S+/.exec(message?.text ?? '')?.[0];
    }, `the ${service} message to ${to}`);
  expect((await confirm(await chatLink('Matrix', '@bob:localhost'))).status).toBe(200);
  expect((await confirm(await chatLink('Discord', 'bob_dc'))).status).toBe(200);
  const catcherPage = await (await fetch(`${catcher}/`)).text();
  expect(catcherPage).toContain('Matrix message to @bob:localhost');
  expect(catcherPage).toContain('Discord message to bob_dc');

  // GitHub and X: signed in at the stand-ins' forms; a wrong name is refused.
  expect(await signInAs(registrar, bob, 'github', 'someone-else')).toContain(
    'You signed in to GitHub as someone-else, but the identity names bob-gh.',
  );
  expect(await signInAs(registrar, bob, 'github', 'bob-gh')).toBe(200);
  expect(await signInAs(registrar, bob, 'twitter', 'bob_x')).toBe(200);

  // The website: the line from its page, published as a TXT record on the dev DNS page.
  const webPage = await (await fetch(`${registrar}/prove/${bob}/web`)).text();
  const line = /<pre id="web-proof">([^<]+)<\/pre>/.exec(webPage)?.[1] ?? '';
  expect(line).toMatch(/^polkadot-registrar=/);
  const published = await post(
    `${dnsPage}/txt`,
    { name: '_polkadot-registrar.bob.example.org', value: line },
    'manual',
  );
  expect(published.status).toBe(303);
  expect(await (await fetch(`${dnsPage}/`)).text()).toContain('_polkadot-registrar.bob.example.org');
  expect((await post(`${registrar}/prove/${bob}/web`, {})).status).toBe(200);

  const proven = await fieldsOf();
  for (const field of ['display', 'email', 'matrix', 'discord', 'github', 'twitter', 'web']) {
    expect([field, proven[field]?.status]).toEqual([field, 'confirmed']);
  }

  // The operator's CLI, with the settings dev mode wrote: the open request, then the legal name reviewed.
  const operatorEnv = { PATH: env.PATH, ...sourced(envFile) };
  const pending = await run(process.execPath, ['dist/cli.js', 'pending'], { env: operatorEnv });
  expect(pending.stdout).toContain(bob);
  expect(pending.stdout).toContain('legal:awaiting');
  await run(
    process.execPath,
    ['dist/cli.js', 'review', bob, 'legal', '--confirm', '--value', 'Bob Builder', '--by', 'test'],
    { env: operatorEnv },
  );
  expect(await judgedAt(bobStatus)).toMatchObject({ status: 'judged' });

  // Ctrl-C: it says what it stopped, and the next start is free to go.
  child.kill('SIGINT');
  const code = await new Promise((resolve) => child.once('exit', resolve));
  expect(code).toBe(0);
  expect(output).toMatch(/Stopped the registrar, .*Matrix homeserver.* and the dev chain\./);
  expect(existsSync(join(dir, 'dev.lock'))).toBe(false);
}, 900_000);
