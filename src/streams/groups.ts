// Creates streams and consumer groups idempotently.
import type { Redis } from 'ioredis';
import { replayMarker } from './keys.js';
import { runScript } from './scripts.js';

/** How long consumers treat entries below a recreated group's starting point as possibly handled. */
const REPLAY_MARKER_MS = 86_400_000;

/**
 * Creates the group (and the stream) if missing, starting at 0 so entries added before the group existed are read.
 * Returns the stream's last entry id from when a lost group was recreated over existing entries (they may have been
 * handled already, by the group that was lost) — to every consumer, whichever recreated it — else undefined.
 */
export async function ensureGroup(redis: Redis, stream: string, group: string): Promise<string | undefined> {
  const until = await runScript<string | null>(redis, 'ensureGroup', [stream, replayMarker(stream, group)], [group, REPLAY_MARKER_MS]);
  return until ?? undefined;
}
