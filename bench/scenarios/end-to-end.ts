// end-to-end: from accept to receipt at the fake provider, for the service and, side by side, the baselines:
//   bare-ceiling  XADD → XREADGROUP → multi-ID XACK, no work;
//   bare-minimum  XADD → XREADGROUP → APNs adapter send to the same fake → XACK;
//   bullmq        the same pipeline as the service, built with BullMQ.
// Each runs closed-loop at its maximum (a bounded backlog), then open-loop at fixed % of that maximum for latency.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Ctx, Measurement, RedisTarget } from '../lib/context.js';
import { closedLoop, openLoop, polled, type SendFn } from '../lib/producers.js';
import { spawnNode, sleep, type Proc } from '../lib/proc.js';
import { startService } from '../lib/service.js';
import { BENCH_TENANT } from '../lib/service.js';
import { startOtlpSink } from '../lib/otlp-sink.js';
import { memorySummary } from '../lib/stats.js';
import { CHECK_CAP, deliveriesPer, notificationBody, tokenOf, userId, xaddPayload, type Workload } from '../lib/workload.js';
import { BULL_PREFIX, INGEST_JOB_OPTIONS, INGEST_QUEUE, bullConnection, type IngestJob } from '../baselines/bullmq/shared.js';

const BARE_STREAM = 'bare:in';

export interface SystemUnderTest {
  name: string;
  what: string;
  /** Deliveries one item makes. */
  perItem: number;
  start(): Promise<{ pids: Record<string, number>; stop(): Promise<void> }>;
  send: SendFn;
  /** Cumulative successful deliveries, and every answered attempt (drives the closed loop). */
  progress(): Promise<{ ok: number; answered: number }>;
  /** The fakes' latency probe sees this system's messages. */
  timed: boolean;
  /** Where its state is, when not the bench's redis-server: seeded there by ctx.fresh, and its used_memory sampled. */
  redis?: RedisTarget;
}

export async function endToEnd(ctx: Ctx): Promise<void> {
  const { o } = ctx;
  const systems = [ours(ctx)];
  if (o.baselines) systems.push(bullmq(ctx), bare(ctx, 'minimum'), bare(ctx, 'ceiling'));
  for (const sys of systems) await runSystem(ctx, sys, sys.name === 'ours' ? o.rates : [50]);
  if (o.variants) await variants(ctx);
}

/** What the per-user checks and tracing cost: the service's maximum with checks off, and with tracing at 1 % and 100 %. */
async function variants(ctx: Ctx): Promise<void> {
  const sink = await startOtlpSink();
  const { NOTIFY_RATE_LIMITS: _caps, ...noCaps } = ctx.o.serviceEnv;
  const tracing = (ratio: number) => ({ NOTIFY_TRACING: 'on', NOTIFY_TRACE_SAMPLE_RATIO: String(ratio), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
  const list: Variant[] = [
    ...(ctx.workload.checks ? [{ name: 'ours-checks-off', what: 'checks off', workload: { ...ctx.workload, checks: false }, env: noCaps }] : []),
    { name: 'ours-trace-1pct', what: 'tracing on, 1 % sampled', env: { ...ctx.o.serviceEnv, ...tracing(0.01) } },
    { name: 'ours-trace-100pct', what: 'tracing on, every notification', env: { ...ctx.o.serviceEnv, ...tracing(1) } },
  ];
  try {
    for (const v of list) {
      const before = sink.spans();
      await runSystem(ctx, ours(ctx, v), []);
      const m = ctx.results.at(-1)!;
      m.extra = { ...m.extra, spansExported: sink.spans() - before };
    }
  } finally {
    await sink.close();
  }
}

export async function runSystem(ctx: Ctx, sys: SystemUnderTest, ratesPct: number[]): Promise<void> {
  const { o } = ctx;
  await ctx.fresh(sys.redis);
  const redis = sys.redis ?? ctx.target;
  const running = await sys.start();
  const prog = { ok: 0, answered: 0 };
  const refresh = async () => Object.assign(prog, await sys.progress());
  const poll = polled(async () => (await refresh()).ok, 50);
  const itemsDone = () => prog.answered / sys.perItem;
  let next = 0;
  const drain = async (timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && (await refresh()).answered < next * sys.perItem) await sleep(50);
  };
  try {
    // Warm-up, then the maximum with a bounded backlog: about 5 s of work at the warm-up's rate (at least 5,000,
    // at most --window), so a slow system is not buried under a backlog it needs minutes to drain.
    const mem0 = await redis.usedMemory();
    const w0 = (await refresh()).answered;
    const warm = closedLoop(sys.send, itemsDone, { window: Math.min(o.window, 2_000), chunk: 200, start: next });
    const tw = performance.now();
    await sleep(Math.max(1, o.warmup) * 1000);
    const warmRate = (((await refresh()).answered - w0) * 1000) / (performance.now() - tw) / sys.perItem;
    await warm.stop();
    next += warm.sent;
    const window = Math.max(5_000, Math.min(o.window, Math.round(5 * warmRate)));
    const phase = `end-to-end/${sys.name}/max`;
    const loop = closedLoop(sys.send, itemsDone, { window, chunk: 200, start: next });
    const sampled = { unit: 'deliv', counter: () => prog.ok, procs: running.pids, ...(sys.redis && { redisUsedMemory: () => redis.usedMemory() }) };
    await ctx.sampler.beginPhase({ name: phase, ...sampled });
    const c0 = (await refresh()).ok;
    const t0 = performance.now();
    await sleep(o.duration * 1000);
    const c1 = (await refresh()).ok;
    const max = ((c1 - c0) * 1000) / (performance.now() - t0);
    await loop.stop();
    next += loop.sent;
    await drain(o.quick ? 10_000 : 30_000);
    ctx.sampler.endPhase();
    const mem1 = await redis.usedMemory();
    const samples = ctx.sampler.of(phase);
    ctx.results.push({
      key: `end-to-end.${sys.name}.max`, scenario: 'end-to-end', system: sys.name, what: `${sys.what}: maximum`,
      value: max, unit: 'deliv/s', phase,
      extra: {
        perNotification: sys.perItem, window,
        peakRssMB: Math.max(0, ...samples.flatMap((s) => Object.entries(s.rss).filter(([n]) => n in running.pids).map(([, v]) => v))),
        peakRssSumMB: memorySummary(samples, running.pids).peakRssMB,
        redisPeakMB: Math.max(0, ...samples.map((s) => s.redisUsedMB)),
        // Records stay for their retention (NOTIFY_RETENTION_DAYS), so this is what each notification adds to Redis.
        redisBytesPerNotification: Math.round((mem1 - mem0) / Math.max(1, next)),
      },
    });

    for (const pct of ratesPct) {
      const rate = Math.max(1, ((pct / 100) * max) / sys.perItem);
      const rphase = `end-to-end/${sys.name}/${pct}%`;
      const producer = openLoop(sys.send, { rate, start: next, chunk: Math.max(1, Math.min(200, Math.ceil(rate / 200))) });
      await sleep(Math.min(1000, o.warmup * 1000));
      if (sys.timed) await ctx.fakes.resetLatency();
      await ctx.sampler.beginPhase({ name: rphase, ...sampled });
      const r0 = (await refresh()).ok;
      const t1 = performance.now();
      await sleep(o.rateDuration * 1000);
      const achieved = (((await refresh()).ok - r0) * 1000) / (performance.now() - t1);
      const behind = producer.behind;
      await producer.stop();
      next += producer.sent;
      await drain(o.quick ? 5_000 : 15_000);
      ctx.sampler.endPhase();
      const lat = sys.timed ? await ctx.fakes.latency() : undefined;
      // Memory at a fixed rate: with --rate-duration 600, the issue's "no growth over a 10-minute run".
      const mem = memorySummary(ctx.sampler.of(rphase), running.pids);
      const m: Measurement = {
        key: `end-to-end.${sys.name}.${pct}`, scenario: 'end-to-end', system: sys.name, what: `${sys.what}: offered ${pct} % of max`,
        value: achieved, unit: 'deliv/s', phase: rphase,
        extra: {
          offeredPerS: Math.round(rate * sys.perItem), producerBehind: behind, phaseS: o.rateDuration,
          rssStartMB: mem.rssStartMB, peakRssMB: mem.peakRssMB, endRssMB: mem.endRssMB, rssLevelsOff: mem.rssLevelsOff,
          redisStartMB: mem.redisStartMB, redisEndMB: mem.redisEndMB,
        },
      };
      if (lat) m.latency = { count: lat.count, p50: lat.p50, p90: lat.p90, p95: lat.p95, p99: lat.p99, p999: lat.p999, max: lat.max, mean: lat.mean, points: lat.points };
      ctx.results.push(m);
    }
  } finally {
    poll.stop();
    await running.stop();
  }
}

export const fakeProgress = (ctx: Ctx) => async () => {
  const s = await ctx.fakes.stats();
  let ok = 0;
  let answered = 0;
  for (const p of Object.values(s)) {
    ok += p.accepted;
    answered += p.accepted + p.errored + p.dropped;
  }
  return { ok, answered };
};

export interface Variant {
  name: string;
  what: string;
  workload?: Workload;
  env: Record<string, string>;
  /** Runs once the service answers, before any load (e.g. to set webhook endpoints up through its API). */
  onStarted?: (url: string) => Promise<void>;
  /** Run against this Redis (a cluster) instead of the bench's redis-server. */
  redis?: RedisTarget;
}

export function ours(ctx: Ctx, variant?: Variant): SystemUnderTest {
  const { o } = ctx;
  const w = variant?.workload ?? ctx.workload;
  const target = variant?.redis ?? ctx.target;
  const producer = target.connect();
  const base = `service (${o.workers > 0 ? `${o.workers} workers` : 'role all'}${w.checks ? '' : ', checks off'}), XADD → fake`;
  return {
    name: variant?.name ?? 'ours', what: variant ? `${base}, ${variant.what}` : base,
    perItem: deliveriesPer(w), timed: true, ...(variant?.redis && { redis: variant.redis }),
    async start() {
      const svc = await startService({
        redisUrl: target.url, ...(target.clusterNodes && { redisClusterNodes: target.clusterNodes }),
        fakesUrl: ctx.fakes.info.httpUrl, workers: o.workers, env: variant?.env ?? o.serviceEnv, nodeFlags: o.nodeFlags,
        ...(o.cpuProf && { cpuProfDir: `${ctx.outDir}/profiles/end-to-end` }),
      });
      if (producer.status === 'wait') await producer.connect();
      if (variant?.onStarted) await variant.onStarted(svc.url!).catch(async (err: unknown) => (await svc.stop(), Promise.reject(err)));
      const pids = Object.fromEntries(svc.procs.map((p) => [p.name, p.pid]));
      return { pids, stop: async () => (producer.disconnect(), await svc.stop()) };
    },
    async send(first, n, bt) {
      const pipe = producer.pipeline();
      for (let i = first; i < first + n; i++) pipe.xadd(target.keys.ingest, '*', 'payload', xaddPayload(w, i, bt));
      await pipe.exec();
    },
    progress: fakeProgress(ctx),
  };
}

function bullmq(ctx: Ctx): SystemUnderTest {
  const { o, workload: w } = ctx;
  let queue: Queue<IngestJob> | undefined;
  return {
    name: 'bullmq', what: 'BullMQ pipeline, addBulk → fake', perItem: deliveriesPer(w), timed: true,
    async start() {
      const proc = spawnNode('bullmq', 'bench/baselines/bullmq/worker.ts', [
        '--redis', ctx.redis.url, '--fakes', ctx.fakes.info.httpUrl,
        '--ingest-concurrency', String(o.bullIngestConcurrency), '--send-concurrency', String(o.bullSendConcurrency),
        ...(w.checks ? ['--user-cap', `${CHECK_CAP.limit}/${CHECK_CAP.windowMs}`] : []),
      ], { nodeFlags: o.nodeFlags });
      await proc.waitFor((l) => l.msg === 'ready', 60_000).catch(async (err) => {
        await proc.stop();
        throw err;
      });
      const conn = bullConnection(ctx.redis.url);
      queue = new Queue<IngestJob>(INGEST_QUEUE, { connection: conn, prefix: BULL_PREFIX, defaultJobOptions: INGEST_JOB_OPTIONS });
      return {
        pids: { bullmq: proc.pid },
        stop: async () => {
          await queue?.close();
          conn.disconnect();
          await proc.stop();
        },
      };
    },
    async send(first, n, bt) {
      const jobs = [];
      for (let i = first; i < first + n; i++) {
        jobs.push({ name: 'notify', data: { tenant: BENCH_TENANT, ...notificationBody(w, i, bt) } as unknown as IngestJob });
      }
      await queue!.addBulk(jobs);
    },
    progress: fakeProgress(ctx),
  };
}

function bare(ctx: Ctx, mode: 'minimum' | 'ceiling'): SystemUnderTest {
  const { o, workload: w } = ctx;
  const producer = new Redis(ctx.redis.url, { lazyConnect: true });
  let proc: Proc | undefined;
  return {
    name: `bare-${mode}`,
    what: mode === 'minimum' ? 'XREADGROUP → APNs SDK send → XACK' : 'XREADGROUP → XACK, no work',
    perItem: 1, timed: mode === 'minimum',
    async start() {
      proc = spawnNode(`bare-${mode}`, 'bench/baselines/bare-stream.ts', [
        '--mode', mode, '--redis', ctx.redis.url, '--stream', BARE_STREAM, '--fakes', ctx.fakes.info.httpUrl,
      ], { nodeFlags: o.nodeFlags });
      await proc.waitFor((l) => l.msg === 'ready', 60_000);
      if (producer.status === 'wait') await producer.connect();
      return { pids: { [`bare-${mode}`]: proc.pid }, stop: async () => (producer.disconnect(), void (await proc!.stop())) };
    },
    async send(first, n, bt) {
      const pipe = producer.pipeline();
      for (let i = first; i < first + n; i++) pipe.xadd(BARE_STREAM, '*', 'token', tokenOf(i % w.users, 'ios'), 'bt', bt, 'user', userId(i % w.users));
      await pipe.exec();
    },
    progress: mode === 'minimum' ? fakeProgress(ctx) : async () => {
      const acked = await groupAcked(ctx.redis.client, BARE_STREAM, 'bare');
      return { ok: acked, answered: acked };
    },
  };
}

/** Entries the group has read and acknowledged (XINFO GROUPS: entries-read − pending). */
export async function groupAcked(redis: Redis, stream: string, group: string): Promise<number> {
  const groups = (await redis.call('XINFO', 'GROUPS', stream).catch(() => [])) as unknown[][];
  for (const g of groups) {
    const f: Record<string, unknown> = {};
    for (let i = 0; i < g.length; i += 2) f[String(g[i])] = g[i + 1];
    if (f.name === group) return Number(f['entries-read'] ?? 0) - Number(f.pending ?? 0);
  }
  return 0;
}
