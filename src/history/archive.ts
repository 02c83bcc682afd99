// archiveBatch: checks a batch, makes the day partitions it needs, and writes it in one transaction.
import type { Db } from './db.js';
import { checkEvent } from './clean.js';
import type { HistoryEvent } from './events.js';
import { dayStart, ensurePartitions, pastRetention } from './partitions.js';
import { planBatch } from './plan.js';
import type { Tables } from './schema.js';
import { eraseUser, isTerminal, restatus, writeSegment, type Erased, type NotificationRef } from './writer.js';

export interface ArchiveResult {
  /** Events written (or found already written: a re-read batch counts them again). */
  written: number;
  /** Events not written, with why: malformed (never written by this service), or past the retention. */
  skipped: { id: string; error: string }[];
  /** Notifications of the batch whose shown status is terminal now: their Redis record can expire sooner. */
  terminal: { tenant: string; id: string }[];
  /** user_erased events applied. */
  erased: Erased[];
}

export interface ArchiveContext {
  db: Db;
  tables: Tables;
  historyDays: number;
  /** Days (ms) whose partitions this process knows exist; filled as batches make them. */
  knownDays: Set<number>;
}

/** SQLSTATE of "no partition of relation … found for row": a day this process took for made was dropped since. */
const NO_PARTITION = '23514';

/**
 * Archives `events` (in any order; duplicates and re-read events are harmless) in one transaction. A malformed
 * event, or one of a day past the retention, is skipped and reported, and the rest is written; a database error
 * throws, and nothing of the batch is written (the archiver retries it, the events wait in the stream).
 */
export async function archiveBatch(ctx: ArchiveContext, events: readonly HistoryEvent[], now = Date.now()): Promise<ArchiveResult> {
  const skipped: ArchiveResult['skipped'] = [];
  const good: HistoryEvent[] = [];
  for (const ev of events) {
    const c = checkEvent(ev, now);
    if (!c.ok) skipped.push({ id: c.id, error: c.error });
    else if (c.event.kind !== 'user_erased' && pastRetention(c.event.createdAt, now, ctx.historyDays)) {
      skipped.push({ id: c.event.id, error: 'past the history retention' });
    } else good.push(c.event);
  }
  if (good.length === 0) return { written: 0, skipped, terminal: [], erased: [] };
  const days = [...new Set(good.filter((e) => e.kind !== 'user_erased').map((e) => dayStart(e.createdAt)))];
  const segments = planBatch(good);
  const run = async () => {
    const missing = days.filter((d) => !ctx.knownDays.has(d));
    const result = await ctx.db.transaction(async (tx) => {
      await ensurePartitions(tx, ctx.tables, missing);
      const touched: NotificationRef[] = [];
      const erased: Erased[] = [];
      for (const seg of segments) {
        touched.push(...(await writeSegment(tx, ctx.tables, seg)));
        if (seg.erase) {
          const e = await eraseUser(tx, ctx.tables, seg.erase);
          erased.push(e.erased);
          touched.push(...e.kept);
        }
      }
      // Erased notifications are gone: restatus finds no row for them.
      const statuses = await restatus(tx, ctx.tables, touched);
      return { erased, terminal: statuses.filter((s) => isTerminal(s.status)).map(({ tenant, id }) => ({ tenant, id })) };
    });
    for (const d of missing) ctx.knownDays.add(d);
    return result;
  };
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run();
  } catch (err) {
    if ((err as { code?: string }).code !== NO_PARTITION) throw err;
    ctx.knownDays.clear();
    result = await run();
  }
  return { written: good.length, skipped, ...result };
}
