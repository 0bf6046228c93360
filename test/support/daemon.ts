/** Starts the compiled daemon as a child process, the way `npm start` does. */
import { spawn } from 'node:child_process';

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the daemon with exactly `env` (plus PATH) and resolves when it exits. */
export function runDaemonToExit(env: Record<string, string>, timeoutMs = 20_000): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningDaemon {
  url: string;
  output: () => string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the daemon and resolves once it logs that it is ready. */
export function startDaemon(env: Record<string, string>, timeoutMs = 60_000): Promise<RunningDaemon> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let ready = false;
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready) return;
      const line = output.split('\n').find((l) => l.includes('"registrar ready"'));
      if (!line) return;
      ready = true;
      clearTimeout(timer);
      const { http } = JSON.parse(line) as { http: string };
      resolve({
        url: http,
        output: () => output,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before it was ready:\n${output}`));
    });
  });
}
