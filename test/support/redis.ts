// Test Redis helpers: a random key prefix per test file, removing every key under it afterwards, and the connection
// a test uses to look at Redis itself — the local Redis, or the Redis Cluster that `npm run test:cluster` starts.
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { parseClusterNodes } from '../../src/config.js';
import { mastersOf } from '../../src/streams/redis.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Seed nodes (`host:port,…`) when the tests run on a cluster (test/support/with-cluster.ts sets it). */
export const CLUSTER_SEEDS = process.env.NOTIFY_TEST_REDIS_CLUSTER;

export const testPrefix = (name: string): string => `test-${name}-${randomBytes(4).toString('hex')}`;

/** A connection to where the service's keys are: a cluster client when the tests run on a cluster (or `seeds` names one). */
export function testRedis(seeds = CLUSTER_SEEDS): Redis {
  return seeds ? (new Cluster(parseClusterNodes(seeds), { scaleReads: 'master' }) as unknown as Redis) : new Redis(REDIS_URL);
}

export async function dropPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const cluster = CLUSTER_SEEDS !== undefined && url === REDIS_URL;
  const redis = cluster ? testRedis() : new Redis(url);
  try {
    if (cluster) await new Promise((r) => (redis.status === 'ready' ? r(undefined) : redis.once('ready', r)));
    // On a cluster the service's keys are `{prefix}:…` (one slot), and SCAN runs on each master.
    const pattern = cluster ? `{${prefix}}:*` : `${prefix}:*`;
    for (const node of mastersOf(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await node.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
