/**
 * The public figures of this registrar, read from the store at most once a minute and by one read
 * at a time, so that a public page asked for often costs the store nothing more.
 */
import { FIGURES_WINDOW_DAYS, type Figures, figuresOf } from '../domain/figures.js';
import type { Store } from '../store/store.js';

export function publicFigures(o: {
  store: Pick<Store, 'judgementsSince' | 'countRequestsSince'>;
  registrarIndex: number;
  now?: () => number;
  maxAgeMs?: number;
}): () => Promise<Figures> {
  const now = o.now ?? Date.now;
  const maxAge = o.maxAgeMs ?? 60_000;
  let kept: { figures: Figures; at: number } | undefined;
  let reading: Promise<Figures> | undefined;
  const read = async (): Promise<Figures> => {
    const at = now();
    const since = at - FIGURES_WINDOW_DAYS * 86_400_000;
    const [records, requests] = await Promise.all([
      o.store.judgementsSince(o.registrarIndex, since),
      o.store.countRequestsSince(o.registrarIndex, since),
    ]);
    const figures = figuresOf(records, requests, at);
    kept = { figures, at };
    return figures;
  };
  return async () => {
    if (kept && now() - kept.at < maxAge) return kept.figures;
    reading ??= read().finally(() => {
      reading = undefined;
    });
    return reading;
  };
}
