// Reading a consumer group as one fixed consumer name, for a role one process holds at a time (a lease: the webhooks
// dispatcher, the alerts evaluator): whoever holds the lease first re-reads what the previous holder left pending
// (id 0), then reads new entries. And the delivery records such readers look up for events that do not carry them.
import type { Redis } from 'ioredis';
import type { DeliveryRecord } from '../domain/record.js';
import type { HistoryEvent } from '../history/events.js';
import type { Keys } from './keys.js';

export type Entry = [id: string, fields: string[]];

export class LeasedGroupReader {
  private pendingFirst = true;

  constructor(
    private readonly redis: Redis,
    /** A connection of its own: XREADGROUP BLOCK holds it. */
    private readonly blocking: Redis,
    private readonly stream: string,
    private readonly group: string,
    private readonly consumer: string,
  ) {}

  /** The lease was lost or a read failed: read what is pending first again. */
  reset(): void {
    this.pendingFirst = true;
  }

  async next(batch: number, blockMs: number): Promise<Entry[]> {
    const { stream, group, consumer } = this;
    if (this.pendingFirst) {
      const reply = (await this.redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', batch, 'STREAMS', stream, '0')) as [string, [string, string[] | null][]][] | null;
      const all = reply?.[0]?.[1] ?? [];
      // Deleted (trimmed) while pending: nothing to handle; acknowledged so they do not stay pending.
      const gone = all.filter((e) => e[1] === null).map(([id]) => id);
      if (gone.length > 0) await this.redis.xack(stream, group, ...gone);
      const left = all.filter((e): e is Entry => e[1] !== null);
      if (left.length > 0) return left;
      if (gone.length > 0) return [];
      this.pendingFirst = false;
    }
    const reply = (await this.blocking.call(
      'XREADGROUP', 'GROUP', group, consumer, 'COUNT', batch, 'BLOCK', Math.max(1, Math.floor(blockMs)), 'STREAMS', stream, '>',
    )) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }
}

/** The delivery record (field `d:<key>` of its notification) of each event `keyOf` names a key for, by event id. */
export async function recordsOf(redis: Redis, keys: Keys, events: readonly HistoryEvent[], keyOf: (e: HistoryEvent) => string | undefined): Promise<Map<string, DeliveryRecord>> {
  const wanted = events.flatMap((e) => { const k = keyOf(e); return k ? [[e, k] as const] : []; });
  const out = new Map<string, DeliveryRecord>();
  if (wanted.length === 0) return out;
  const pipe = redis.pipeline();
  for (const [e, k] of wanted) pipe.hget(keys.notification(e.tenant, e.notificationId), `d:${k}`);
  const rows = (await pipe.exec()) ?? [];
  wanted.forEach(([e], i) => {
    const json = rows[i]?.[1];
    if (typeof json === 'string') out.set(e.id, JSON.parse(json) as DeliveryRecord);
  });
  return out;
}
