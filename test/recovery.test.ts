// Crash recovery on the streams: claiming what a dead consumer left, poison entries, entries deleted while pending,
// a lost consumer group, and trimming that never drops a pending entry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Trimmer } from '../src/streams/trimmer.js';
import { createLogger } from '../src/log.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';

let h: Harness;
let redis: Redis;
const FAST = { NOTIFY_CLAIM_IDLE_MS: '1000', NOTIFY_MAX_DELIVERIES: '3' };

before(async () => {
  // Ingress only: each test decides when a worker runs, so it can first leave entries pending as a "crashed" consumer.
  h = await startHarness('recovery', { role: 'ingress', env: FAST });
  redis = new Redis(REDIS_URL);
  await h.api('PUT', '/v1/users/k1', { email: 'k1@example.com' });
  await redis.xgroup('CREATE', `${h.prefix}:in`, 'intake', '0', 'MKSTREAM');
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

const ingest = (extra: object = {}) =>
  redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'k1', channels: ['email'], content: { subject: 'S', text: 'x' }, ...extra })) as Promise<string>;
/** Reads everything new as a consumer that then "crashes" (never acknowledges). */
const readAsCrasher = (name = 'crashed-consumer') =>
  redis.xreadgroup('GROUP', 'intake', name, 'COUNT', 100, 'STREAMS', `${h.prefix}:in`, '>');
const status = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body?.status;

describe('recovery', () => {
  it('claims entries a dead consumer left pending, and sends them once', async () => {
    const ids = await Promise.all([1, 2, 3].map(() => ingest()));
    await readAsCrasher();
    const worker = await h.startWorker(FAST);
    for (const id of ids) await eventually(async () => ((await status(`x-${id}`)) === 'sent' ? true : undefined), 6_000);
    assert.equal(h.fakes.received('ses').length, 3);
    const pending = (await redis.xpending(`${h.prefix}:in`, 'intake')) as [number];
    assert.equal(pending[0], 0);
    await worker.stop();
  });

  it('moves a poison entry (crashed its handler again and again) to the dead-letter stream, and the rest flows', async () => {
    const poison = await ingest({ event_id: 'poison' });
    await readAsCrasher();
    // Each claim by a handler that dies raises the delivery count.
    for (let i = 0; i < 3; i++) await redis.xclaim(`${h.prefix}:in`, 'intake', 'crashed-consumer', 0, poison);
    const good = await ingest();
    const worker = await h.startWorker(FAST);
    await eventually(async () => ((await status(`x-${good}`)) === 'sent' ? true : undefined), 6_000);
    const dead = await eventually(async () => {
      const entries = await redis.xrange(`${h.prefix}:dead`, '-', '+');
      return entries.find(([, f]) => f.includes(poison));
    }, 6_000, 'the poison entry in the dead-letter stream');
    const fields = Object.fromEntries(dead[1].flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]!]])));
    assert.equal(fields.reason, 'poison');
    assert.match(fields.error!, /delivered [4-9] times/);
    assert.equal(await status(`x-${poison}`), undefined, 'the poison entry was not processed');
    const list = await h.api('GET', '/v1/dead-letters?reason=poison');
    assert.ok(list.body.dead_letters.some((d: any) => d.kind === 'intake'), 'listed for the tenant');
    await worker.stop();
  });

  it('acknowledges entries deleted while pending instead of processing them', async () => {
    const gone = await ingest();
    await readAsCrasher();
    await redis.xdel(`${h.prefix}:in`, gone);
    const worker = await h.startWorker(FAST);
    await eventually(async () => {
      const pending = (await redis.xpending(`${h.prefix}:in`, 'intake')) as [number];
      return pending[0] === 0 ? true : undefined;
    }, 6_000, 'the deleted entry to leave the pending list');
    assert.ok(h.logs.some((l) => l.msg === 'pending entries were deleted before processing'));
    await worker.stop();
  });

  it('recreates a lost consumer group without a hot loop and without skipping entries', async () => {
    const worker = await h.startWorker(FAST);
    await redis.xgroup('DESTROY', `${h.prefix}:in`, 'intake');
    const before = await ingest();
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await ingest();
    for (const id of [before, after]) await eventually(async () => ((await status(`x-${id}`)) === 'sent' ? true : undefined), 6_000);
    const recreations = h.logs.filter((l) => String(l.msg).startsWith('consumer group missing')).length;
    assert.ok(recreations >= 1 && recreations <= 3, `recreated ${recreations} times`);
    await worker.stop();
  });

  it('trims acknowledged entries and never a pending one', async () => {
    const worker = await h.startWorker(FAST);
    const done = await Promise.all(Array.from({ length: 30 }, () => ingest()));
    for (const id of done) await eventually(async () => ((await status(`x-${id}`)) === 'sent' ? true : undefined), 6_000);
    await worker.stop();
    const stuck = await ingest();
    await readAsCrasher();
    for (let i = 0; i < 5; i++) await ingest();
    const trimmer = new Trimmer(redis, [{ stream: `${h.prefix}:in`, group: 'intake' }], `${h.prefix}:dead`,
      { everyMs: 60_000, deadRetentionMs: 86_400_000, consumerIdleMs: 86_400_000, exact: true }, createLogger('silent'));
    const before = await redis.xlen(`${h.prefix}:in`);
    const removed = await trimmer.run();
    assert.ok(removed[`${h.prefix}:in`]! > 0);
    const entries = await redis.xrange(`${h.prefix}:in`, '-', '+');
    assert.ok(entries.length < before, `trimmed ${before} → ${entries.length}`);
    assert.equal(entries[0]![0], stuck, 'the pending entry is kept');
  });

  it('trims when the pending entries are acknowledged between XINFO and XPENDING, and one stream never stops the rest', async () => {
    const [racy, calm] = [`${h.prefix}:trim-racy`, `${h.prefix}:trim-calm`];
    for (const s of [racy, calm]) {
      await redis.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
      for (let i = 0; i < 5; i++) await redis.xadd(s, '*', 'k', String(i));
      await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'STREAMS', s, '>');
    }
    const calmIds = (await redis.xrange(calm, '-', '+')).map(([id]) => id);
    await redis.xack(calm, 'g', ...calmIds.slice(0, 3));
    // The real race, made certain: the racy stream's entries are acknowledged just before the trimmer's XPENDING.
    const racing = Object.create(redis) as Redis;
    racing.xpending = (async (key: string, ...rest: unknown[]) => {
      if (key === racy) await redis.xack(racy, 'g', ...(await redis.xrange(racy, '-', '+')).map(([id]) => id));
      return (redis.xpending as (...a: unknown[]) => Promise<unknown>).call(redis, key, ...rest);
    }) as Redis['xpending'];
    const trimmer = new Trimmer(racing, [{ stream: racy, group: 'g' }, { stream: calm, group: 'g' }], `${h.prefix}:dead`,
      { everyMs: 60_000, deadRetentionMs: 86_400_000, consumerIdleMs: 86_400_000, exact: true }, createLogger('silent'));
    const removed = await trimmer.run();
    assert.equal(removed[racy], 4, 'everything below the last-delivered id is trimmed');
    assert.equal(removed[calm], 3, 'the next stream is trimmed too, below its oldest pending entry');
    assert.deepEqual((await redis.xrange(calm, '-', '+')).map(([id]) => id), calmIds.slice(3));
  });
});
