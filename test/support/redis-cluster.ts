// Starts a private Redis Cluster for tests and the bench: 3 masters and 3 replicas (`redis-server --cluster-enabled
// yes` on free ports, each in its own temp dir, joined by `redis-cli --cluster create`), stopped by pid.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export interface ClusterNodeProcess {
  port: number;
  pid: number;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export interface RedisCluster {
  nodes: ClusterNodeProcess[];
  /** REDIS_CLUSTER_NODES for a service pointed at it. */
  seeds: string;
  /** The port of the master that holds `key`'s slot now. */
  masterPort(key: string): Promise<number>;
  /** Waits until every live node says the cluster is ok and `key`'s slot has a master that answers. */
  settled(key?: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

/** A free port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (!taken.has(port) && (await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
}

async function answers(port: number): Promise<Redis | undefined> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return probe;
  } catch {
    probe.disconnect();
    return undefined;
  }
}

/** `args`: more redis-server options for every node, e.g. ['--appendonly', 'yes']. */
export async function startRedisCluster(args: string[] = []): Promise<RedisCluster> {
  const taken = new Set<number>();
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const nodes: ClusterNodeProcess[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await clusterPort(taken);
    const dir = mkdtempSync(join(tmpdir(), 'notify-cluster-'));
    dirs.push(dir);
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000',
      // Replicas sync at once (not after the default 5 s wait for more replicas), and one may always take over.
      '--repl-diskless-sync-delay', '0', '--cluster-replica-validity-factor', '0',
      ...args,
    ], { stdio: 'ignore' });
    children.push(child);
    const exited = () => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    nodes.push({ port, pid: child.pid!, kill: async () => { child.kill('SIGKILL'); await exited(); } });
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) {
      for (let i = 0; ; i++) {
        const c = await answers(n.port);
        if (c) { c.disconnect(); break; }
        if (i > 100) throw new Error(`redis-server on ${n.port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes']);
  } catch (err) {
    await stop();
    throw err;
  }
  const live = () => nodes.filter((n, i) => children[i]!.exitCode === null && children[i]!.signalCode === null);
  const masterPort = async (key: string) => {
    for (const n of live()) {
      const c = await answers(n.port);
      if (!c) continue;
      try {
        const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
        const shards = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
        const shard = shards.find(([from, to]) => slot >= from && slot <= to);
        if (shard) return Number(shard[2][1]);
      } finally {
        c.disconnect();
      }
    }
    throw new Error(`no master for ${key}`);
  };
  const cluster: RedisCluster = {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    masterPort,
    async settled(key = 'x', timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(live().map(async (n) => {
          const c = await answers(n.port);
          if (!c) return false;
          try {
            return /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO')));
          } finally {
            c.disconnect();
          }
        }));
        if (states.every(Boolean)) {
          const port = await masterPort(key).catch(() => undefined);
          const master = port && live().some((n) => n.port === port) ? await answers(port) : undefined;
          if (master) {
            const role = (await master.call('ROLE')) as [string];
            master.disconnect();
            if (role[0] === 'master') return;
          }
        }
        if (Date.now() > deadline) throw new Error('the Redis Cluster did not settle');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
  };
  await cluster.settled();
  // A replica that has not finished its first sync cannot take over: wait for every link.
  for (const n of nodes) {
    const c = await answers(n.port);
    try {
      for (let i = 0; ; i++) {
        const info = String(await c!.info('replication'));
        if (/role:master/.test(info) || /master_link_status:up/.test(info)) break;
        if (i > 200) throw new Error(`replica ${n.port} did not sync`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      c?.disconnect();
    }
  }
  return cluster;
}
