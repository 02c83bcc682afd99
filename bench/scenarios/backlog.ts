// backlog: pre-fill the ingest stream (pipelined XADD, the README contract), then start the workers and measure how
// fast they drain it, with the workers' RSS and Redis used_memory sampled as it drains (both should level off).
import { Redis } from 'ioredis';
import type { Ctx } from '../lib/context.js';
import { sleep } from '../lib/proc.js';
import { startService } from '../lib/service.js';
import { median, memorySummary } from '../lib/stats.js';
import { deliveriesPer, KEYS, xaddPayload } from '../lib/workload.js';
import { stamp } from '../lib/producers.js';

export async function backlog(ctx: Ctx): Promise<void> {
  const { o, workload: w } = ctx;
  await ctx.fresh();
  const n = o.backlog;
  const expected = n * deliveriesPer(w);

  // Fill, with two pipelined producers.
  const fillStart = performance.now();
  let filled = 0;
  const conns = [new Redis(ctx.redis.url), new Redis(ctx.redis.url)];
  await ctx.sampler.beginPhase({ name: 'backlog/fill', unit: 'entry', counter: () => filled, procs: {} });
  try {
    await Promise.all(conns.map(async (r, p) => {
      for (let start = p * 1000; start < n; start += 2000) {
        const pipe = r.pipeline();
        const bt = stamp();
        for (let i = start; i < Math.min(n, start + 1000); i++) pipe.xadd(KEYS.ingest, '*', 'payload', xaddPayload(w, i, bt));
        await pipe.exec();
        filled += Math.min(n, start + 1000) - start;
      }
    }));
  } finally {
    for (const c of conns) c.disconnect();
  }
  ctx.sampler.endPhase();
  const fillS = (performance.now() - fillStart) / 1000;
  const memFilled = await ctx.redis.usedMemory();
  ctx.log(`  backlog: ${n.toLocaleString('en-US')} entries filled in ${fillS.toFixed(1)} s; Redis used_memory ${(memFilled / 1048576).toFixed(0)} MB`);

  const svc = await startService({ redisUrl: ctx.redis.url, fakesUrl: ctx.fakes.info.httpUrl, workers: o.workers, workersOnly: true, env: o.serviceEnv, nodeFlags: o.nodeFlags, ...(o.cpuProf && { cpuProfDir: `${ctx.outDir}/profiles/backlog` }) });
  const pids = Object.fromEntries(svc.workerProcs.map((p) => [p.name, p.pid]));
  const phase = 'backlog/drain';
  let delivered = 0;
  const t0 = performance.now();
  await ctx.sampler.beginPhase({ name: phase, unit: 'deliv', counter: async () => (delivered = await ctx.fakes.accepted()), procs: pids });
  let timedOut = false;
  try {
    const deadline = t0 + o.backlogTimeout * 1000;
    while ((delivered = await ctx.fakes.accepted()) < expected) {
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      await sleep(200);
    }
    const drainS = (performance.now() - t0) / 1000;
    // A few more samples after the drain, to see memory settle.
    await sleep(Math.min(5_000, o.sampleMs * 4));
    ctx.sampler.endPhase();
    const samples = ctx.sampler.of(phase);
    const mem = memorySummary(samples, pids);
    const rates = samples.map((s) => s.rate).filter((r) => r > 0);
    const streams = await ctx.redis.client.pipeline().xlen(KEYS.ingest).xlen(KEYS.lane('apns')).exec();
    ctx.results.push({
      key: 'backlog.ours.drain', scenario: 'backlog', system: 'ours', what: `drain ${n.toLocaleString('en-US')} pre-filled notifications`,
      value: delivered / drainS, unit: 'deliv/s', phase,
      extra: {
        notifications: n, delivered, timedOut, drainS: Math.round(drainS * 10) / 10, fillPerS: Math.round(n / fillS),
        medianRate: median(rates), peakRssMB: mem.peakRssMB, endRssMB: mem.endRssMB, rssLevelsOff: mem.rssLevelsOff,
        redisFilledMB: Math.round(memFilled / 1048576), redisPeakMB: mem.redisPeakMB, redisEndMB: mem.redisEndMB,
        ingestStreamLen: Number(streams?.[0]?.[1] ?? 0), apnsStreamLen: Number(streams?.[1]?.[1] ?? 0),
      },
    });
  } finally {
    await svc.stop();
  }
}
