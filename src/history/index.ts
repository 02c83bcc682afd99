// The notification history in PostgreSQL: what the archiver writes (archiveBatch) and what the API reads (get, search,
// stats). createHistory migrates the schema and makes the coming days' partitions before it returns.
import type { StoredNotification } from '../store/notifications.js';
import { archiveBatch, type ArchiveResult } from './archive.js';
import { openDb, type Db, type DbOptions } from './db.js';
import type { HistoryEvent } from './events.js';
import { migrate } from './migrate.js';
import { maintainPartitions, type PartitionChanges } from './partitions.js';
import { getNotification, search, stats, type SearchFilter, type SearchPage, type StatsQuery, type StatsRow } from './queries.js';
import { DEFAULT_SCHEMA, tables } from './schema.js';

export type { ArchiveResult } from './archive.js';
export type { Db, DbOptions, Queryable } from './db.js';
export { openDb } from './db.js';
export { decodeEvent, eventFields, type HistoryEvent } from './events.js';
export { HistoryQueryError, GROUP_BY, type GroupBy, type SearchFilter, type SearchPage, type StatsQuery, type StatsRow } from './queries.js';

export interface HistoryOptions {
  db: Db;
  /** The PostgreSQL schema of the tables (created if missing); default `notify_history`. */
  schema?: string;
  /** Days of history kept (NOTIFY_HISTORY_DAYS); default 90. */
  historyDays?: number;
  /** Days of partitions made ahead of today; default 3. */
  partitionsAhead?: number;
  /** The clock (ms), for the partitions made at start. */
  now?: number;
}

export interface History {
  readonly db: Db;
  readonly schema: string;
  readonly historyDays: number;
  /** Writes a batch of events, one transaction; see archive.ts. */
  archiveBatch(events: readonly HistoryEvent[], now?: number): Promise<ArchiveResult>;
  /** Makes today's and the coming days' partitions, drops those past the retention (run it daily, or hourly). */
  maintainPartitions(now?: number): Promise<PartitionChanges>;
  getNotification(tenant: string, id: string): Promise<StoredNotification | null>;
  search(tenant: string, filter: SearchFilter): Promise<SearchPage>;
  stats(tenant: string, query: StatsQuery): Promise<StatsRow[]>;
  /** Closes the database. */
  close(): Promise<void>;
}

export async function createHistory(opts: HistoryOptions): Promise<History> {
  const { db } = opts;
  const t = tables(opts.schema ?? DEFAULT_SCHEMA);
  const historyDays = opts.historyDays ?? 90;
  const ahead = opts.partitionsAhead ?? 3;
  if (!(Number.isInteger(historyDays) && historyDays >= 1)) throw new Error('historyDays must be a whole number of days, at least 1');
  await migrate(db, t.schema);
  const ctx = { db, tables: t, historyDays, knownDays: new Set<number>() };
  const maintain = async (now = Date.now()) => {
    const changes = await maintainPartitions(db, t, now, historyDays, ahead);
    ctx.knownDays.clear();
    for (const d of changes.ready) ctx.knownDays.add(d);
    return changes;
  };
  await maintain(opts.now);
  return {
    db, schema: t.schema, historyDays,
    archiveBatch: (events, now) => archiveBatch(ctx, events, now),
    maintainPartitions: maintain,
    getNotification: (tenant, id) => getNotification(db, t, tenant, id),
    search: (tenant, filter) => search(db, t, tenant, filter),
    stats: (tenant, query) => stats(db, t, tenant, query),
    close: () => db.close(),
  };
}

/** Opens the database `DATABASE_URL` names, or the embedded one in `dataDir`, and the history in it. */
export async function openHistory(db: DbOptions, opts: Omit<HistoryOptions, 'db'> = {}): Promise<History> {
  const conn = await openDb(db);
  try {
    return await createHistory({ ...opts, db: conn });
  } catch (err) {
    await conn.close();
    throw err;
  }
}
