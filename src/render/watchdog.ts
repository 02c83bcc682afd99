// When each running render task started, shared with the render threads through a SharedArrayBuffer: a thread
// writes the start time into its task's slot, the pool's timer aborts a task that has run past the budget (Piscina
// then terminates that thread and starts a new one). Time spent queued never counts.

export class RenderWatchdog {
  readonly starts: Float64Array;
  private readonly free: number[];
  private readonly running = new Map<number, AbortController>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly slots: number, private readonly budgetMs: number, now: () => number = Date.now) {
    this.starts = new Float64Array(new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT));
    this.free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
    this.timer = setInterval(() => this.check(now()), Math.max(5, Math.min(250, budgetMs / 4)));
    this.timer.unref();
  }


  /** A slot for a task about to be submitted, and the signal that aborts it; undefined when all are taken. */
  acquire(): { slot: number; signal: AbortSignal } | undefined {
    const slot = this.free.pop();
    if (slot === undefined) return undefined;
    const ac = new AbortController();
    this.starts[slot] = 0;
    this.running.set(slot, ac);
    return { slot, signal: ac.signal };
  }

  release(slot: number): void {
    this.running.delete(slot);
    this.starts[slot] = 0;
    this.free.push(slot);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private check(now: number): void {
    for (const [slot, ac] of this.running) {
      const start = this.starts[slot]!;
      if (start > 0 && now - start > this.budgetMs && !ac.signal.aborted) ac.abort(new RenderTimeout(this.budgetMs));
    }
  }
}

export class RenderTimeout extends Error {
  override name = 'RenderTimeout';
  constructor(readonly budgetMs: number) {
    super(`render timed out: it ran past the render budget of ${budgetMs} ms`);
  }
}

/** In a render thread: marks the task in `slot` as started now. */
export function markStarted(starts: Float64Array | undefined, slot: number | undefined): void {
  if (starts && slot !== undefined) starts[slot] = Date.now();
}
