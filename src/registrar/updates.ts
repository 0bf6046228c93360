/** Compare-and-set writes of a request, shared by every part of the registrar. */
import type { JudgementRequest } from '../domain/request.js';
import type { Store } from '../store/store.js';

/** Applies `change` to the stored request, rereading and retrying when another writer won. */
export async function updateWithRetry(
  store: Store,
  id: string,
  change: (request: JudgementRequest) => JudgementRequest | undefined,
): Promise<JudgementRequest | undefined> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await store.getRequest(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return undefined;
    const written = await store.updateRequest(next);
    if (written) return written;
  }
  throw new Error(`request ${id} kept changing under us`);
}

export { errorText } from '../support/errors.js';
