// dead-letter.lua against a real Redis, and the pure marks that feed it: a dead-lettered entry leaves its record in a
// terminal state in the same step — never `queued` or `accepted` forever.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ingestDeadMark, laneDeadMark, markArgs, type DeadMark } from '../src/domain/dead-mark.js';
import { shownStatus } from '../src/domain/status.js';
import type { DeliveryRecord } from '../src/domain/record.js';
import { makeKeys, runScript, SEND_GROUP } from '../src/streams/index.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('dead-letter-script');
const keys = makeKeys(prefix);
const lane = keys.lane('email');
let redis: Redis;
let n = 0;

before(async () => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
  await redis.xgroup('CREATE', lane, SEND_GROUP, '$', 'MKSTREAM');
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

const rec = (status: string, extra: object = {}) =>
  JSON.stringify({ user_id: 'u1', channel: 'email', provider: 'ses', to: 'u***@example.com', status, attempts: 1, updated_at: 'then', ...extra });

/** A record with the given delivery fields, and one entry read by `consumer`. */
async function setup(fields: Record<string, string>, consumer = 'c1', tenant = 'acme'): Promise<{ record: string; entry: string }> {
  const record = keys.notification(tenant, `n${++n}`);
  await redis.hset(record, { meta: JSON.stringify({ tenant, created_at: 1 }), ...fields });
  await redis.xadd(lane, '*', 'd', '{}');
  const res = (await redis.xreadgroup('GROUP', SEND_GROUP, consumer, 'COUNT', 1, 'STREAMS', lane, '>')) as [string, [string, string[]][]][];
  return { record, entry: res[0]![1][0]![0] };
}

const deadLetter = (record: string, entry: string, mark: DeadMark | undefined, consumer = 'c1') =>
  runScript<string | null>(redis, 'deadLetter', [lane, keys.dead, record, keys.events], [
    SEND_GROUP, consumer, entry, '2030-01-01T00:00:00.000Z', ...markArgs(mark), 'poison', 'delivered 4 times', 'kind', 'delivery', 'reason', 'poison',
  ]);
const delivery = async (record: string, field: string) => JSON.parse((await redis.hget(record, field))!) as DeliveryRecord;
const pending = async (entry: string) => ((await redis.xpending(lane, SEND_GROUP, entry, entry, 1)) as unknown[]).length;

describe('dead-letter.lua', () => {
  it('fails an open delivery with the reason, appends the dead letter and acknowledges the entry', async () => {
    const { record, entry } = await setup({ 'd:u1:email': rec('retrying', { last_error: 'ses 503' }) });
    const id = await deadLetter(record, entry, { nid: 'x', tenant: 'acme', kind: 'delivery', field: 'd:u1:email' });
    assert.ok(id, 'dead-lettered');
    const d = await delivery(record, 'd:u1:email');
    assert.equal(d.status, 'failed');
    assert.equal(d.last_error, 'poison: delivered 4 times');
    assert.equal(d.provider, 'ses');
    assert.equal(d.updated_at, '2030-01-01T00:00:00.000Z');
    assert.equal(await pending(entry), 0);
    assert.equal((await redis.xrange(keys.dead, id!, id!)).length, 1);
  });

  it('leaves a terminal delivery as it is', async () => {
    const { record, entry } = await setup({ 'd:u1:email': rec('sent') });
    await deadLetter(record, entry, { nid: 'x', tenant: 'acme', kind: 'delivery', field: 'd:u1:email' });
    assert.equal((await delivery(record, 'd:u1:email')).status, 'sent');
  });

  it('marks a notification whose entry could not be planned, so it shows failed', async () => {
    const { record, entry } = await setup({});
    const id = await deadLetter(record, entry, { nid: 'x', tenant: 'acme', kind: 'notification' });
    const np = JSON.parse((await redis.hget(record, 'np'))!);
    assert.deepEqual(np, { reason: 'poison', message: 'delivered 4 times', dead_letter_id: id, at: '2030-01-01T00:00:00.000Z' });
  });

  it("fails only the user's held deliveries when a window's end is dead-lettered", async () => {
    const { record, entry } = await setup({
      'd:u1:email': rec('deferred', { deferred_until: 5 }), 'd:u2:email': rec('deferred', { user_id: 'u2' }), 'd:u1:sms': rec('sent'),
    });
    await deadLetter(record, entry, { nid: 'x', tenant: 'acme', kind: 'held', userId: 'u1' });
    const held = await delivery(record, 'd:u1:email');
    assert.equal(held.status, 'failed');
    assert.equal(held.deferred_until, undefined);
    assert.equal((await delivery(record, 'd:u2:email')).status, 'deferred');
    assert.equal((await delivery(record, 'd:u1:sms')).status, 'sent');
  });

  it("does not touch another tenant's record, nor recreate a record that is gone", async () => {
    const { record, entry } = await setup({ 'd:u1:email': rec('queued') }, 'c1', 'other');
    await deadLetter(record, entry, { nid: 'x', tenant: 'acme', kind: 'delivery', field: 'd:u1:email' });
    assert.equal((await delivery(record, 'd:u1:email')).status, 'queued');
    const gone = await setup({});
    await redis.del(gone.record);
    await deadLetter(gone.record, gone.entry, { nid: 'x', tenant: 'acme', kind: 'notification' });
    assert.equal(await redis.exists(gone.record), 0);
  });

  it('does nothing when the entry is no longer pending on this consumer', async () => {
    const { record, entry } = await setup({ 'd:u1:email': rec('queued') });
    await redis.xclaim(lane, SEND_GROUP, 'c2', 0, entry);
    const before = await redis.xlen(keys.dead);
    assert.equal(await deadLetter(record, entry, { nid: 'x', tenant: 'acme', kind: 'delivery', field: 'd:u1:email' }), null);
    assert.equal(await redis.xlen(keys.dead), before);
    assert.equal((await delivery(record, 'd:u1:email')).status, 'queued');
    assert.equal(await pending(entry), 1, 'still pending on its new owner');
  });
});

describe('dead marks (pure)', () => {
  it('a lane entry marks its delivery; an unreadable one marks nothing', () => {
    assert.deepEqual(laneDeadMark({ d: JSON.stringify({ nid: 'n1', dk: 'u1:email', tenant: 'acme' }) }),
      { nid: 'n1', tenant: 'acme', kind: 'delivery', field: 'd:u1:email' });
    assert.equal(laneDeadMark({ d: '{not json' }), undefined);
    assert.equal(laneDeadMark({ d: JSON.stringify({ nid: 'n1' }) }), undefined);
  });

  it('an ingest entry marks its notification, a held delivery, or the held deliveries of a window', () => {
    assert.deepEqual(ingestDeadMark('1-0', { payload: JSON.stringify({ tenant: 'acme', id: 'abc' }), src: 'api' }),
      { nid: 'abc', tenant: 'acme', kind: 'notification' });
    assert.deepEqual(ingestDeadMark('1-0', { payload: JSON.stringify({ tenant: 'acme' }) }), { nid: 'x-1-0', tenant: 'acme', kind: 'notification' });
    assert.equal(ingestDeadMark('1-0', { payload: 'nope' }), undefined);
    assert.deepEqual(ingestDeadMark('1-0', { task: JSON.stringify({ d: { nid: 'n', dk: 'u:sms', tenant: 'acme' }, n: 1 }) }),
      { nid: 'n', tenant: 'acme', kind: 'delivery', field: 'd:u:sms' });
    assert.deepEqual(ingestDeadMark('1-0', { flush: JSON.stringify({ nid: 'n', tenant: 'acme', user_id: 'u', ck: 'k' }) }),
      { nid: 'n', tenant: 'acme', kind: 'held', userId: 'u' });
  });

  it('a notification not (fully) planned shows failed, or partially sent when some of it went out', () => {
    const d = (status: DeliveryRecord['status']) => ({ status }) as DeliveryRecord;
    assert.equal(shownStatus({ deliveries: [], notPlanned: true }), 'failed');
    assert.equal(shownStatus({ deliveries: [d('sent')], notPlanned: true }), 'partially_sent');
    assert.equal(shownStatus({ deliveries: [d('opted_out')], notPlanned: true }), 'failed');
    assert.equal(shownStatus({ deliveries: [d('queued')], notPlanned: true }), 'processing');
  });
});
