// fairness: what a burst from one tenant does to another tenant's latency. Tenant `bench` sends single notifications
// at a fixed modest rate (open loop, XADD per the README contract); tenant `burst` XADDs --burst recipients at once
// (entries of 1000 recipients each, the most a POST may name). The fakes' latency probe sees only `bench`'s messages
// (the burst's carry no bench timestamp), so the p99 is the second tenant's alone: first without the burst, then with it.
import { Redis } from 'ioredis';
import type { Ctx } from '../lib/context.js';
import { openLoop, type SendFn } from '../lib/producers.js';
import { sleep } from '../lib/proc.js';
import { BENCH_KEY, BENCH_TENANT, startService } from '../lib/service.js';
import { DEVICE_FIELD_PREFIX, PROFILE_FIELD, type Device } from '../../src/domain/user.js';
import { TemplateStore } from '../../src/store/templates.js';
import { deliveriesPer, emailOf, KEYS, phoneOf, platformOf, TEMPLATE, TEMPLATE_PARTS, tokenOf, xaddPayload } from '../lib/workload.js';

export const BURST_TENANT = 'burst';
const BURST_KEY = 'burst-key-0123456789abcdef';
const PER_ENTRY = 1000;

/** The burst tenant's users (`b<i>`), one device each as in the workload, and its copy of the template. */
async function seedBurstTenant(redis: Redis, ctx: Ctx, n: number): Promise<void> {
  const w = ctx.workload;
  const iso = new Date().toISOString();
  for (let start = 0; start < n; start += 2000) {
    const pipe = redis.pipeline();
    for (let i = start; i < Math.min(n, start + 2000); i++) {
      const platform = platformOf(w, i);
      const token = tokenOf(1_000_000 + i, platform);
      const device: Device = { token, platform, active: true, registered_at: Date.now() };
      pipe.hset(KEYS.user(BURST_TENANT, `b${i}`),
        PROFILE_FIELD, JSON.stringify({ email: emailOf(1_000_000 + i), phone: phoneOf(1_000_000 + i), created_at: iso, updated_at: iso }),
        DEVICE_FIELD_PREFIX + token, JSON.stringify(device));
    }
    await pipe.exec();
  }
  await new TemplateStore(redis, KEYS).put(BURST_TENANT, TEMPLATE, TEMPLATE_PARTS);
}

export async function fairness(ctx: Ctx): Promise<void> {
  const { o, workload: w } = ctx;
  await ctx.fresh();
  const redis = new Redis(ctx.redis.url);
  await seedBurstTenant(redis, ctx, o.burst);
  const svc = await startService({
    redisUrl: ctx.redis.url, fakesUrl: ctx.fakes.info.httpUrl, workers: o.workers, nodeFlags: o.nodeFlags,
    env: { ...o.serviceEnv, NOTIFY_API_KEYS: `${BENCH_TENANT}:${BENCH_KEY},${BURST_TENANT}:${BURST_KEY}` },
    ...(o.cpuProf && { cpuProfDir: `${ctx.outDir}/profiles/fairness` }),
  });
  const pids = Object.fromEntries(svc.workerProcs.map((p) => [p.name, p.pid]));
  const send: SendFn = async (first, n, bt) => {
    const pipe = redis.pipeline();
    for (let i = first; i < first + n; i++) pipe.xadd(KEYS.ingest, '*', 'payload', xaddPayload(w, i, bt));
    await pipe.exec();
  };
  const rate = o.fairnessRate;
  const perItem = deliveriesPer(w);
  const burstDeliveries = o.burst * perItem;
  let next = 0;
  try {
    // Warm-up at the same rate (JIT, connections), not measured.
    const warm = openLoop(send, { rate, start: next, chunk: 10 });
    await sleep(o.warmup * 1000);
    await warm.stop();
    next += warm.sent;
    await sleep(500);

    // Without the burst.
    await ctx.fakes.resetLatency();
    const alonePhase = 'fairness/alone';
    await ctx.sampler.beginPhase({ name: alonePhase, unit: 'deliv', counter: () => ctx.fakes.accepted(), procs: pids });
    const alone = openLoop(send, { rate, start: next, chunk: 10 });
    await sleep(o.duration * 1000);
    await alone.stop();
    next += alone.sent;
    await sleep(1000);
    ctx.sampler.endPhase();
    const lat0 = await ctx.fakes.latency();

    // With the burst: the same load, and after 1 s the whole burst at once; measured until the burst is delivered.
    await ctx.fakes.resetLatency();
    const before = await ctx.fakes.accepted();
    const withPhase = 'fairness/with-burst';
    await ctx.sampler.beginPhase({ name: withPhase, unit: 'deliv', counter: () => ctx.fakes.accepted(), procs: pids });
    const during = openLoop(send, { rate, start: next, chunk: 10 });
    await sleep(1000);
    const tBurst = performance.now();
    const pipe = redis.pipeline();
    for (let start = 0; start < o.burst; start += PER_ENTRY) {
      const to = Array.from({ length: Math.min(PER_ENTRY, o.burst - start) }, (_, i) => ({ user_id: `b${start + i}` }));
      // No bench timestamp (no `_bt`, an empty marker): the probe does not count the burst's own messages.
      pipe.xadd(KEYS.ingest, '*', 'payload', JSON.stringify({
        tenant: BURST_TENANT, to, channels: w.channels, template: TEMPLATE, params: { name: 'Burst', order: '#1', bt: '', pad: '' },
      }));
    }
    await pipe.exec();
    // Done when the burst and the second tenant's messages so far have all arrived (bounded in time).
    const deadline = performance.now() + o.backlogTimeout * 1000;
    let burstS = NaN;
    while (performance.now() < deadline) {
      const got = (await ctx.fakes.accepted()) - before;
      // The second tenant's last second of sends may still be on their way.
      if (got >= burstDeliveries + Math.max(0, during.sent - rate) * perItem) {
        burstS = (performance.now() - tBurst) / 1000;
        break;
      }
      await sleep(100);
    }
    await sleep(1000);
    await during.stop();
    next += during.sent;
    await sleep(1000);
    ctx.sampler.endPhase();
    const lat1 = await ctx.fakes.latency();

    const lat = (l: typeof lat0) => ({ count: l.count, p50: l.p50, p90: l.p90, p95: l.p95, p99: l.p99, p999: l.p999, max: l.max, mean: l.mean, points: l.points });
    ctx.results.push({
      key: 'fairness.ours.alone', scenario: 'fairness', system: 'ours', what: `tenant 2 at ${rate}/s, no burst`,
      value: rate * perItem, unit: 'deliv/s', latency: lat(lat0), phase: alonePhase, extra: { phaseS: o.duration },
    });
    ctx.results.push({
      key: 'fairness.ours.burst', scenario: 'fairness', system: 'ours', what: `tenant 2 at ${rate}/s, ${o.burst.toLocaleString('en-US')}-recipient burst from tenant 1`,
      value: rate * perItem, unit: 'deliv/s', latency: lat(lat1), phase: withPhase,
      extra: { burstRecipients: o.burst, burstDeliveredS: Number.isNaN(burstS) ? 'timed out' : Math.round(burstS * 100) / 100 },
    });
    ctx.log(`  fairness: tenant 2 p99 ${lat0.p99.toFixed(1)} ms alone, ${lat1.p99.toFixed(1)} ms with a ${o.burst}-recipient burst from tenant 1 ` +
      `(max ${lat1.max.toFixed(0)} ms; the burst delivered in ${Number.isNaN(burstS) ? 'timed out' : `${burstS.toFixed(1)} s`})`);
  } finally {
    redis.disconnect();
    await svc.stop();
  }
}
