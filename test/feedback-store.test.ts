// feedback.lua through FeedbackStore: a stronger status is never taken back, a redelivered event is applied once,
// another tenant's event changes nothing, hard bounces fill the tenant's suppression list; the record shows it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { FeedbackUpdate } from '../src/domain/feedback.js';
import { FeedbackStore, SuppressionList } from '../src/store/feedback.js';
import { NotificationStore } from '../src/store/notifications.js';
import { makeKeys } from '../src/streams/keys.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('feedback-store');
const keys = makeKeys(prefix);
let redis: Redis;
let store: FeedbackStore;
const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

before(async () => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
  store = new FeedbackStore(redis, keys, 60_000);
  await redis.hset(keys.notification('acme', 'n1'), 'meta', JSON.stringify({ tenant: 'acme', created_at: 1 }), 'd:jane:email', JSON.stringify({
    user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status: 'sent', attempts: 1, updated_at: 'x', tp: TP,
  }));
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

const update = (over: Partial<FeedbackUpdate>): FeedbackUpdate => ({ provider: 'ses', type: 'delivery', ref: { tenant: 'acme', nid: 'n1', dk: 'jane:email' }, at: '2030-01-01T00:00:00Z', ...over });
const shown = async () => (await new NotificationStore(redis, keys, 60_000).get('n1', 'acme'))!.deliveries[0]!;

describe('applying feedback', () => {
  it('moves a sent delivery to delivered, then complained, and never back', async () => {
    assert.deepEqual(await store.apply(update({ type: 'send' }), 'm0'), { result: 'applied', traceparent: TP });
    assert.equal((await shown()).status, 'sent', 'an event alone changes no status');
    assert.equal((await store.apply(update({ status: 'delivered' }), 'm1')).result, 'applied');
    assert.equal((await shown()).status, 'delivered');
    assert.equal((await store.apply(update({ type: 'send' }), 'm2')).result, 'kept');
    assert.equal((await store.apply(update({ type: 'complaint', status: 'complained', suppress: [{ address: 'Jane@example.com', reason: 'complaint' }] }), 'm3')).result, 'applied');
    assert.equal((await store.apply(update({ status: 'delivered' }), 'm4')).result, 'kept');
    const d = await shown();
    assert.equal(d.status, 'complained');
    assert.equal(d.feedback?.event, 'complaint');
    assert.equal(await new SuppressionList(redis, keys).has('acme', 'jane@example.com'), true);
  });

  it('applies a redelivered event once, and ignores other tenants and unknown deliveries', async () => {
    assert.equal((await store.apply(update({ status: 'delivered' }), 'm1')).result, 'duplicate');
    assert.equal((await store.apply(update({ ref: { tenant: 'other', nid: 'n1', dk: 'jane:email' }, status: 'bounced', suppress: [{ address: 'x@example.com', reason: 'bounce' }] }), 'm5')).result, 'unknown');
    // Ids are per tenant: that names another tenant's notification n1 (none here), never acme's.
    assert.equal(await new SuppressionList(redis, keys).has('acme', 'x@example.com'), false, 'nothing of acme\'s is touched');
    assert.equal((await store.apply(update({ ref: { tenant: 'acme', nid: 'n1', dk: 'nobody:email' }, status: 'delivered' }), 'm6')).result, 'unknown');
    assert.equal((await shown()).status, 'complained');
  });

  it('still suppresses a hard bounce whose record has expired', async () => {
    const r = await store.apply(update({ ref: { tenant: 'acme', nid: 'gone', dk: 'bob:email' }, type: 'bounce', status: 'bounced', suppress: [{ address: 'bob@example.com', reason: 'bounce' }] }), 'm7');
    assert.equal(r.result, 'unknown');
    assert.equal(await new SuppressionList(redis, keys).has('acme', 'bob@example.com'), true);
  });
});
