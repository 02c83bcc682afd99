// Creates streams and consumer groups idempotently.
import type { Redis } from 'ioredis';

/** Creates the group (and the stream) if missing. Starts at 0 so entries added before the group existed are read. */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err as Error).message.includes('BUSYGROUP')) throw err;
  }
}
