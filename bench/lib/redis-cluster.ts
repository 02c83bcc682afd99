// The cluster scenario's Redis: a private Redis Cluster (3 masters + 3 replicas, test/support/redis-cluster.ts) as a
// target for the service, with its nodes named by role for the sampler and stopped with the bench's processes.
import { Cluster, Redis } from 'ioredis';
import { makeKeys } from '../../src/streams/keys.js';
import { startRedisCluster, type RedisCluster } from '../../test/support/redis-cluster.js';
import type { RedisTarget } from './context.js';
import { signal, track } from './proc.js';
import { REDIS_MASTER, REDIS_REPLICA } from './sampler.js';
import { PREFIX } from './workload.js';

export interface ClusterNodeInfo {
  port: number;
  pid: number;
  role: 'master' | 'replica';
  /** The sampler's name for it: redis-master-<port> / redis-replica-<port>. */
  name: string;
}

export interface BenchCluster {
  target: RedisTarget;
  nodes: ClusterNodeInfo[];
  /** The master holding the service's slot (every key is under the hash tag `{notify}`). */
  slotMaster: number;
  /** Each node's used_memory and used_memory_peak, MB. */
  memory(): Promise<Record<string, { usedMB: number; peakMB: number }>>;
  stop(): Promise<void>;
}

const seedsOf = (c: RedisCluster) => c.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
const mb = (info: string, field: string) => Math.round(Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? 0) / 104857.6) / 10;

export async function startBenchCluster(): Promise<BenchCluster> {
  const cluster = await startRedisCluster();
  const untrack = track({ stop: () => cluster.stop(), killNow: () => cluster.nodes.forEach((n) => signal(n.pid, 'SIGKILL')) });
  const open = () => new Cluster(seedsOf(cluster), { lazyConnect: true, scaleReads: 'master' });
  const client = open();
  try {
    await client.connect();
    const masterPorts = new Set(client.nodes('master').map((n) => n.options.port));
    const nodes: ClusterNodeInfo[] = cluster.nodes.map((n) => {
      const role = masterPorts.has(n.port) ? 'master' : 'replica';
      return { port: n.port, pid: n.pid, role, name: `${role === 'master' ? REDIS_MASTER : REDIS_REPLICA}${n.port}` };
    });
    const keys = makeKeys(`{${PREFIX}}`);
    const masters = () => client.nodes('master');
    const target: RedisTarget = {
      url: 'redis://unused', clusterNodes: cluster.seeds, keys,
      client: client as unknown as Redis,
      connect: () => open() as unknown as Redis,
      async usedMemory() {
        const infos = await Promise.all(masters().map((m) => m.info('memory')));
        return infos.reduce((a, i) => a + Number(/used_memory:(\d+)/.exec(i)?.[1] ?? 0), 0);
      },
      async flush() {
        await Promise.all(masters().map((m) => m.flushall()));
      },
    };
    return {
      target, nodes, slotMaster: await cluster.masterPort(keys.ingest),
      async memory() {
        const out: Record<string, { usedMB: number; peakMB: number }> = {};
        // One plain connection per node: the cluster client talks to masters only (scaleReads: 'master').
        for (const n of nodes) {
          const conn = new Redis(n.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
          try {
            const info = await conn.info('memory');
            out[String(n.port)] = { usedMB: mb(info, 'used_memory'), peakMB: mb(info, 'used_memory_peak') };
          } finally {
            conn.disconnect();
          }
        }
        return out;
      },
      async stop() {
        client.disconnect();
        await cluster.stop();
        untrack();
      },
    };
  } catch (err) {
    client.disconnect();
    await cluster.stop();
    untrack();
    throw err;
  }
}
