// Collects calls made during one turn of the event loop and serves them with one batched call (DataLoader style).

interface Waiter<O> {
  resolve(value: O): void;
  reject(err: unknown): void;
}

/**
 * `add()` queues an item and returns its result; the queue is flushed on the next setImmediate (so I/O
 * callbacks of the same turn join in) or as soon as it holds `maxBatch` items. `flush` must return one
 * result per item, in order. If `flush` throws, every item of that batch rejects.
 *
 * @example
 *   const users = new Batcher((ids: string[]) => pipelineHgetall(ids));
 *   const [a, b] = await Promise.all([users.add('u1'), users.add('u2')]); // one round trip
 */
export class Batcher<I, O> {
  private items: I[] = [];
  private waiters: Waiter<O>[] = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 1000,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.items.push(item);
      this.waiters.push({ resolve, reject });
      if (this.items.length >= this.maxBatch) this.run();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.run);
      }
    });
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.items.length === 0) return;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    this.flush(items).then(
      (results) => {
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(results[i]!);
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
  };
}
