// Debug helper: runs the BullMQ baseline alone on the bench's own Redis and fakes, printing queue counts and
// deliveries every 500 ms. Usage: node --import tsx bench/tools/debug-bullmq.ts [jobs]
import { Queue } from 'bullmq';
import { startFakesProcess } from '../lib/fakes.js';
import { spawnNode, sleep, stopAll } from '../lib/proc.js';
import { startRedisServer } from '../lib/redis-server.js';
import { seed } from '../lib/workload.js';
import { BULL_PREFIX, INGEST_JOB_OPTIONS, INGEST_QUEUE, LANES, bullConnection } from '../baselines/bullmq/shared.js';
import { BENCH_TENANT } from '../lib/service.js';
import { notificationBody } from '../lib/workload.js';
import { stamp } from '../lib/producers.js';

const jobs = Number(process.argv[2] ?? 5000);
const redis = await startRedisServer();
const fakes = await startFakesProcess();
const w = { users: 2000, channels: ['push' as const], platform: 'ios' as const, payloadBytes: 0 };
await seed(redis.client, w);
const proc = spawnNode('bullmq', 'bench/baselines/bullmq/worker.ts', ['--redis', redis.url, '--fakes', fakes.info.httpUrl]);
await proc.waitFor((l) => l.msg === 'ready', 60_000);
const conn = bullConnection(redis.url);
const q = new Queue(INGEST_QUEUE, { connection: conn, prefix: BULL_PREFIX, defaultJobOptions: INGEST_JOB_OPTIONS });
const lanes = LANES.map((l) => new Queue(l, { connection: conn, prefix: BULL_PREFIX }));
const t0 = performance.now();
for (let i = 0; i < jobs; i += 200) {
  await q.addBulk(Array.from({ length: 200 }, (_, k) => ({ name: 'n', data: { tenant: BENCH_TENANT, ...notificationBody(w, i + k, stamp()) } as never })));
}
console.log(`added ${jobs} in ${(performance.now() - t0).toFixed(0)} ms`);
for (let k = 0; k < 60; k++) {
  const acc = await fakes.accepted();
  const c = await q.getJobCounts('waiting', 'active', 'completed', 'failed');
  const a = await lanes[0]!.getJobCounts('waiting', 'active', 'completed', 'failed');
  console.log(((performance.now() - t0) / 1000).toFixed(1), 'delivered', acc, 'ingest', JSON.stringify(c), 'apns', JSON.stringify(a));
  if (acc >= jobs) break;
  await sleep(500);
}
console.log(proc.stderr.slice(-2000));
await q.close();
for (const l of lanes) await l.close();
conn.disconnect();
await stopAll();
await fakes.stop();
await redis.stop();
process.exit(0);
