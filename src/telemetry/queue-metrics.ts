// Gauges of the queues' state, read from Redis when /metrics is scraped: length, pending, oldest pending age, lag.
import type { Redis } from 'ioredis';
import { pairs } from '../streams/replies.js';
import type { Metrics } from './metrics.js';

export interface WatchedStream {
  name: string;
  key: string;
  group: string;
}

interface Snapshot {
  at: number;
  rows: { name: string; length: number; pending: number; oldestAgeS: number; lag: number }[];
  delayed: number;
  dead: number;
}

/** Registers the gauges; one Redis round trip per scrape (cached for a second, since one scrape reads four gauges). */
export function watchQueues(metrics: Metrics, redis: Redis, streams: readonly WatchedStream[], delayedKey: string, deadKey: string): void {
  let cached: Promise<Snapshot> | undefined;
  let cachedAt = 0;
  const snapshot = (): Promise<Snapshot> => {
    if (!cached || Date.now() - cachedAt > 1_000) {
      cachedAt = Date.now();
      cached = read(redis, streams, delayedKey, deadKey).catch((err) => {
        cached = undefined;
        throw err;
      });
    }
    return cached;
  };
  const perStream = (name: string, help: string, pick: (r: Snapshot['rows'][number]) => number) =>
    metrics.gauge(name, help, ['stream'], async (g) => {
      const s = await snapshot();
      for (const r of s.rows) g.set({ stream: r.name }, pick(r));
    });
  perStream('notify_stream_length', 'Entries in the stream', (r) => r.length);
  perStream('notify_stream_pending', 'Entries read by a consumer and not yet acknowledged', (r) => r.pending);
  perStream('notify_stream_oldest_pending_age_seconds', 'Age of the oldest unacknowledged entry', (r) => r.oldestAgeS);
  perStream('notify_stream_lag', 'Entries not yet read by the consumer group', (r) => r.lag);
  metrics.gauge('notify_delayed_entries', 'Retries and other work waiting for its time', [], async (g) => g.set((await snapshot()).delayed));
  metrics.gauge('notify_dead_letters', 'Entries in the dead-letter stream', [], async (g) => g.set((await snapshot()).dead));
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
  const rows = streams.map((s, i) => {
    const [, length] = replies[i * 3]!;
    const [groupsErr, groups] = replies[i * 3 + 1]!;
    const [, pending] = replies[i * 3 + 2]!;
    const group = groupsErr ? undefined : (groups as unknown[][]).map(pairs).find((g) => g.name === s.group);
    const summary = (pending ?? [0, null]) as [number, string | null];
    const oldest = summary[1] ? Number(summary[1].split('-')[0]) : now;
    return {
      name: s.name, length: Number(length ?? 0), pending: Number(summary[0] ?? 0),
      oldestAgeS: Math.max(0, (now - oldest) / 1000), lag: Number(group?.lag ?? 0) || 0,
    };
  });
  const tail = streams.length * 3;
  return { at: now, rows, delayed: Number(replies[tail]?.[1] ?? 0), dead: Number(replies[tail + 1]?.[1] ?? 0) };
}
