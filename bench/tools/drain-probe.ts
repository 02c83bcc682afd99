// Cost per delivery of the worker pipeline, measured steadily: pre-fill the ingest stream, start one worker, and
// report the drain rate, CPU µs per delivery (worker, Redis, fakes) and the Redis commands per delivery.
// CPU per delivery and command counts hardly move with other load on the machine, unlike rates.
//   node --import tsx bench/tools/drain-probe.ts [--n 50000] [--users 10000] [--channels push] [--env K=V,...] [--cpu-prof DIR]
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { Channel } from '../../src/domain/types.js';
import { startFakesProcess } from '../lib/fakes.js';
import { buildCompiled } from '../lib/build.js';
import { ROOT, sleep, stopAll, useCompiled } from '../lib/proc.js';
import { stamp } from '../lib/producers.js';
import { startRedisServer } from '../lib/redis-server.js';
import { startService } from '../lib/service.js';
import { deliveriesPer, KEYS, rateLimitSpec, seed, xaddPayload, type Workload } from '../lib/workload.js';

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '50000' }, users: { type: 'string', default: '10000' },
    channels: { type: 'string', default: 'push' }, checks: { type: 'string', default: 'on' },
    env: { type: 'string', default: '' }, 'cpu-prof': { type: 'string' },
  },
});
const n = Number(a.n);
const w: Workload = { users: Number(a.users), channels: a.channels!.split(',') as Channel[], platform: 'ios', payloadBytes: 0, checks: a.checks === 'on' };
const env: Record<string, string> = w.checks ? { NOTIFY_RATE_LIMITS: rateLimitSpec(w) } : {};
for (const kv of a.env!.split(',').filter(Boolean)) env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);

const ticks = (pid: number, file = `/proc/${pid}/stat`): number => {
  const f = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
const TICK_US = 1e6 / 100;
/**
 * CPU ticks per thread: the main thread, and every other one by id (Node 20 names them all `node`, so which is a V8
 * helper, the libuv pool or the render worker is told only by how much each does).
 */
const threadTicks = (pid: number): Map<string, number> => {
  const m = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() + (tid === String(pid) ? ' (main)' : ` ${tid}`);
      m.set(name, (m.get(name) ?? 0) + ticks(Number(tid), `/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended
    }
  }
  return m;
};
/** Calls per command, and bytes in and out (as `net_in` / `net_out`). */
const commandStats = async (r: Redis): Promise<Map<string, number>> => {
  const m = new Map<string, number>();
  for (const line of (await r.info('commandstats')).split('\n')) {
    const x = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (x) {
      m.set(x[1]!, Number(x[2]));
      m.set(`usec:${x[1]!}`, Number(x[3]));
    }
  }
  const stats = await r.info('stats');
  m.set('net_in', Number(/total_net_input_bytes:(\d+)/.exec(stats)?.[1] ?? 0));
  m.set('net_out', Number(/total_net_output_bytes:(\d+)/.exec(stats)?.[1] ?? 0));
  return m;
};

useCompiled(buildCompiled(ROOT));
const redis = await startRedisServer();
const fakes = await startFakesProcess();
try {
  await seed(redis.client, w);
  const producer = new Redis(redis.url);
  for (let start = 0; start < n; start += 1000) {
    const pipe = producer.pipeline();
    const bt = stamp();
    for (let i = start; i < Math.min(n, start + 1000); i++) pipe.xadd(KEYS.ingest, '*', 'payload', xaddPayload(w, i, bt));
    await pipe.exec();
  }
  producer.disconnect();
  const expected = n * deliveriesPer(w);
  const svc = await startService({
    redisUrl: redis.url, fakesUrl: fakes.info.httpUrl, workers: 1, workersOnly: true, env,
    ...(a['cpu-prof'] && { cpuProfDir: a['cpu-prof'] }),
  });
  const worker = svc.workerProcs[0]!;
  // Start measuring at the first delivery, so start-up is not counted.
  // Bounded: a lost delivery (or a worker that never starts sending) ends the probe with an error instead of a hang.
  const deadline = performance.now() + 600_000;
  const bounded = () => {
    if (performance.now() > deadline) throw new Error(`not every delivery arrived within 10 minutes`);
  };
  while ((await fakes.accepted()) === 0) (bounded(), await sleep(5));
  const t0 = threadTicks(worker.pid);
  const c0 = { w: ticks(worker.pid), r: ticks(redis.pid), f: ticks(fakes.proc.pid), t: performance.now(), d: await fakes.accepted(), cmds: await commandStats(redis.client) };
  let d = c0.d;
  while ((d = await fakes.accepted()) < expected) (bounded(), await sleep(20));
  const t1 = threadTicks(worker.pid);
  const c1 = { w: ticks(worker.pid), r: ticks(redis.pid), f: ticks(fakes.proc.pid), t: performance.now(), cmds: await commandStats(redis.client) };
  const done = d - c0.d;
  const per = (t1: number, t0: number) => (((t1 - t0) * TICK_US) / done).toFixed(1);
  process.stdout.write(`delivered ${done} in ${((c1.t - c0.t) / 1000).toFixed(2)} s: ${Math.round((done * 1000) / (c1.t - c0.t))} deliv/s\n`);
  process.stdout.write(`CPU µs per delivery: worker ${per(c1.w, c0.w)}  redis ${per(c1.r, c0.r)}  fakes ${per(c1.f, c0.f)}\n`);
  const threads = [...t1].map(([k, v]) => [k, v - (t0.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1]);
  process.stdout.write(`worker threads (main, then the others by id), µs per delivery: ${threads.map(([k, v]) => `${k} ${((v * TICK_US) / done).toFixed(1)}`).join(', ')}\n`);
  const bytes = (k: string) => Math.round(((c1.cmds.get(k) ?? 0) - (c0.cmds.get(k) ?? 0)) / done);
  process.stdout.write(`Redis bytes per delivery: in ${bytes('net_in')}, out ${bytes('net_out')}\n`);
  c1.cmds.delete('net_in');
  c1.cmds.delete('net_out');
  const delta = [...c1.cmds].map(([k, v]) => [k, (v - (c0.cmds.get(k) ?? 0)) / done] as const).filter(([, v]) => v > 0.001).sort((x, y) => y[1] - x[1]);
  const cmds = delta.filter(([k]) => !k.startsWith('usec:'));
  const usec = delta.filter(([k]) => k.startsWith('usec:'));
  process.stdout.write(`Redis commands per delivery: ${cmds.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}\n`);
  process.stdout.write(`Redis µs per delivery by command (scripts include their calls): ${usec.map(([k, v]) => `${k.slice(5)} ${v.toFixed(2)}`).join(', ')}\n`);
  await svc.stop();
} finally {
  await stopAll();
  await fakes.stop().catch(() => undefined);
  await redis.stop();
}
process.exit(0);
