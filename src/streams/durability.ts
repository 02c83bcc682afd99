// Reads how Redis is configured for durability (CONFIG GET, falling back to INFO where CONFIG is disabled).
import type { Redis } from 'ioredis';
import { hasWaitaof, weakestFacts, type RedisFacts } from '../domain/durability.js';
import { isCluster, mastersOf } from './redis.js';

/** How Redis is set up; on a cluster, what its weakest master promises (each master is asked). */
export async function inspectRedis(redis: Redis): Promise<RedisFacts> {
  if (!isCluster(redis)) return inspectOne(redis);
  return weakestFacts(await Promise.all(mastersOf(redis).map(inspectOne)));
}

async function inspectOne(redis: Redis): Promise<RedisFacts> {
  const info = await redis.info();
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  const version = field('redis_version') ?? '0.0.0';
  let aof = field('aof_enabled') === '1';
  let appendfsync = 'everysec';
  let maxmemoryPolicy = field('maxmemory_policy') ?? 'noeviction';
  try {
    const cfg = (await redis.call('CONFIG', 'GET', 'appendonly', 'appendfsync', 'maxmemory-policy')) as string[];
    const get = (k: string) => cfg[cfg.indexOf(k) + 1];
    aof = get('appendonly') === 'yes';
    appendfsync = get('appendfsync') ?? appendfsync;
    maxmemoryPolicy = get('maxmemory-policy') ?? maxmemoryPolicy;
  } catch {
    // CONFIG is often renamed away on managed Redis; INFO still tells AOF on/off and the eviction policy.
  }
  return { version, aof, appendfsync, maxmemoryPolicy, waitaof: hasWaitaof(version) };
}
