// Round-robin between tenants: work waits in one FIFO queue per tenant, and at most `limit` items run at once, taken
// one per tenant in turn. A tenant's burst thus runs at most `limit` items ahead of another tenant's next one, instead
// of all of it. Order within one tenant is kept (so a user's messages still reach its actor in the order read).
import { Mailbox } from './mailbox.js';

/**
 * @example
 *   const q = new FairQueue<Msg>(2048, (msg) => actors.tell(keyOf(msg), msg));
 *   q.push('acme', m1); ...   // when each started item finishes: q.done()
 */
export class FairQueue<T> {
  private readonly queues = new Map<string, Mailbox<T>>();
  /** Tenants with work waiting, in turn order (each appears once). */
  private readonly turns = new Mailbox<string>();
  private running = 0;
  private waitingCount = 0;

  constructor(
    private readonly limit: number,
    private readonly start: (item: T) => void,
  ) {}

  push(tenant: string, item: T): void {
    if (this.running < this.limit && this.waitingCount === 0) {
      this.running++;
      this.start(item);
      return;
    }
    let q = this.queues.get(tenant);
    if (!q) {
      q = new Mailbox<T>();
      this.queues.set(tenant, q);
      this.turns.push(tenant);
    }
    q.push(item);
    this.waitingCount++;
    this.pump();
  }

  /** One started item has finished: its slot goes to the next tenant in turn. */
  done(): void {
    this.running--;
    this.pump();
  }

  /** Items waiting for a slot. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Items of one tenant waiting for a slot. */
  waitingOf(tenant: string): number {
    return this.queues.get(tenant)?.size ?? 0;
  }

  /** Items started and not yet done. */
  get active(): number {
    return this.running;
  }

  private pump(): void {
    while (this.running < this.limit) {
      const tenant = this.turns.shift();
      if (tenant === undefined) return;
      const q = this.queues.get(tenant)!;
      const item = q.shift()!;
      this.waitingCount--;
      if (q.size > 0) this.turns.push(tenant);
      else this.queues.delete(tenant);
      this.running++;
      this.start(item);
    }
  }
}
