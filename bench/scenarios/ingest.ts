// Ingest scenarios: accepting notifications, with no worker running (what the ingress alone can take).
//   ingest-http:  single POST /v1/notifications over many connections, beside an empty Hono endpoint;
//   ingest-batch: POST /v1/notifications/batch, beside a bare pipelined XADD producer of the same entries;
//   ingest-xadd:  direct pipelined XADD producers of the README's contract payload, beside XADD of a minimal entry.
import { Redis } from 'ioredis';
import type { Ctx } from '../lib/context.js';
import { httpLoad, type HttpLoadResult } from '../lib/http-load.js';
import { spawnNode, sleep } from '../lib/proc.js';
import { BENCH_KEY, startService } from '../lib/service.js';
import { KEYS, notificationBody, xaddPayload } from '../lib/workload.js';
import { stamp } from '../lib/producers.js';

const AUTH = { authorization: `Bearer ${BENCH_KEY}` };

async function measureHttp(ctx: Ctx, phase: string, url: string, body: string, connections: number, pids: Record<string, number>, perRequest = 1): Promise<HttpLoadResult> {
  const { o } = ctx;
  // Warm-up (JIT, connection pools), not measured.
  await httpLoad({ url, body, headers: AUTH, connections, durationS: o.warmup }).done;
  const load = httpLoad({ url, body, headers: AUTH, connections, durationS: o.duration });
  await ctx.sampler.beginPhase({ name: phase, unit: perRequest > 1 ? 'notif' : 'req', counter: () => load.ok * perRequest, procs: pids });
  const r = await load.done;
  ctx.sampler.endPhase();
  if (r.errors > 0 || r.non2xx > 0) ctx.log(`  ${phase}: ${r.non2xx} non-2xx answers, ${r.errors} errors/timeouts`);
  return r;
}

export async function ingestHttp(ctx: Ctx): Promise<void> {
  const { o, workload: w } = ctx;
  const scenarioName = 'ingest-http';
  const body = JSON.stringify(notificationBody(w, 0, stamp()));
  if (o.baselines) {
    await ctx.fresh();
    const hono = spawnNode('empty-hono', 'bench/baselines/empty-hono.ts', [], { nodeFlags: o.nodeFlags });
    try {
      const port = (await hono.waitFor((l) => l.msg === 'listening')).port as number;
      const r = await measureHttp(ctx, 'ingest-http/empty-hono', `http://127.0.0.1:${port}/v1/notifications`, body, o.connections, { 'empty-hono': hono.pid });
      ctx.results.push({
        key: 'ingest-http.empty-hono', scenario: 'ingest-http', system: 'empty-hono', what: 'single POST, empty endpoint',
        value: r.rps, unit: 'req/s', latency: { count: r.ok, ...r.latency, p95: NaN, p999: NaN }, phase: 'ingest-http/empty-hono',
        extra: { connections: o.connections, non2xx: r.non2xx, errors: r.errors },
      });
    } finally {
      await hono.stop();
    }
  }
  await ctx.fresh();
  const svc = await startService({ redisUrl: ctx.redis.url, fakesUrl: ctx.fakes.info.httpUrl, workers: 0, ingressOnly: true, env: o.serviceEnv, nodeFlags: o.nodeFlags, ...(o.cpuProf && { cpuProfDir: `${ctx.outDir}/profiles/${scenarioName}` }) });
  try {
    const r = await measureHttp(ctx, 'ingest-http/ours', `${svc.url}/v1/notifications`, body, o.connections, { 'service-ingress': svc.procs[0]!.pid });
    ctx.results.push({
      key: 'ingest-http.ours', scenario: 'ingest-http', system: 'ours', what: 'single POST /v1/notifications',
      value: r.rps, unit: 'req/s', latency: { count: r.ok, ...r.latency, p95: NaN, p999: NaN }, phase: 'ingest-http/ours',
      extra: { connections: o.connections, non2xx: r.non2xx, errors: r.errors, streamLength: await ctx.redis.client.xlen(KEYS.ingest) },
    });
  } finally {
    await svc.stop();
  }
}

export async function ingestBatch(ctx: Ctx): Promise<void> {
  const { o, workload: w } = ctx;
  const scenarioName = 'ingest-batch';
  if (o.baselines) await xaddRun(ctx, 'ingest-batch', 'xadd-contract', 'pipelined XADD, same entries (bare producer)', true);
  await ctx.fresh();
  const items = Array.from({ length: o.batchSize }, (_, i) => notificationBody(w, i, stamp()));
  const body = JSON.stringify({ notifications: items });
  const svc = await startService({ redisUrl: ctx.redis.url, fakesUrl: ctx.fakes.info.httpUrl, workers: 0, ingressOnly: true, env: o.serviceEnv, nodeFlags: o.nodeFlags, ...(o.cpuProf && { cpuProfDir: `${ctx.outDir}/profiles/${scenarioName}` }) });
  try {
    const r = await measureHttp(ctx, 'ingest-batch/ours', `${svc.url}/v1/notifications/batch`, body, o.batchConnections, { 'service-ingress': svc.procs[0]!.pid }, o.batchSize);
    ctx.results.push({
      key: 'ingest-batch.ours', scenario: 'ingest-batch', system: 'ours', what: `POST /batch of ${o.batchSize}`,
      value: r.rps * o.batchSize, unit: 'notif/s', latency: { count: r.ok, ...r.latency, p95: NaN, p999: NaN }, phase: 'ingest-batch/ours',
      extra: { requestsPerS: r.rps, batchSize: o.batchSize, connections: o.batchConnections, non2xx: r.non2xx, errors: r.errors },
    });
  } finally {
    await svc.stop();
  }
}

export async function ingestXadd(ctx: Ctx): Promise<void> {
  if (ctx.o.baselines) await xaddRun(ctx, 'ingest-xadd', 'xadd-bare', 'pipelined XADD of a minimal entry', false);
  await xaddRun(ctx, 'ingest-xadd', 'ours', 'pipelined XADD, README contract payload', true);
}

/** `producers` connections, each sending pipelines of `xaddPipeline` XADDs back to back, for `duration` seconds. */
async function xaddRun(ctx: Ctx, scenario: string, system: string, what: string, contract: boolean): Promise<void> {
  const { o, workload: w } = ctx;
  await ctx.fresh();
  const conns = Array.from({ length: o.xaddProducers }, () => new Redis(ctx.redis.url));
  let count = 0;
  let stop = false;
  const produce = async (r: Redis, p: number) => {
    let i = p * 1e9;
    while (!stop) {
      const pipe = r.pipeline();
      const bt = stamp();
      for (let k = 0; k < o.xaddPipeline; k++, i++) {
        if (contract) pipe.xadd(KEYS.ingest, '*', 'payload', xaddPayload(w, i, bt));
        else pipe.xadd(`${KEYS.ingest}:bare`, '*', 'f', '1');
      }
      await pipe.exec();
      count += o.xaddPipeline;
    }
  };
  const phase = `${scenario}/${system}`;
  try {
    const running = conns.map(produce);
    await sleep(o.warmup * 1000);
    await ctx.sampler.beginPhase({ name: phase, unit: 'entry', counter: () => count, procs: {} });
    const c0 = count;
    const t0 = performance.now();
    await sleep(o.duration * 1000);
    const rate = ((count - c0) * 1000) / (performance.now() - t0);
    stop = true;
    await Promise.all(running);
    ctx.sampler.endPhase();
    ctx.results.push({
      key: `${scenario}.${system}`, scenario, system, what, value: rate, unit: 'entries/s', phase,
      extra: { producers: o.xaddProducers, pipeline: o.xaddPipeline, entryBytes: contract ? Buffer.byteLength(xaddPayload(w, 1, stamp())) : 1 },
    });
  } finally {
    for (const c of conns) c.disconnect();
  }
}
