// Gauges of the queues' state, read from Redis when /metrics is scraped: length, pending, oldest pending age, lag;
// and whether that read worked (notify_redis_up). A slow or absent Redis never holds up the scrape.
import type { Redis } from 'ioredis';
import { withDeadline } from '../domain/deadline.js';
import { pairs } from '../streams/replies.js';
import type { Metrics } from './metrics.js';

export interface WatchedStream {
  name: string;
  key: string;
  group: string;
}

interface Row {
  name: string;
  length: number;
  pending: number;
  oldestAgeS: number;
  /** Entries not yet delivered to the group; NaN when Redis cannot tell (no group yet, or a trimmed history). */
  lag: number;
}

interface Snapshot {
  at: number;
  rows: Row[];
  delayed: number;
  dead: number;
}

/**
 * Registers the gauges; one Redis round trip per scrape (cached for a second, since one scrape reads several
 * gauges). When Redis does not answer within `timeoutMs`, notify_redis_up is 0 and the queue gauges are left out
 * of that scrape (no stale values); the process' own metrics are still served.
 */
export function watchQueues(metrics: Metrics, redis: Redis, streams: readonly WatchedStream[], delayedKey: string, deadKey: string, timeoutMs = 1_000): void {
  let cached: Promise<Snapshot | undefined> | undefined;
  let cachedAt = 0;
  let reading: Promise<Snapshot> | undefined;
  const snapshot = (): Promise<Snapshot | undefined> => {
    if (!cached || Date.now() - cachedAt > 1_000) {
      cachedAt = Date.now();
      // A read still waiting on Redis is awaited again rather than joined by another one.
      if (redis.status !== 'ready') cached = Promise.resolve(undefined);
      else {
        reading ??= read(redis, streams, delayedKey, deadKey).finally(() => (reading = undefined));
        cached = withDeadline(reading, timeoutMs, 'queue metrics').catch(() => undefined);
      }
    }
    return cached;
  };
  const perStream = (name: string, help: string, pick: (r: Row) => number) =>
    metrics.gauge(name, help, ['stream'], async (g) => {
      g.reset();
      const s = await snapshot();
      for (const r of s?.rows ?? []) if (!Number.isNaN(pick(r))) g.set({ stream: r.name }, pick(r));
    });
  metrics.gauge('notify_redis_up', 'Whether Redis answered the last scrape\'s queue read in time (1) or not (0)', [], async (g) => {
    g.set((await snapshot()) ? 1 : 0);
  });
  perStream('notify_stream_length', 'Entries in the stream', (r) => r.length);
  perStream('notify_stream_pending', 'Entries read by a consumer and not yet acknowledged', (r) => r.pending);
  perStream('notify_stream_oldest_pending_age_seconds', 'Age of the oldest unacknowledged entry', (r) => r.oldestAgeS);
  perStream('notify_stream_lag', 'Entries not yet read by the consumer group (absent when Redis cannot tell)', (r) => r.lag);
  // A gauge without labels cannot be left out: unknown is NaN.
  metrics.gauge('notify_delayed_entries', 'Retries and other work waiting for its time (NaN when Redis did not answer)', [], async (g) => g.set((await snapshot())?.delayed ?? NaN));
  metrics.gauge('notify_dead_letters', 'Entries in the dead-letter stream (NaN when Redis did not answer)', [], async (g) => g.set((await snapshot())?.dead ?? NaN));
}

async function read(redis: Redis, streams: readonly WatchedStream[], delayedKey: string, deadKey: string): Promise<Snapshot> {
  const pipe = redis.pipeline();
  for (const s of streams) {
    pipe.xlen(s.key);
    pipe.call('XINFO', 'GROUPS', s.key);
    pipe.xpending(s.key, s.group);
  }
  pipe.zcard(delayedKey);
  pipe.xlen(deadKey);
  const replies = (await pipe.exec()) ?? [];
  const now = Date.now();
  const rows = streams.map((s, i): Row => {
    const [, length] = replies[i * 3]!;
    const [groupsErr, groups] = replies[i * 3 + 1]!;
    const [, pending] = replies[i * 3 + 2]!;
    const group = groupsErr ? undefined : (groups as unknown[][]).map(pairs).find((g) => g.name === s.group);
    const summary = (pending ?? [0, null]) as [number, string | null];
    const oldest = summary[1] ? Number(summary[1].split('-')[0]) : now;
    return {
      name: s.name, length: Number(length ?? 0), pending: Number(summary[0] ?? 0),
      oldestAgeS: Math.max(0, (now - oldest) / 1000), lag: lagOf(Number(length ?? 0), groupsErr, group),
    };
  });
  const tail = streams.length * 3;
  return { at: now, rows, delayed: Number(replies[tail]?.[1] ?? 0), dead: Number(replies[tail + 1]?.[1] ?? 0) };
}

/** Entries the group has still to read; NaN when Redis cannot tell. */
function lagOf(length: number, err: Error | null, group: Record<string, unknown> | undefined): number {
  if (err) return /no such key/i.test(err.message) ? 0 : NaN;
  // No worker has created the group yet: it will start at 0, so every entry is still to be read.
  if (!group) return length;
  // XINFO answers lag nil when it cannot compute it (entries deleted or trimmed past the group): unknown, not zero.
  return group.lag === null || group.lag === undefined ? NaN : Number(group.lag);
}
