// Redis connections: one shared, auto-pipelined connection for commands, and dedicated ones for blocking reads.
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { defineScripts } from './scripts.js';

/** The shared command connection. Auto-pipelining batches everything issued in one tick into one write. */
export function createCommandConnection(url: string, log: Logger, name = 'cmd'): Redis {
  const redis = new Redis(url, { enableAutoPipelining: true, maxRetriesPerRequest: 20, connectionName: name, lazyConnect: true });
  redis.on('error', (err) => log.warn({ err: err.message, conn: name }, 'redis connection error'));
  defineScripts(redis);
  return redis;
}

/**
 * A connection for one blocking reader: a blocking XREADGROUP holds the whole connection. `commandTimeout`
 * keeps a read from hanging forever across a reconnect.
 */
export function createBlockingConnection(url: string, log: Logger, blockMs: number, name: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    commandTimeout: blockMs + 5_000,
    connectionName: name,
    lazyConnect: true,
  });
  redis.on('error', (err) => log.warn({ err: err.message, conn: name }, 'redis connection error'));
  return redis;
}
