// Strict durability: a write counts as done only once it is fsynced — by WAITAOF (Redis >= 7.2, batched per turn) or
// because Redis fsyncs every write (appendfsync always). Otherwise it is refused, so the ingress can answer 503.
import { Redis } from 'ioredis';
import { Batcher } from '../actors/batcher.js';
import { assessDurability, type DurabilityMode, type DurabilityReport } from '../domain/durability.js';
import type { Logger } from '../log.js';
import { inspectRedis } from './durability.js';
import { defineScripts } from './scripts.js';
import { isCluster, masterOf } from './redis.js';

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
    private url: string,
    readonly mode: DurabilityMode,
    private readonly log: Logger,
    private readonly waitMs = 1_000,
    /** On a cluster: a key of the service's hash tag; WAITAOF goes to the master that holds its slot. */
    private readonly slotKey?: string,
  ) {
    this.waited = new Batcher((writes) => this.writeAndWait(writes), 500);
  }

  /** Reads how Redis is set up now, and again every 30 s (it can change under us: CONFIG SET). */
  async start(): Promise<DurabilityReport> {
    this.report = assessDurability(await inspectRedis(this.redis));
    if (this.mode === 'strict') {
      await this.findMaster();
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
    // A failover moved the slot (MOVED, or READONLY from the old master): find the new master for the next turn, and
    // answer those writes as not durable (503: the client retries with its Idempotency-Key).
    const moved = (r: PromiseSettledResult<unknown>) => r.status === 'rejected' && /^(MOVED|READONLY|CLUSTERDOWN)/.test(String((r.reason as Error)?.message));
    if (results.some(moved)) void this.findMaster();
    const [local] = (await conn.call('WAITAOF', 1, 0, this.waitMs)) as [number, number];
    if (local < 1) throw new NotDurableError(`the write was not fsynced within ${this.waitMs} ms`);
    return results.map((r) => (r.status === 'fulfilled' ? r.value
      : Promise.reject(moved(r) ? new NotDurableError(`the service's slot moved to another master (a failover): ${(r.reason as Error).message}`) : r.reason)));
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

  /** On a cluster, the writes and their WAITAOF go to the master of the service's slot, on a connection of their own. */
  private async findMaster(): Promise<void> {
    if (!this.slotKey || !isCluster(this.redis)) return;
    try {
      const master = await masterOf(this.redis, this.slotKey);
      const url = master && `redis://${master}`;
      if (!url || url === this.url) return;
      this.url = url;
      const old = this.pool.splice(0);
      for (const c of old) c.quit().catch(() => c.disconnect());
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not find the cluster master of the service\'s slot');
    }
  }

  private async refresh(): Promise<void> {
    await this.findMaster();
    try {
      const before = this.report?.strict;
      this.report = assessDurability(await inspectRedis(this.redis));
      if (before !== this.report.strict) this.log.warn({ strict: this.report.strict }, 'Redis durability changed');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not read Redis durability settings');
    }
  }
}
