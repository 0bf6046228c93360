/**
 * A store that says when a request changed, so that the status page can update live. Every request
 * write in the registrar goes through `insertRequest` or `updateRequest`; this wraps those two and
 * passes everything else through.
 */
import type { JudgementRequest } from '../domain/request.js';
import type { Store } from './store.js';

export function notifyingStore(store: Store, changed: (request: JudgementRequest) => void): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'insertRequest') {
        return async (request: JudgementRequest) => {
          await target.insertRequest(request);
          changed(request);
        };
      }
      if (property === 'updateRequest') {
        return async (request: JudgementRequest) => {
          const written = await target.updateRequest(request);
          if (written) changed(written);
          return written;
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
