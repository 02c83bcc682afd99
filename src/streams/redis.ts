// Redis connections: one shared, auto-pipelined connection for commands, and dedicated ones for blocking reads — to a
// single Redis (REDIS_URL) or to a Redis Cluster (REDIS_CLUSTER_NODES, through ioredis' Cluster client).
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import { defineScripts } from './scripts.js';

/** Where Redis is: a URL, or a cluster's seed nodes (then the URL is not used). */
export interface RedisTarget {
  redisUrl: string;
  redisCluster?: { host: string; port: number }[];
}

/**
 * A cluster client passes for a `Redis` here: the service uses only commands both have, every key it names carries
 * one hash tag (config.prefix), and what a cluster needs done per node goes through `mastersOf`.
 */
function open(target: RedisTarget, options: RedisOptions & { enableAutoPipelining?: boolean }): Redis {
  if (!target.redisCluster) return new Redis(target.redisUrl, options);
  const { enableAutoPipelining, lazyConnect, maxRetriesPerRequest, ...node } = options;
  return new Cluster(target.redisCluster, {
    ...(enableAutoPipelining !== undefined && { enableAutoPipelining }),
    ...(lazyConnect !== undefined && { lazyConnect }),
    // Every command goes to its slot's master: reads from replicas could miss what was just written.
    scaleReads: 'master',
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    redisOptions: { ...node, ...(maxRetriesPerRequest !== undefined && { maxRetriesPerRequest }) },
  }) as unknown as Redis;
}

/** Whether a connection is a cluster client. */
export const isCluster = (redis: Redis): boolean => (redis as unknown) instanceof Cluster;

/** The masters behind a connection: itself on a single Redis, else the cluster's masters (one connection each). */
export function mastersOf(redis: Redis): Redis[] {
  return isCluster(redis) ? (redis as unknown as Cluster).nodes('master') : [redis];
}

/** `host:port` of the master that holds `key`'s slot on a cluster (undefined on a single Redis). */
export async function masterOf(redis: Redis, key: string): Promise<string | undefined> {
  if (!isCluster(redis)) return undefined;
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
  return (redis as unknown as Cluster).slots[slot]?.[0];
}

/** The shared command connection. Auto-pipelining batches everything issued in one tick into one write. */
export function createCommandConnection(target: RedisTarget | string, log: Logger, name = 'cmd'): Redis {
  const redis = open(targetOf(target), { enableAutoPipelining: true, maxRetriesPerRequest: 20, connectionName: name, lazyConnect: true });
  redis.on('error', (err) => log.warn({ err: err.message, conn: name }, 'redis connection error'));
  defineScripts(redis);
  return redis;
}

/**
 * A connection for one blocking reader: a blocking XREADGROUP holds the whole connection (on a cluster, its own
 * cluster client, so the blocked node connection is this reader's alone). `commandTimeout` keeps a read from hanging
 * forever across a reconnect.
 */
export function createBlockingConnection(target: RedisTarget | string, log: Logger, blockMs: number, name: string): Redis {
  const redis = open(targetOf(target), {
    maxRetriesPerRequest: null,
    commandTimeout: blockMs + 5_000,
    connectionName: name,
    lazyConnect: true,
  });
  redis.on('error', (err) => log.warn({ err: err.message, conn: name }, 'redis connection error'));
  return redis;
}

const targetOf = (t: RedisTarget | string): RedisTarget => (typeof t === 'string' ? { redisUrl: t } : t);
