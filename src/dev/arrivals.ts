/** Lets a test await a condition on things that arrive over time (events, mails), with a deadline. */
export class Arrivals<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  get all(): readonly T[] {
    return this.items;
  }

  add(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with the first value `find` returns that is not undefined; rejects after `timeoutMs`. */
  waitFor<R>(find: (items: readonly T[]) => R | undefined, what: string, timeoutMs: number): Promise<R> {
    const found = find(this.items);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<R>((resolve, reject) => {
      const check = () => {
        const result = find(this.items);
        if (result === undefined) return;
        cleanup();
        resolve(result);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }
}
