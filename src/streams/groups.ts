// Creates streams and consumer groups idempotently.
import type { Redis } from 'ioredis';

/**
 * Creates the group (and the stream) if missing. Starts at 0 so entries added before the group existed are read.
 * Returns the stream's last entry id when this call created the group over existing entries (they may have been
 * handled already, by the group that was lost), else undefined.
 */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<string | undefined> {
  const [last] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
  try {
    await redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM');
    return last?.[0];
  } catch (err) {
    if (!(err as Error).message.includes('BUSYGROUP')) throw err;
    return undefined;
  }
}
