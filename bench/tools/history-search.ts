// Search latency over a large archived history (issue: "search p99 over 10 M archived deliveries").
//   node --import tsx bench/tools/history-search.ts [--deliveries N] [--users N] [--days N] [--queries N] [--keep]
// Generates a history in a schema of its own in DATABASE_URL's PostgreSQL (default the local test database): N / 2
// notifications with two deliveries each (push and email), spread over the last --days days, one tenant, --users
// users; then times the service's own search (src/history queries) for user_id and for status + since, and prints
// p50 / p99 / max (stats, an aggregate over a day, 10 times only). The schema is dropped at the end unless --keep.
import { parseArgs } from 'node:util';
import { createHistory, openDb } from '../../src/history/index.js';
import { DAY_MS } from '../../src/history/partitions.js';
import { percentile } from '../lib/stats.js';

const { values: v } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '10000000' }, users: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '10' }, queries: { type: 'string', default: '300' }, keep: { type: 'boolean', default: false },
  },
});
const DELIVERIES = Number(v.deliveries);
const USERS = Number(v.users);
const DAYS = Number(v.days);
const QUERIES = Number(v.queries);
const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `bench_search_${process.pid}`;
const TENANT = 'bench';
const CHUNK = 500_000;

const log = (s: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

async function main(): Promise<void> {
  const now = Date.now();
  const db = await openDb({ url: URL });
  const history = await createHistory({ db, schema: SCHEMA, now: now - (DAYS - 1) * DAY_MS });
  try {
    for (let d = DAYS - 2; d >= 0; d--) await history.maintainPartitions(now - d * DAY_MS);
    const notifications = Math.ceil(DELIVERIES / 2);
    const t0 = performance.now();
    // Times spread evenly over the window, newest last; statuses 90 % sent, 5 % failed, 5 % not_sent.
    for (let from = 0; from < notifications; from += CHUNK) {
      const to = Math.min(notifications, from + CHUNK) - 1;
      await db.query(`
        WITH g AS (
          SELECT i, to_timestamp(($1::float8 - $2::float8 * (${notifications} - i) / ${notifications}) / 1000) AS at,
                 'u' || ((i * 7919) % ${USERS}) AS user_id,
                 CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 20 = 1 THEN 'not_sent' ELSE 'sent' END AS status
          FROM generate_series(${from}::bigint, ${to}::bigint) AS i
        ), n AS (
          INSERT INTO ${SCHEMA}.notifications (tenant, id, created_at, meta, category, template, status, updated_at)
          SELECT '${TENANT}', 'n' || i, at, '{"tenant":"${TENANT}"}'::jsonb, 'orders', 'bench', status, at FROM g
        )
        INSERT INTO ${SCHEMA}.deliveries (tenant, notification_id, key, created_at, user_id, channel, provider, to_masked, status, record, updated_at)
        SELECT '${TENANT}', 'n' || i, user_id || ':' || ch, at, user_id, ch, CASE ch WHEN 'push' THEN 'apns' ELSE 'ses' END, 'm***',
               CASE WHEN status = 'not_sent' THEN 'opted_out' ELSE status END, '{}'::jsonb, at
        FROM g CROSS JOIN (VALUES ('push'), ('email')) AS c(ch)`, [now, (DAYS - 1) * DAY_MS]);
      log(`generated ${Math.min(notifications, to + 1).toLocaleString('en')} notifications (${Math.round((performance.now() - t0) / 1000)} s)`);
    }
    await db.query(`ANALYZE ${SCHEMA}.notifications`);
    await db.query(`ANALYZE ${SCHEMA}.deliveries`);
    const size = await db.query<{ n: string; d: string }>(`SELECT (SELECT count(*) FROM ${SCHEMA}.notifications) AS n, (SELECT count(*) FROM ${SCHEMA}.deliveries) AS d`);
    log(`history: ${size.rows[0]!.n} notifications, ${size.rows[0]!.d} deliveries, generated in ${Math.round((performance.now() - t0) / 1000)} s`);

    const time = async (name: string, run: (i: number) => Promise<number>, queries = QUERIES) => {
      const ms: number[] = [];
      let found = 0;
      for (let i = 0; i < queries; i++) {
        const s = performance.now();
        found += await run(i);
        ms.push(performance.now() - s);
      }
      ms.sort((a, b) => a - b);
      const f = (x: number) => x.toFixed(1);
      log(`${name}: ${queries} queries, p50 ${f(percentile(ms, 50))} ms, p99 ${f(percentile(ms, 99))} ms, max ${f(ms.at(-1)!)} ms, ${(found / queries).toFixed(1)} rows each`);
    };
    const user = (i: number) => `u${(i * 104_729) % USERS}`;
    await time('user_id (first page of 50)', async (i) => (await history.search(TENANT, { user_id: user(i), limit: 50 })).notifications.length);
    await time('user_id + channel=email', async (i) => (await history.search(TENANT, { user_id: user(i), channel: 'email', limit: 50 })).notifications.length);
    await time('status=failed + since (last 24 h)', async () => (await history.search(TENANT, { status: 'failed', since: now - DAY_MS, limit: 50 })).notifications.length);
    await time('status=failed + since, page 2', async () => {
      const first = await history.search(TENANT, { status: 'failed', since: now - DAY_MS, limit: 50 });
      return (await history.search(TENANT, { status: 'failed', since: now - DAY_MS, limit: 50, ...(first.next_cursor && { cursor: first.next_cursor }) })).notifications.length;
    });
    await time('stats by channel (last 24 h)', async () => (await history.stats(TENANT, { from: now - DAY_MS, to: now, group_by: 'channel' })).length, Math.min(QUERIES, 10));
  } finally {
    if (!v.keep) await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await history.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
