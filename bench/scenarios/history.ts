// history: what the notification log (status event stream → archiver → PostgreSQL) costs and whether it keeps up.
//   1. the end-to-end maximum with the history off, then on (same workload, same run): the ratio;
//   2. with it on: events appended vs archived per second at that maximum, the event stream's lag at 50 % of it;
//   3. Redis bytes per notification once everything is archived and past NOTIFY_HOT_RETENTION_MS (short here), with
//      what is left by key pattern.
// Needs PostgreSQL (--database-url, default the local test database); its tables go to a schema of their own, dropped
// at the end.
import { Redis } from 'ioredis';
import type { Ctx } from '../lib/context.js';
import { closedLoop, openLoop, polled } from '../lib/producers.js';
import { sleep } from '../lib/proc.js';
import { KEYS } from '../lib/workload.js';
import { ours, runSystem } from './end-to-end.js';

const ARCHIVE_GROUP = 'archiver';
/** Short, so the steady state past it is reached within the run. */
const HOT_RETENTION_MS = 3_000;

export async function history(ctx: Ctx): Promise<void> {
  const { o } = ctx;
  const schema = `bench_history_${process.pid}`;
  const on = {
    ...o.serviceEnv, NOTIFY_HISTORY: 'on', DATABASE_URL: o.databaseUrl, NOTIFY_HISTORY_SCHEMA: schema,
    NOTIFY_HOT_RETENTION_MS: String(HOT_RETENTION_MS),
  };
  try {
    await runSystem(ctx, ours(ctx, { name: 'ours-history-off', what: 'history off', env: o.serviceEnv }), []);
    const off = ctx.results.at(-1)!;
    await runSystem(ctx, ours(ctx, { name: 'ours-history-on', what: 'history on (archiver → PostgreSQL)', env: on }), []);
    const withIt = ctx.results.at(-1)!;
    ctx.results.push({
      key: 'history.on-off', scenario: 'history', system: 'ours', what: 'end-to-end maximum, history on ÷ off (goal ≥ 0.9)',
      value: withIt.value / off.value, unit: 'ratio', extra: { offPerS: Math.round(off.value), onPerS: Math.round(withIt.value) },
    });
    await steady(ctx, on, withIt.value);
  } finally {
    await dropSchema(o.databaseUrl, schema);
  }
}

async function steady(ctx: Ctx, env: Record<string, string>, maxPerS: number): Promise<void> {
  const { o } = ctx;
  await ctx.fresh();
  const sys = ours(ctx, { name: 'ours-history-steady', what: 'history on', env });
  const running = await sys.start();
  const redis = ctx.redis.client;
  const prog = { ok: 0, answered: 0 };
  const poll = polled(async () => Object.assign(prog, await sys.progress()).ok, 50);
  try {
    const mem0 = await ctx.redis.usedMemory();
    let next = 0;
    // At the maximum: events appended and archived per second (the archiver keeps up when they match).
    const loop = closedLoop(sys.send, () => prog.answered / sys.perItem, { window: Math.min(o.window, 5_000), chunk: 200 });
    await sleep(o.warmup * 1000);
    const a0 = await eventCounts(redis);
    const d0 = (await sys.progress()).ok;
    const t0 = performance.now();
    await sleep(o.duration * 1000);
    const a1 = await eventCounts(redis);
    const d1 = (await sys.progress()).ok;
    const s = (performance.now() - t0) / 1000;
    await loop.stop();
    next += loop.sent;
    ctx.results.push({
      key: 'history.archiver.max', scenario: 'history', system: 'ours', what: 'events archived per second at the end-to-end maximum',
      value: (a1.archived - a0.archived) / s, unit: 'events/s',
      extra: { appendedPerS: Math.round((a1.added - a0.added) / s), deliveriesPerS: Math.round((d1 - d0) / s), lagAtEnd: a1.added - a1.archived },
    });
    await until(async () => { const c = await eventCounts(redis); return c.added === c.archived; }, 120_000);

    // At 50 % of the maximum: how far the archiver is behind, sampled.
    const rate = Math.max(1, (0.5 * maxPerS) / sys.perItem);
    const producer = openLoop(sys.send, { rate, start: next, chunk: Math.max(1, Math.min(200, Math.ceil(rate / 200))) });
    const lags: number[] = [];
    const until50 = performance.now() + o.rateDuration * 1000;
    while (performance.now() < until50) {
      const c = await eventCounts(redis);
      lags.push(c.added - c.archived);
      await sleep(250);
    }
    await producer.stop();
    next += producer.sent;
    lags.sort((a, b) => a - b);
    ctx.results.push({
      key: 'history.lag.50', scenario: 'history', system: 'ours', what: 'event stream lag (events not yet archived) at 50 % of the maximum, max of samples',
      value: lags.at(-1) ?? 0, unit: 'events', extra: { medianLag: lags[Math.floor(lags.length / 2)] ?? 0, samples: lags.length, offeredPerS: Math.round(rate * sys.perItem) },
    });

    // Past the hot retention: only what stays in Redis per notification.
    await until(async () => (await sys.progress()).answered >= next * sys.perItem, 60_000);
    await until(async () => { const c = await eventCounts(redis); return c.added === c.archived; }, 120_000);
    await sleep(HOT_RETENTION_MS + 6_000); // + a trimmer pass (every 5 s)
    const left = await scanAll(redis); // touching each key expires those past their time
    const mem1 = await ctx.redis.usedMemory();
    ctx.results.push({
      key: 'history.redis-bytes', scenario: 'history', system: 'ours', what: `Redis bytes per notification past the hot retention (goal ≤ 100 B)`,
      value: (mem1 - mem0) / next, unit: 'B/notif',
      extra: { notifications: next, usedMemoryGrowthMB: Math.round((mem1 - mem0) / 1e5) / 10, keysLeft: left.total, byPattern: left.top },
    });
  } finally {
    poll.stop();
    await running.stop();
  }
}

/** Events appended to the stream so far, and those the archiver has acknowledged. */
async function eventCounts(redis: Redis): Promise<{ added: number; archived: number }> {
  const info = flat(await redis.call('XINFO', 'STREAM', KEYS.events).catch(() => []) as unknown[]);
  const groups = (await redis.call('XINFO', 'GROUPS', KEYS.events).catch(() => [])) as unknown[][];
  const g = groups.map(flat).find((x) => x.name === ARCHIVE_GROUP);
  return { added: Number(info['entries-added'] ?? 0), archived: g ? Number(g['entries-read'] ?? 0) - Number(g.pending ?? 0) : 0 };
}

const flat = (a: unknown[]): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = a[i + 1];
  return out;
};

/** Every key (expiring those past their time), counted by pattern (ids and numbers as *); the five biggest groups. */
async function scanAll(redis: Redis): Promise<{ total: number; top: string }> {
  const counts = new Map<string, number>();
  let cursor = '0';
  let total = 0;
  do {
    const [c, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = c;
    const pipe = redis.pipeline();
    for (const k of keys) pipe.exists(k);
    const alive = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      if (alive[i]?.[1] !== 1) return;
      total++;
      const pattern = k.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '*').replace(/:u\d+/g, ':u*').replace(/\d{3,}/g, '*');
      counts.set(pattern, (counts.get(pattern) ?? 0) + 1);
    });
  } while (cursor !== '0');
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([p, n]) => `${p} ${n}`).join(', ');
  return { total, top };
}

async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !(await done())) await sleep(200);
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch {
    // Nothing was made (PostgreSQL down): nothing to drop.
  } finally {
    await client.end().catch(() => undefined);
  }
}

