// Moves delayed entries (retries, later: schedules) into their streams when due. Safe to run in every worker.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

export class DelayedMover {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly log: Logger,
    private readonly everyMs = 200,
    private readonly limit = 500,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Moves everything due now; returns how many entries moved. */
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let total = 0;
    try {
      for (;;) {
        const moved = await runScript<number>(this.redis, 'moveDue', [this.keys.delayed], [this.now(), this.limit]);
        total += moved;
        if (moved < this.limit) break;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'moving delayed entries failed; will try again');
    } finally {
      this.running = false;
    }
    return total;
  }
}
