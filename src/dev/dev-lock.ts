/**
 * One dev registrar per data folder, and clear words when its ports are taken. The lock sits next
 * to the folder (not in it: each start empties the folder) and names the process and its ports, so
 * a second `npm run dev` says who is running instead of deleting the first one's data; a lock whose
 * process is gone (killed, not stopped) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port dev mode listens on, and the setting that moves it. */
export interface DevPort {
  what: string;
  setting: string;
  port: number;
}

/** Dev mode cannot start; the message says why and what to change (no stack trace). */
export class DevRefused extends Error {}

const describe = (ports: DevPort[]) => ports.map((p) => `${p.what} ${p.port}`).join(', ');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock at `path` for `ports`, or refuses naming the running dev registrar's ports. */
export function takeDevLock(path: string, ports: DevPort[]): () => void {
  const mine = JSON.stringify({ pid: process.pid, ports });
  try {
    writeFileSync(path, mine, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let held: { pid?: number; ports?: DevPort[] } = {};
    try {
      held = JSON.parse(readFileSync(path, 'utf8')) as typeof held;
    } catch {
      // Half written or garbage: nobody can be named; treated as stale.
    }
    if (typeof held.pid === 'number' && held.pid !== process.pid && alive(held.pid)) {
      throw new DevRefused(
        `a dev registrar is already running (ports ${describe(held.ports ?? [])}; process ${held.pid}). ` +
          'Use that one, or stop it with Ctrl-C in its terminal first.',
      );
    }
    writeFileSync(path, mine);
  }
  return () => rmSync(path, { force: true });
}

async function free(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Refuses, naming the setting to change, when any of `ports` is taken by another program. */
export async function checkPortsFree(ports: DevPort[]): Promise<void> {
  for (const { what, setting, port } of ports) {
    if (port === 0 || (await free(port))) continue;
    throw new DevRefused(
      `the ${what} cannot listen on 127.0.0.1:${port}: the port is taken by another program. ` +
        `Set ${setting} to a free port (for example ${setting}=${port + 10} npm run dev).`,
    );
  }
}
