// Baseline: the service's pipeline built the way a Node team would build it with BullMQ (its own process).
//   ingest queue → planner worker: load the user (JSON in Redis), check preferences, render the template (nunjucks,
//   compiled once and cached), record each delivery as queued, add one job per delivery to its lane's queue (addBulk)
//   → lane workers (apns, fcm, sms, email): send through the same provider adapters to the same fakes, record the outcome.
// Retries are BullMQ's own (attempts + exponential backoff), like the service's policy. With the service's checks
// on, the planner does the same work the idiomatic way: an event_id is claimed with SET NX for the dedupe window, and
// each delivery is counted in a per-user, per-channel sliding window (a sorted set) before it is queued.
//
// Usage: node --import tsx bench/baselines/bullmq/worker.ts --redis URL --fakes URL [--ingest-concurrency 100]
//        [--send-concurrency 100] [--user-cap LIMIT/WINDOW_MS]
// Prints {"msg":"ready"} once every worker is running; stops (closing workers gracefully) on SIGTERM.
import { parseArgs } from 'node:util';
import { Queue, Worker, type Job } from 'bullmq';
import nunjucks from 'nunjucks';
import { sandboxProvidersConfig, type FakesInfo } from '../../../src/fakes/index.js';
import { createAdapters } from '../../../src/providers/index.js';
import type { OutboundMessage, ProviderAdapter } from '../../../src/providers/types.js';
import type { Channel } from '../../../src/domain/types.js';
import { bullTemplateKey, bullUserKey, type BullUser } from '../../lib/workload.js';
import {
  BULL_PREFIX, INGEST_QUEUE, LANES, SEND_JOB_OPTIONS, bullConnection,
  type BullLane, type IngestJob, type SendJob,
} from './shared.js';

const { values: a } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    fakes: { type: 'string' },
    'ingest-concurrency': { type: 'string', default: '100' },
    'send-concurrency': { type: 'string', default: '100' },
    'user-cap': { type: 'string' },
  },
});
const url = a.redis!;
const RETENTION_MS = 7 * 24 * 3600 * 1000;
const DEDUPE_WINDOW_MS = 24 * 3600 * 1000;
const [capLimit, capWindowMs] = (a['user-cap'] ?? '').split('/').map(Number);
const redis = bullConnection(url);

const info = (await (await fetch(`${a.fakes}/_fake/info`)).json()) as FakesInfo;
const adapters = await createAdapters(sandboxProvidersConfig(info));
const laneProviders: Record<BullLane, ProviderAdapter[]> = {
  apns: [adapters.get('apns')!], fcm: [adapters.get('fcm')!],
  sms: [adapters.get('twilio')!, adapters.get('sns')!], email: [adapters.get('ses')!],
};
const laneQueues = Object.fromEntries(LANES.map((lane) => [
  lane, new Queue<SendJob>(lane, { connection: bullConnection(url), prefix: BULL_PREFIX, defaultJobOptions: SEND_JOB_OPTIONS }),
])) as Record<BullLane, Queue<SendJob>>;

// ---- templates: loaded once per name, compiled once, cached ----
const textEnv = new nunjucks.Environment(null, { autoescape: false });
const htmlEnv = new nunjucks.Environment(null, { autoescape: true });
type Compiled = Partial<Record<Channel, Record<string, nunjucks.Template>>>;
const compiled = new Map<string, Promise<Compiled | null>>();
function template(name: string): Promise<Compiled | null> {
  let t = compiled.get(name);
  if (!t) {
    t = redis.get(bullTemplateKey(name)).then((raw) => {
      if (!raw) return null;
      const parts = JSON.parse(raw) as Record<Channel, Record<string, string>>;
      const out: Compiled = {};
      for (const [ch, fields] of Object.entries(parts) as [Channel, Record<string, string>][]) {
        out[ch] = Object.fromEntries(Object.entries(fields).map(([f, src]) =>
          [f, new nunjucks.Template(src, f === 'html' ? htmlEnv : textEnv, undefined, true)]));
      }
      return out;
    });
    compiled.set(name, t);
  }
  return t;
}

const record = (status: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ status, ...extra, updated_at: new Date().toISOString() });

// ---- planner: one ingest job → records + one send job per delivery ----
async function plan(job: Job<IngestJob>): Promise<void> {
  const n = job.data;
  const nid = job.id!;
  const recKey = `${BULL_PREFIX}:n:${nid}`;
  if (n.event_id) {
    const first = await redis.set(`${BULL_PREFIX}:evt:${n.tenant}:${n.event_id}`, nid, 'PX', DEDUPE_WINDOW_MS, 'NX');
    if (!first) {
      await redis.hset(recKey, 'meta', JSON.stringify({ tenant: n.tenant, created_at: job.timestamp, deduplicated: true }));
      return;
    }
  }
  const [rawUser, tpl] = await Promise.all([redis.get(bullUserKey(n.user_id)), template(n.template)]);
  const multi = redis.multi();
  multi.hset(recKey, 'meta', JSON.stringify({ tenant: n.tenant, created_at: job.timestamp, event_id: n.event_id, category: n.category }));
  const sends: Record<BullLane, { name: string; data: SendJob }[]> = { apns: [], fcm: [], sms: [], email: [] };
  const user = rawUser ? (JSON.parse(rawUser) as BullUser) : null;
  for (const channel of n.channels ?? (['push', 'sms', 'email'] as Channel[])) {
    const key = `${n.user_id}:${channel}`;
    if (!user) { multi.hset(recKey, `d:${key}`, record('no_address')); continue; }
    if (user.prefs.channels[channel] === false || (n.category && user.prefs.categories[n.category]?.[channel] === false)) {
      multi.hset(recKey, `d:${key}`, record('opted_out'));
      continue;
    }
    const parts = tpl?.[channel];
    if (!parts) { multi.hset(recKey, `d:${key}`, record('failed', { last_error: 'no content' })); continue; }
    const content: Record<string, string> = {};
    for (const [field, t] of Object.entries(parts)) content[field] = t.render(n.params);
    const targets: [BullLane, string][] = channel === 'push'
      ? user.devices.map((d) => [d.platform === 'ios' ? 'apns' : 'fcm', d.token])
      : [[channel as BullLane, channel === 'sms' ? user.phone : user.email]];
    if (capLimit && !(await underCap(n, channel, nid))) {
      multi.hset(recKey, `d:${key}`, record('rate_limited'));
      continue;
    }
    for (const [lane, to] of targets) {
      const dk = channel === 'push' ? `${n.user_id}:${lane}:${to.slice(-10)}` : key;
      multi.hset(recKey, `d:${dk}`, record('queued'));
      sends[lane].push({ name: 'send', data: { nid, key: dk, channel, to, content, priority: n.priority ?? 'normal', ...(n.data && { data: n.data }) } });
    }
  }
  multi.pexpire(recKey, RETENTION_MS);
  await multi.exec();
  await Promise.all(LANES.filter((l) => sends[l].length > 0).map((l) => laneQueues[l].addBulk(sends[l])));
}

/** Sliding-window cap per user and channel: count this delivery, and take it back if it is over the cap. */
async function underCap(n: IngestJob, channel: Channel, nid: string): Promise<boolean> {
  const key = `${BULL_PREFIX}:rate:${n.tenant}:${n.user_id}:${channel}`;
  const now = Date.now();
  const res = await redis.multi().zremrangebyscore(key, 0, now - capWindowMs!).zadd(key, now, nid).zcard(key).pexpire(key, capWindowMs!).exec();
  if (Number(res?.[2]?.[1]) <= capLimit!) return true;
  await redis.zrem(key, nid);
  return false;
}

// ---- lane workers: send through the same adapters, record the outcome ----
function sender(lane: BullLane) {
  return async (job: Job<SendJob>): Promise<void> => {
    const d = job.data;
    const message = {
      deliveryId: `${d.nid}:${d.key}`, notificationId: d.nid, priority: d.priority, channel: d.channel, to: d.to,
      content: d.content, ...(d.data && { data: d.data }),
    } as unknown as OutboundMessage;
    let result = await laneProviders[lane][0]!.send(message);
    let provider = laneProviders[lane][0]!.name;
    for (const next of laneProviders[lane].slice(1)) {
      if (result.ok || !result.providerSide) break;
      result = await next.send(message);
      provider = next.name;
    }
    const recKey = `${BULL_PREFIX}:n:${d.nid}`;
    const attempts = job.attemptsMade + 1;
    if (result.ok) {
      await redis.hset(recKey, `d:${d.key}`, record('sent', { provider, attempts, provider_message_id: result.providerMessageId }));
      return;
    }
    const last = job.opts.attempts === undefined || attempts >= job.opts.attempts;
    if (result.retryable && !last) {
      await redis.hset(recKey, `d:${d.key}`, record('retrying', { provider, attempts, last_error: result.code }));
      throw new Error(`${provider}: ${result.code}`); // BullMQ retries with backoff
    }
    await redis.hset(recKey, `d:${d.key}`, record('failed', { provider, attempts, last_error: result.code }));
  };
}

const workers: Worker[] = [
  new Worker<IngestJob>(INGEST_QUEUE, plan, { connection: bullConnection(url), prefix: BULL_PREFIX, concurrency: Number(a['ingest-concurrency']) }),
  ...LANES.map((lane) => new Worker<SendJob>(lane, sender(lane), {
    connection: bullConnection(url), prefix: BULL_PREFIX, concurrency: Number(a['send-concurrency']),
  })),
];
for (const w of workers) w.on('error', (err) => process.stderr.write(`bullmq worker error: ${err.message}\n`));
await Promise.all(workers.map((w) => w.waitUntilReady()));
process.stdout.write(`${JSON.stringify({ msg: 'ready' })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.race([Promise.all(workers.map((w) => w.close())), new Promise((r) => setTimeout(r, 5_000))]);
  await Promise.all([...Object.values(laneQueues).map((q) => q.close()), ...[...adapters.values()].map((ad) => ad.close())]).catch(() => undefined);
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
