// Notification records of versions before per-tenant ids were kept under the id alone (`<p>:n:<id>`), where two
// tenants' same id met in one record. A worker moves them to their tenant's key (`<p>:n:<tenant>:<id>`, the tenant
// their meta names) before it starts reading, so work still in flight for them — sends, retries, held deliveries,
// feedback — finds them; until then GET and DELETE read them where they are (src/store/notifications.ts).
import type { Redis } from 'ioredis';
import type { Keys } from '../streams/keys.js';
import { queueScript } from '../streams/scripts.js';

/** Keys looked at per SCAN call. */
const SCAN_COUNT = 5000;

const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Moves every legacy record to its tenant's key; resolves with how many were moved. A pass that finds none sets
 * `keys.legacyRecordsMoved`, and later starts skip the scan; so does a prefix no older version used (no ingest stream).
 */
export async function moveLegacyRecords(redis: Redis, keys: Keys): Promise<number> {
  if (await redis.exists(keys.legacyRecordsMoved)) return 0;
  if (!(await redis.exists(keys.ingest))) {
    await redis.set(keys.legacyRecordsMoved, String(Date.now()));
    return 0;
  }
  const base = keys.legacyNotification('');
  let cursor = '0';
  let moved = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${globEscape(base)}*`, 'COUNT', SCAN_COUNT);
    cursor = next;
    // `<p>:n:<tenant>:<id>` is already a tenant's: ids never contain ':'.
    const legacy = found.filter((k) => !k.slice(base.length).includes(':'));
    if (legacy.length > 0) moved += await moveAll(redis, keys, base, legacy);
  } while (cursor !== '0');
  if (moved === 0) await redis.set(keys.legacyRecordsMoved, String(Date.now()));
  return moved;
}

async function moveAll(redis: Redis, keys: Keys, base: string, legacy: string[]): Promise<number> {
  const metas = await redis.pipeline(legacy.map((k) => ['hget', k, 'meta'])).exec();
  const pipe = redis.pipeline();
  let queued = 0;
  legacy.forEach((key, i) => {
    const tenant = tenantOf(metas?.[i]?.[1]);
    if (tenant === undefined) return;
    queueScript(pipe, 'moveRecord', [key, keys.notification(tenant, key.slice(base.length))], [tenant]);
    queued++;
  });
  if (queued === 0) return 0;
  return ((await pipe.exec()) ?? []).filter(([err, r]) => !err && Number(r) > 0).length;
}

function tenantOf(meta: unknown): string | undefined {
  if (typeof meta !== 'string') return undefined;
  try {
    const tenant = (JSON.parse(meta) as { tenant?: unknown }).tenant;
    return typeof tenant === 'string' && tenant !== '' && !tenant.includes(':') ? tenant : undefined;
  } catch {
    return undefined;
  }
}
