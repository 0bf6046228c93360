/**
 * How the daemon's V8 heap is kept small. V8 sizes its young generation for the machine (up to
 * 64 MiB per semi-space on a large one), and the pages a start-up burst (loading @polkadot/api,
 * decoding the runtime's metadata) touched stay resident: measured, more than half of an idle
 * daemon's memory. Held at its first size and collected once when everything is loaded, the daemon
 * idles at about a third of that (bench/README.md). Must run before the heavy modules load.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

export function tuneHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  // Grows the old generation in small steps: the start-up burst peaked 60 MiB above the idle
  // daemon without it (the heap limit V8 picks for a large machine defers every full collection).
  setFlagsFromString('--optimize-for-size');
  // gc() only in a new context, for collectGarbage below; the daemon's own global has none.
  setFlagsFromString('--expose-gc');
  collect = runInNewContext('gc') as () => void;
}

/**
 * One full collection, once everything is loaded and before the first scan: the pages the burst
 * left are given back. Not after the scan: compacting the heap the scan had grown took 20 MiB above
 * anything the scan itself needed, in a run measured at 20,000 identities (bench/README.md).
 */
export function collectGarbage(): void {
  collect?.();
}
