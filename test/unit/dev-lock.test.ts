/**
 * One dev registrar per data folder: a live holder is named with its ports and nothing is taken; a
 * holder that was killed leaves a lock the next start takes over. And the dev request's identity:
 * each option its field, the PGP fingerprint as 20 bytes, nothing too long for the chain.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DevRefused, takeDevLock } from '../../src/dev/dev-lock.js';
import { devIdentity } from '../../src/dev/dev-request.js';

const ports = [{ what: 'registrar pages', setting: 'REGISTRAR_HTTP_PORT', port: 8080 }];

describe('the dev lock', () => {
  it('refuses while its holder lives, naming the ports, and is taken over once the holder is gone', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'registrar-dev-lock-')), 'dev.lock');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    writeFileSync(path, JSON.stringify({ pid: holder.pid, ports }));
    expect(() => takeDevLock(path, ports)).toThrow(
      new DevRefused(
        `a dev registrar is already running (ports registrar pages 8080; process ${holder.pid}). Use that one, or stop it with Ctrl-C in its terminal first.`,
      ),
    );
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: holder.pid });
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const unlock = takeDevLock(path, ports);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    unlock();
    expect(existsSync(path)).toBe(false);
  });
});

describe('the dev request', () => {
  it('sets each field its option names', () => {
    expect(
      devIdentity({
        display: 'Alice',
        x: 'alice_x',
        pgp: '0xABCD EF01 2345 6789 ABCD EF01 2345 6789 ABCD EF01',
      }),
    ).toEqual({
      display: { Raw: 'Alice' },
      twitter: { Raw: 'alice_x' },
      pgpFingerprint: '0xabcdef0123456789abcdef0123456789abcdef01',
    });
  });

  it('refuses what the chain would refuse, naming the option', () => {
    expect(() => devIdentity({})).toThrow(DevRefused);
    expect(() => devIdentity({ email: `${'a'.repeat(30)}@example.org` })).toThrow(
      '--email: at most 32 bytes',
    );
    expect(() => devIdentity({ pgp: 'abcd' })).toThrow('--pgp: give the key');
  });
});
