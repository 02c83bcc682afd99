// The bench's own redis-server: a free port, a temp dir, no persistence, so `used_memory` is ours alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTarget } from './context.js';
import { Proc, sleep } from './proc.js';
import { KEYS } from './workload.js';

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** A plain connection for the bench's own commands (INFO, FLUSHALL, XLEN…). */
  client: Redis;
  usedMemory(): Promise<number>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startRedisServer(bin = 'redis-server'): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'notify-bench-redis-'));
  const port = await freePort();
  const proc = new Proc('redis-server', bin, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction', '--protected-mode', 'yes', '--loglevel', 'warning', '--daemonize', 'no',
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null });
  client.on('error', () => undefined);
  let ok = false;
  for (let i = 0; i < 100 && !ok; i++) {
    if (!proc.running) break;
    try {
      await client.connect();
      ok = (await client.ping()) === 'PONG';
    } catch {
      client.disconnect();
      await sleep(50);
    }
  }
  if (!ok) {
    await proc.stop(2_000);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start on port ${port}: ${proc.stderr}`);
  }
  return {
    url, port, pid: proc.pid, client,
    async usedMemory() {
      const info = await client.info('memory');
      return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
    },
    async flush() {
      await client.flushall();
    },
    async stop() {
      client.disconnect();
      await proc.stop(5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The bench's redis-server as the service's target: REDIS_URL, keys under `notify:`. */
export function serverTarget(r: RedisServer): RedisTarget {
  return {
    url: r.url, keys: KEYS, client: r.client, usedMemory: () => r.usedMemory(), flush: () => r.flush(),
    connect: () => new Redis(r.url, { lazyConnect: true }),
  };
}
