// Day partitions of the history tables (UTC days of the notification's created_at): made ahead of time and on demand
// (inside the batch that needs one), dropped once a whole day is older than the retention.
import type { Db, Queryable } from './db.js';
import type { Tables } from './schema.js';

export const DAY_MS = 86_400_000;
export const PARTITIONED = ['notifications', 'deliveries', 'events'] as const;

/** Pure: the start (ms) of the UTC day `at` falls in. */
export const dayStart = (at: number): number => Math.floor(at / DAY_MS) * DAY_MS;

/** Pure: the partition name suffix of a day, `p20261203`. */
export const daySuffix = (day: number): string => `p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;

/** Pure: the day (ms) a partition name stands for, or undefined for a name not made here. */
export function dayOfPartition(name: string): number | undefined {
  const m = /_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (!m) return undefined;
  const day = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return daySuffix(day) === `p${m[1]}${m[2]}${m[3]}` ? day : undefined;
}

/**
 * Pure: whether everything of the day `at` falls in is past a retention of `historyDays` at `now`: the whole day
 * ended more than historyDays ago. Such a day's partition is dropped, and an event for it is not archived.
 */
export const pastRetention = (at: number, now: number, historyDays: number): boolean => dayStart(at) + DAY_MS <= now - historyDays * DAY_MS;

/** Pure: today and the `ahead` days after it. */
export const daysAhead = (now: number, ahead: number): number[] => Array.from({ length: ahead + 1 }, (_, i) => dayStart(now) + i * DAY_MS);

/**
 * Creates the partitions of `days` that are missing, in the caller's transaction (so a batch that needs one has it
 * before its rows, and gives it up if the batch rolls back). An advisory lock keeps two creators from racing on the
 * same CREATE.
 */
export async function ensurePartitions(tx: Queryable, t: Tables, days: readonly number[]): Promise<void> {
  if (days.length === 0) return;
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`notify-history-partitions:${t.schema}`]);
  const ddl = days.flatMap((day) => {
    const from = new Date(day).toISOString();
    const to = new Date(day + DAY_MS).toISOString();
    return PARTITIONED.map((table) =>
      `CREATE TABLE IF NOT EXISTS ${t.schema}.${table}_${daySuffix(day)} PARTITION OF ${t.schema}.${table} FOR VALUES FROM ('${from}') TO ('${to}');`);
  });
  await tx.exec(ddl.join('\n'));
}

/** The day partitions that exist, per table: {table, name, day}. */
export async function listPartitions(q: Queryable, t: Tables): Promise<{ table: string; name: string; day: number }[]> {
  const { rows } = await q.query<{ parent: string; name: string }>(
    `SELECT p.relname AS parent, c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace s ON s.oid = p.relnamespace
      WHERE s.nspname = $1 AND p.relname = ANY (string_to_array($2, ','))`,
    [t.schema, PARTITIONED.join(',')],
  );
  return rows.flatMap((r) => {
    const day = dayOfPartition(r.name);
    return day === undefined ? [] : [{ table: r.parent, name: r.name, day }];
  });
}

export interface PartitionChanges {
  /** Days (ms) whose partitions exist now (made or already there). */
  ready: number[];
  /** Partitions dropped. */
  dropped: string[];
}

/** Makes today's and the next `ahead` days' partitions, and drops every one whose day is past the retention. */
export async function maintainPartitions(db: Db, t: Tables, now: number, historyDays: number, ahead: number): Promise<PartitionChanges> {
  return db.transaction(async (tx) => {
    const ready = daysAhead(now, ahead);
    await ensurePartitions(tx, t, ready);
    const old = (await listPartitions(tx, t)).filter((p) => pastRetention(p.day, now, historyDays));
    if (old.length > 0) await tx.exec(old.map((p) => `DROP TABLE IF EXISTS ${t.schema}.${p.name};`).join('\n'));
    return { ready, dropped: old.map((p) => p.name).sort() };
  });
}
