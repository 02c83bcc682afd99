// Strict durability: a write counts as done only once it is fsynced — by WAITAOF (Redis >= 7.2, batched per turn) or
// because Redis fsyncs every write (appendfsync always). Otherwise it is refused, so the ingress can answer 503.
import { Redis } from 'ioredis';
import { Batcher } from '../actors/batcher.js';
import { assessDurability, type DurabilityMode, type DurabilityReport } from '../domain/durability.js';
import type { Logger } from '../log.js';
import { inspectRedis } from './durability.js';
import { defineScripts } from './scripts.js';

/** The write may have reached Redis but is not known to be on disk; the client should retry (with its Idempotency-Key). */
export class NotDurableError extends Error {
  readonly retryAfterS = 5;
}

type Write = (conn: Redis) => Promise<unknown>;

export class DurableWrites {
  private report: DurabilityReport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly pool: Redis[] = [];
  private next = 0;
  private readonly waited: Batcher<Write, unknown>;

  constructor(
    private readonly redis: Redis,
    private readonly url: string,
    readonly mode: DurabilityMode,
    private readonly log: Logger,
    private readonly waitMs = 1_000,
  ) {
    this.waited = new Batcher((writes) => this.writeAndWait(writes), 500);
  }

  /** Reads how Redis is set up now, and again every 30 s (it can change under us: CONFIG SET). */
  async start(): Promise<DurabilityReport> {
    this.report = assessDurability(await inspectRedis(this.redis));
    if (this.mode === 'strict') {
      this.log.info({ strict: this.report.strict }, 'strict durability: a 202 means the notification is on disk');
      this.timer = setInterval(() => void this.refresh(), 30_000);
      this.timer.unref();
    }
    return this.report;
  }

  /** Whether strict mode can currently promise durable writes. */
  get ready(): boolean {
    return this.mode === 'standard' || this.report?.strict !== 'unavailable';
  }

  /** Runs the write on a connection such that, in strict mode, it has been fsynced when this resolves. */
  async run<T>(write: (conn: Redis) => Promise<T>): Promise<T> {
    if (this.mode === 'standard' || this.report?.strict === 'fsync-always') return write(this.redis);
    if (this.report?.strict === 'waitaof') return (await this.waited.add(write)) as T;
    throw new NotDurableError(`strict durability needs Redis >= 7.2 (WAITAOF) or appendfsync always: ${this.report?.summary ?? 'unknown'}`);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.pool.map((c) => c.quit().catch(() => c.disconnect())));
  }

  /** One turn's writes on one connection, then one WAITAOF for all of them (it waits for that connection's writes). */
  private async writeAndWait(writes: Write[]): Promise<unknown[]> {
    const conn = this.connection();
    const results = await Promise.allSettled(writes.map((w) => w(conn)));
    const [local] = (await conn.call('WAITAOF', 1, 0, this.waitMs)) as [number, number];
    if (local < 1) throw new NotDurableError(`the write was not fsynced within ${this.waitMs} ms`);
    return results.map((r) => (r.status === 'fulfilled' ? r.value : Promise.reject(r.reason)));
  }

  private connection(): Redis {
    if (this.pool.length < 4) {
      const conn = new Redis(this.url, { connectionName: 'durable-writes', maxRetriesPerRequest: 3 });
      conn.on('error', (err) => this.log.warn({ err: err.message }, 'redis connection error'));
      defineScripts(conn);
      this.pool.push(conn);
    }
    return this.pool[this.next++ % this.pool.length]!;
  }

  private async refresh(): Promise<void> {
    try {
      const before = this.report?.strict;
      this.report = assessDurability(await inspectRedis(this.redis));
      if (before !== this.report.strict) this.log.warn({ strict: this.report.strict }, 'Redis durability changed');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read Redis durability settings');
    }
  }
}
