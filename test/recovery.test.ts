// Crash recovery on the streams: claiming what a dead consumer left, poison entries, entries deleted while pending,
// a lost consumer group, and trimming that never drops a pending entry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Trimmer } from '../src/streams/trimmer.js';
import { createLogger } from '../src/log.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { testRedis } from './support/redis.js';

let h: Harness;
let redis: Redis;
const FAST = { NOTIFY_CLAIM_IDLE_MS: '1000', NOTIFY_MAX_DELIVERIES: '3' };

before(async () => {
  // Ingress only: each test decides when a worker runs, so it can first leave entries pending as a "crashed" consumer.
  h = await startHarness('recovery', { role: 'ingress', env: FAST });
  redis = testRedis();
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

  it('a poison entry of an accepted notification leaves it failed (not planned), and a redrive plans it again', async () => {
    const accepted = await h.api('POST', '/v1/notifications', { user_id: 'k1', channels: ['email'], content: { subject: 'poison-api', text: 'x' } });
    assert.equal(accepted.status, 202);
    const id = accepted.body.id as string;
    const read = (await readAsCrasher()) as [string, [string, string[]][]][];
    const entry = read[0]![1].find(([, f]) => f.includes('src'))![0];
    for (let i = 0; i < 3; i++) await redis.xclaim(`${h.prefix}:in`, 'intake', 'crashed-consumer', 0, entry);
    const worker = await h.startWorker(FAST);
    const view = await eventually(async () => {
      const r = await h.api('GET', `/v1/notifications/${id}`);
      return r.body.status === 'accepted' ? undefined : r.body;
    }, 8_000, 'a terminal status');
    assert.equal(view.status, 'failed');
    assert.deepEqual(view.deliveries, []);
    assert.equal(view.not_planned.reason, 'poison');
    assert.match(view.not_planned.message, /delivered [4-9] times/);
    const dead = (await h.api('GET', `/v1/dead-letters/${view.not_planned.dead_letter_id}`)).body;
    assert.equal(dead.notification_id, id);
    assert.equal((await h.api('DELETE', `/v1/notifications/${id}`)).status, 409, 'nothing is left to cancel');
    const redriven = await h.api('POST', '/v1/dead-letters/redrive', { ids: [dead.id] });
    assert.equal(redriven.body.redriven, 1);
    const sent = await eventually(async () => {
      const r = await h.api('GET', `/v1/notifications/${id}`);
      return r.body.status === 'sent' ? r.body : undefined;
    }, 6_000, 'the redriven notification to be sent');
    assert.equal(sent.not_planned, undefined);
    await worker.stop();
  });

  it('a poison lane entry fails its delivery with the reason, and an unusable task fails its own', async () => {
    const lane = `${h.prefix}:out:email`;
    await redis.xgroup('CREATE', lane, 'send', '0', 'MKSTREAM').catch(() => undefined); // an earlier worker may have made it
    const record = `${h.prefix}:n:acme:lane-poison`;
    const queued = { user_id: 'k1', channel: 'email', provider: 'ses', to: 'k***@example.com', status: 'queued', attempts: 0, updated_at: 'then' };
    await redis.hset(record, { meta: JSON.stringify({ tenant: 'acme', created_at: Date.now() }), 'd:k1:email': JSON.stringify(queued), 'd:k1:bad': JSON.stringify(queued) });
    const task = { nid: 'lane-poison', dk: 'k1:email', tenant: 'acme', user_id: 'k1', channel: 'email', lane: 'email', to: 'k1@example.com',
      content: { subject: 'lane-poison', text: 'x' }, priority: 'normal', accepted_at: Date.now(), attempt: 1 };
    const poison = (await redis.xadd(lane, '*', 'd', JSON.stringify(task)))!;
    await redis.xreadgroup('GROUP', 'send', 'crashed-consumer', 'COUNT', 10, 'STREAMS', lane, '>');
    for (let i = 0; i < 3; i++) await redis.xclaim(lane, 'send', 'crashed-consumer', 0, poison);
    await redis.xadd(lane, '*', 'd', JSON.stringify({ nid: 'lane-poison', dk: 'k1:bad', tenant: 'acme' }));
    const worker = await h.startWorker(FAST);
    const status = async (field: string) => JSON.parse((await redis.hget(record, field))!) as { status: string; last_error?: string };
    const failed = await eventually(async () => ((await status('d:k1:email')).status === 'failed' ? status('d:k1:email') : undefined), 8_000, 'the poison delivery failed');
    assert.match(failed.last_error!, /^poison: delivered [4-9] times/);
    const bad = await eventually(async () => ((await status('d:k1:bad')).status === 'failed' ? status('d:k1:bad') : undefined), 4_000, 'the unusable task failed');
    assert.match(bad.last_error!, /^invalid_task:/);
    const list = (await h.api('GET', '/v1/dead-letters?kind=delivery&reason=poison')).body.dead_letters;
    assert.ok(list.some((d: any) => d.notification_id === 'lane-poison'), 'the poison delivery is listed for its tenant');
    assert.equal(h.fakes.received('ses').filter((m: any) => JSON.stringify(m).includes('lane-poison')).length, 0, 'never sent');
    await worker.stop();
  });

  it('does not send again a lane entry replayed by a recreated group when its delivery is already sent', async () => {
    const lane = `${h.prefix}:out:email`;
    await redis.xgroup('DESTROY', lane, 'send'); // lost (an earlier worker made it)
    const record = `${h.prefix}:n:acme:replayed`;
    const rec = (status: string, attempts: number) =>
      JSON.stringify({ user_id: 'k1', channel: 'email', provider: 'ses', to: 'k***@example.com', status, attempts, updated_at: 'then' });
    await redis.hset(record, { meta: JSON.stringify({ tenant: 'acme', created_at: Date.now() }), 'd:k1:done': rec('sent', 1), 'd:k1:fresh': rec('queued', 0) });
    const task = (dk: string) => JSON.stringify({ nid: 'replayed', dk, tenant: 'acme', user_id: 'k1', channel: 'email', lane: 'email',
      to: 'k1@example.com', content: { subject: `replayed-${dk.slice(3)}`, text: 'x' }, priority: 'normal', accepted_at: Date.now(), attempt: 1 });
    // Sent and acknowledged by the lost group, not yet trimmed; then one not handled yet.
    await redis.xadd(lane, '*', 'd', task('k1:done'));
    await redis.xadd(lane, '*', 'd', task('k1:fresh'));
    h.fakes.clear();
    const worker = await h.startWorker(FAST);
    await eventually(async () => (JSON.parse((await redis.hget(record, 'd:k1:fresh'))!).status === 'sent' ? true : undefined), 6_000, 'the fresh entry sent');
    const subjects = h.fakes.received('ses').map((m) => m.body.Content.Simple.Subject.Data as string);
    assert.ok(subjects.includes('replayed-fresh'));
    assert.ok(!subjects.includes('replayed-done'), 'the settled delivery was not sent again');
    assert.equal(((await redis.xpending(lane, 'send')) as [number])[0], 0, 'both acknowledged');
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
