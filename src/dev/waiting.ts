/** Small waits the tests and benchmarks share: a free port, and asking again until there is an answer. */
import { createServer } from 'node:net';

/**
 * The ports `freePort` hands out lie below the range the system picks from for `listen(0)`
 * (32768 and up on Linux): a port chosen here, then left closed until a daemon takes it, is never
 * also given meanwhile to a server that asked for any port. Each process walks them from a random
 * place of its own, so that processes side by side rarely meet.
 */
const PORTS = { first: 10_000, count: 22_000 };
let nextPort: number | undefined;

/** A port nothing listens on now, on 127.0.0.1, for a server started a moment later. */
export async function freePort(): Promise<number> {
  nextPort ??= Math.floor(Math.random() * PORTS.count);
  for (let tries = 0; tries < 1000; tries++) {
    const port = PORTS.first + (nextPort++ % PORTS.count);
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error('no free port below the ephemeral range');
}

/** The daemon works asynchronously: ask again every `everyMs` until `probe` answers, within a deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer !== undefined) return answer;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
