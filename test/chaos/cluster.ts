// One chaos scenario's system: private AOF redis-server, counting fake providers, in-process ingress, killable worker processes.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { startFakes, type Fakes } from '../../src/fakes/index.js';
import { createLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/service.js';
import { LANES, makeKeys, type Keys } from '../../src/streams/keys.js';
import { API_KEY, serviceEnv } from '../support/harness.js';
import { spawnService, type ServiceProcess } from '../support/process.js';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { testPrefix } from '../support/redis.js';
import { SendCounter } from './sends.js';

export interface Worker {
  proc: ServiceProcess;
  /** Its consumer name in the groups. */
  consumer: string;
}

export interface Cluster {
  name: string;
  redis: RedisServer;
  /** Admin connection to the private Redis (survives its restarts). */
  admin: Redis;
  keys: Keys;
  fakes: Fakes;
  sends: SendCounter;
  url: string;
  workers: Worker[];
  spawnWorker(): Promise<Worker>;
  /** Sends the workers gave up on (timed out): each may have reached the provider, so each may be sent again. */
  timeouts(): number;
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>, timeoutMs?: number): Promise<{ status: number; body: any }>;
  /** Deliveries (`<notification id>|<lane>`) whose lane entries are pending on a consumer, or on any: held, not acknowledged. */
  lanePending(consumer?: string): Promise<Set<string>>;
  /** While Redis is down: the deliveries its AOF holds as pending (read from a copy), i.e. those in flight when it died. */
  pendingInAof(): Promise<Set<string>>;
  close(): Promise<void>;
}

/**
 * Claim idle time of the chaos workers: what a dead or stopped worker held is taken over after this. 4 s, not 1 s: a
 * live worker refreshes its entries every idle/4, so on a busy 2-core box (a replacement worker compiling at start-up,
 * other jobs) an event-loop stall longer than about half the idle time loses entries to the other worker.
 */
export const CLAIM_IDLE_MS = '4000';

const open = new Set<Cluster>();
/** Last resort when the test process exits without its `after` hooks (killed test, broken pipe): no orphan processes. */
const children = new Set<{ kill(): void }>();
const reapAll = () => {
  for (const c of children) c.kill();
};
process.once('exit', reapAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    reapAll();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

/** Closes every cluster still open (for an `after` hook, so a failed scenario leaves no process behind). */
export const closeAll = async (): Promise<void> => {
  for (const c of [...open]) await c.close().catch(() => undefined);
};

export async function startCluster(name: string, env: Record<string, string> = {}): Promise<Cluster> {
  const redis = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction']);
  const reaper = {
    kill: () => {
      for (const p of all) p.child.kill('SIGKILL');
      try {
        process.kill(redis.pid(), 'SIGKILL');
      } catch {
        /* already gone */
      }
      rmSync(redis.dir, { recursive: true, force: true });
    },
  };
  children.add(reaper);
  const prefix = testPrefix(`chaos-${name}`);
  const keys = makeKeys(prefix);
  const sends = new SendCounter();
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  let fakes: Fakes | undefined;
  let ingress: Service | undefined;
  const workers: Worker[] = [];
  const all: ServiceProcess[] = [];
  let closed: Promise<void> | undefined;

  const close = () => (closed ??= (async () => {
    open.delete(cluster);
    for (const p of all) p.child.kill('SIGCONT');
    await Promise.all(all.map((p) => stopWithin(p, 5_000)));
    if (process.env.CHAOS_DEBUG) {
      const file = join(tmpdir(), `chaos-${name}-workers.log`);
      writeFileSync(file, all.map((p, i) => p.logs.map((l) => JSON.stringify({ w: i, ...l })).join('\n')).join('\n'));
      console.error('worker logs in', file);
    }
    await ingress?.stop().catch(() => undefined);
    await fakes?.close();
    admin.disconnect();
    await redis.stop();
    children.delete(reaper);
  })());

  const cluster: Cluster = {
    name, redis, admin, keys, sends, workers, url: '',
    fakes: undefined as unknown as Fakes,
    async spawnWorker() {
      const proc = spawnService(['--role', 'worker'], serviceEnv(prefix, {
        REDIS_URL: redis.url, NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: fakes!.httpUrl, NOTIFY_LOG_LEVEL: 'info',
        NOTIFY_CLAIM_IDLE_MS: CLAIM_IDLE_MS, NOTIFY_RETRY_BASE_MS: '20', NOTIFY_RETRY_MAX_DELAY_MS: '1000',
        NOTIFY_BREAKER_OPEN_MS: '500', NOTIFY_INTAKE_BATCH: '32', NOTIFY_CHANNEL_BATCH: '32',
        NOTIFY_CHANNEL_CONCURRENCY: '32', NOTIFY_SHUTDOWN_TIMEOUT_MS: '2000', ...env,
      }));
      all.push(proc);
      const started = await proc.waitForLog((l) => l.msg === 'worker started', 30_000);
      const w = { proc, consumer: String(started.consumer) };
      workers.push(w);
      return w;
    },
    timeouts: () => all.reduce((n, p) => n + p.logs.filter((l) => l.code === 'timeout' && l.provider !== undefined).length, 0),
    async api(method, path, body, headers = {}, timeoutMs = 15_000) {
      const res = await fetch(cluster.url + path, {
        method, signal: AbortSignal.timeout(timeoutMs),
        headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    lanePending: (consumer) => pendingDeliveries(admin, keys, consumer),
    async pendingInAof() {
      // A second redis-server replays a copy of the AOF on its own port, so the workers cannot touch what it shows.
      const dir = mkdtempSync(join(tmpdir(), 'notify-aof-'));
      cpSync(redis.dir, dir, { recursive: true });
      const port = await freePort();
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'], { stdio: 'ignore' });
      const probe = new Redis(`redis://127.0.0.1:${port}`, { maxRetriesPerRequest: null, retryStrategy: () => 20 });
      probe.on('error', () => undefined);
      try {
        await until(async () => (await probe.ping().catch(() => '')) === 'PONG' && (await probe.info('persistence')).includes('loading:0'));
        return await pendingDeliveries(probe, keys);
      } finally {
        probe.disconnect();
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close,
  };
  open.add(cluster);
  try {
    fakes = await startFakes({ onMessage: sends.observe, maxMessages: 1_000 });
    cluster.fakes = fakes;
    const config = loadConfig({ ...serviceEnv(prefix, { REDIS_URL: redis.url, NOTIFY_LOG_LEVEL: 'error', ...env }), NOTIFY_SANDBOX: 'off' });
    ingress = await startService({ config, role: 'ingress', log: createLogger('silent') });
    cluster.url = `http://127.0.0.1:${ingress.port}`;
    await Promise.all([cluster.spawnWorker(), cluster.spawnWorker()]);
  } catch (err) {
    await close();
    throw err;
  }
  return cluster;
}

/** Deliveries (`<notification id>|<lane>`) whose lane entries are pending, on one consumer or any. */
async function pendingDeliveries(redis: Redis, keys: Keys, consumer?: string): Promise<Set<string>> {
  const held = new Set<string>();
  for (const lane of LANES) {
    const args = ['XPENDING', keys.lane(lane), 'send', '-', '+', '100000', ...(consumer ? [consumer] : [])];
    const rows = (await redis.call(...(args as [string, ...string[]]))) as [string][];
    const pipe = redis.pipeline();
    for (const [id] of rows) pipe.xrange(keys.lane(lane), id, id);
    for (const [err, r] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      const fields = (r as [string, string[]][])[0]?.[1] ?? [];
      const nid = (JSON.parse(fields[fields.indexOf('d') + 1] ?? '{}') as { nid?: string }).nid;
      if (nid) held.add(`${nid}|${lane}`);
    }
  }
  return held;
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check().catch(() => false)); ) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGTERM, then SIGKILL if it has not exited in time. */
async function stopWithin(p: ServiceProcess, ms: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.stop('SIGTERM');
  clearTimeout(timer);
}
