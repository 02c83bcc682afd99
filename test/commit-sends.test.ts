// commit-sends.lua against a real Redis: an outcome is recorded only by the consumer that still owns the lane entry, so
// a worker that stalled past the claim idle time cannot schedule another send of what a new owner already sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { makeKeys, runScript, SEND_GROUP } from '../src/streams/index.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('commit-sends');
const keys = makeKeys(prefix);
const lane = keys.lane('sms');
const record = keys.notification('acme', 'n1');
let redis: Redis;

before(async () => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
  await redis.xgroup('CREATE', lane, SEND_GROUP, '$', 'MKSTREAM');
  await redis.hset(record, 'meta', '{}');
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

/** One unit: a retryable failure that schedules a retry at `due`. */
const retryUnit = (entry: string, due: number) => [
  1 + 3, entry, 'd:u:sms', JSON.stringify({ status: 'queued', attempts: 1, last_error: 'twilio timeout' }),
  due, `${lane}\nd\n{"nid":"n1"}`, '', '', '', '', '',
];
const commit = (consumer: string, entry: string) =>
  runScript<number>(redis, 'commitSends', [lane, keys.delayed, keys.dead, record, keys.events], [SEND_GROUP, 'sms', 1, 1000, consumer, ...retryUnit(entry, 2000)]);
const readAs = async (consumer: string): Promise<string> => {
  const res = (await redis.xreadgroup('GROUP', SEND_GROUP, consumer, 'COUNT', 1, 'STREAMS', lane, '>')) as [string, [string, string[]][]][];
  return res[0]![1][0]![0];
};

describe('commit-sends: only the owner of an entry records its outcome', () => {
  it('a stalled consumer whose entry was claimed by another records nothing and acknowledges nothing', async () => {
    const entry = await redis.xadd(lane, '*', 'd', '{"nid":"n1"}');
    assert.equal(await readAs('stalled'), entry);
    await redis.xclaim(lane, SEND_GROUP, 'new-owner', 0, entry!);
    assert.equal(await commit('stalled', entry!), 0, 'nothing acknowledged');
    assert.equal(await redis.zcard(keys.delayed), 0, 'no retry scheduled');
    assert.equal(await redis.hget(record, 'd:u:sms'), null, 'no outcome recorded');
    const pending = (await redis.xpending(lane, SEND_GROUP, '-', '+', 10)) as [string, string][];
    assert.deepEqual(pending.map(([id, owner]) => [id, owner]), [[entry, 'new-owner']], 'still pending on its new owner');
  });

  it('the owner records the outcome, schedules the retry and acknowledges', async () => {
    const entry = await redis.xadd(lane, '*', 'd', '{"nid":"n1"}');
    assert.equal(await readAs('owner'), entry);
    assert.equal(await commit('owner', entry!), 1);
    assert.equal(await redis.zcard(keys.delayed), 1);
    assert.match((await redis.hget(record, 'd:u:sms')) ?? '', /twilio timeout/);
    const pending = (await redis.xpending(lane, SEND_GROUP, '-', '+', 10, 'owner')) as unknown[];
    assert.equal(pending.length, 0);
  });
});
