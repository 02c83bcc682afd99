// Feedback for a record already gone from Redis (FeedbackStore.late): handed on with the JSON feedback.lua would
// store, `unknown` when nothing knows the delivery, and a failed hand-over can be retried (it is not a duplicate).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { DeliveryRef, FeedbackUpdate } from '../src/domain/feedback.js';
import type { DeliveryFeedback } from '../src/domain/record.js';
import { decodeEvent } from '../src/history/events.js';
import { lateFeedbackToHistory } from '../src/feedback/late.js';
import { FeedbackStore } from '../src/store/feedback.js';
import type { StoredNotification } from '../src/store/notifications.js';
import { makeKeys } from '../src/streams/keys.js';
import { pairs } from '../src/streams/replies.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('feedback-late');
const keys = makeKeys(prefix);
let redis: Redis;
const NOW = Date.parse('2030-01-02T00:00:00Z');

before(async () => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

const update = (dk: string): FeedbackUpdate => ({
  provider: 'ses', type: 'bounce', status: 'bounced', detail: 'Permanent/General', providerMessageId: 'm-1',
  ref: { tenant: 'acme', nid: 'old', dk }, at: '2030-01-01T00:00:00Z',
});

describe('late feedback', () => {
  it('appends the feedback event for a delivery only the history has, and answers unknown for one it lacks', async () => {
    const archived: StoredNotification = {
      id: 'old', meta: { tenant: 'acme', created_at: 1_000 },
      deliveries: [{ key: 'jane:email', user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status: 'sent', attempts: 1, updated_at: 'x' }],
    };
    const store = new FeedbackStore(redis, keys, 60_000, () => NOW);
    store.late = lateFeedbackToHistory({ getNotification: async (tenant, id) => (tenant === 'acme' && id === 'old' ? archived : null) }, store.events);
    assert.deepEqual(await store.apply(update('jane:email'), 'e1'), { result: 'archived' });
    assert.deepEqual(await store.apply(update('bob:email'), 'e2'), { result: 'unknown' });
    const entries = (await redis.xrange(keys.events, '-', '+')) as [string, string[]][];
    assert.equal(entries.length, 1);
    const ev = decodeEvent(entries[0]![0], pairs<string>(entries[0]![1]));
    assert.deepEqual(ev, {
      id: entries[0]![0], kind: 'feedback', tenant: 'acme', notificationId: 'old', createdAt: 1_000, key: 'jane:email',
      data: {
        event: 'bounce', at: '2030-01-01T00:00:00Z', status: 'bounced', detail: 'Permanent/General', provider_message_id: 'm-1',
        received_at: new Date(NOW).toISOString(), rank: 2,
      },
    });
    assert.equal((await store.apply(update('jane:email'), 'e1')).result, 'duplicate', 'a redelivered event is handed on once');
  });

  it('lets the provider retry when the hand-over fails', async () => {
    const store = new FeedbackStore(redis, keys, 60_000);
    const seen: [DeliveryRef, DeliveryFeedback][] = [];
    let down = true;
    store.late = async (ref, fb) => {
      if (down) throw new Error('history unavailable');
      seen.push([ref, fb]);
      return true;
    };
    await assert.rejects(store.apply(update('jane:email'), 'e3'), /history unavailable/);
    down = false;
    assert.equal((await store.apply(update('jane:email'), 'e3')).result, 'archived', 'not taken for a duplicate');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]![1].rank, 2);
  });

  it('leaves feedback for a live record to feedback.lua', async () => {
    await redis.hset(keys.notification('acme', 'live'), 'meta', JSON.stringify({ tenant: 'acme', created_at: 5 }), 'd:jane:email', JSON.stringify({
      user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status: 'sent', attempts: 1, updated_at: 'x',
    }));
    const store = new FeedbackStore(redis, keys, 60_000);
    store.late = async () => assert.fail('not asked for a live record');
    const r = await store.apply({ ...update('jane:email'), ref: { tenant: 'acme', nid: 'live', dk: 'jane:email' } }, 'e4');
    assert.equal(r.result, 'applied');
  });
});
