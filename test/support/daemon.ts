/** Starts the compiled daemon as a child process, the way `npm start` does. */
import { type ChildProcess, spawn } from 'node:child_process';

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  onOutput(listener: () => void): void;
}

/** Runs `node dist/main.js` with `env` (plus PATH), collecting stdout and stderr together. */
function spawnDaemon(env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners: (() => void)[] = [];
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    child,
    output: () => output,
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    onOutput: (listener) => listeners.push(listener),
  };
}

export interface Exited {
  code: number | null;
  output: string;
}

/**
 * Runs the daemon and resolves when it exits. The bound is for a daemon that never exits: on a busy
 * machine, loading the chain libraries and the checks before a refusal took over 20 s (exit code
 * null, the process killed, in a loaded run).
 */
export async function runDaemonToExit(env: Record<string, string>, timeoutMs = 90_000): Promise<Exited> {
  // A port of its own unless the test names one: the default 8080 may be another test run's.
  const daemon = spawnDaemon({ REGISTRAR_HTTP_PORT: '0', ...env });
  const timer = setTimeout(() => daemon.child.kill('SIGKILL'), timeoutMs);
  const code = await daemon.exited;
  clearTimeout(timer);
  return { code, output: daemon.output() };
}

export interface RunningDaemon {
  url: string;
  output: () => string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: the process ends mid-step, as in a crash. */
  kill(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts the daemon and resolves once it prints a line with `readyWhen` (by default: ready). */
export function startDaemon(
  env: Record<string, string>,
  timeoutMs = 60_000,
  readyWhen = '"registrar ready"',
): Promise<RunningDaemon> {
  const daemon = spawnDaemon(env);
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      daemon.child.kill('SIGKILL');
      reject(new Error(`daemon not ready within ${timeoutMs} ms:\n${daemon.output()}`));
    }, timeoutMs);
    daemon.onOutput(() => {
      if (ready) return;
      const line = daemon
        .output()
        .split('\n')
        .find((l) => l.includes(readyWhen));
      if (!line) return;
      ready = true;
      clearTimeout(timer);
      const http = line.startsWith('{') ? ((JSON.parse(line) as { http?: string }).http ?? '') : '';
      resolve({
        url: http,
        output: daemon.output,
        stop: () => {
          daemon.child.kill('SIGTERM');
          return daemon.exited;
        },
        kill: () => {
          daemon.child.kill('SIGKILL');
          return daemon.exited;
        },
        exited: daemon.exited,
      });
    });
    void daemon.exited.then((code) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before it was ready:\n${daemon.output()}`));
    });
  });
}
