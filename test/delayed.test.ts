// move-due.lua: a due member becomes a stream entry with all of its fields; a part that would split it is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { delayedMember } from '../src/domain/reentry.js';
import { DelayedMover } from '../src/streams/delayed.js';
import { makeKeys } from '../src/streams/keys.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('delayed');
const keys = makeKeys(prefix);
let redis: Redis;

before(() => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

describe('moving due members', () => {
  it('writes every field of a member, and only members that are due', async () => {
    const now = 1_000_000;
    await redis.zadd(keys.delayed, now - 1, delayedMember(keys.ingest, 'payload', '{"a":1}', 'traceparent', '00-abc-def-01'));
    await redis.zadd(keys.delayed, now, delayedMember(keys.ingest, 'task', '{"b":2}'));
    await redis.zadd(keys.delayed, now + 1, delayedMember(keys.ingest, 'task', '{"later":true}'));
    const mover = new DelayedMover(redis, keys, createLogger('silent'), 200, 500, () => now);
    assert.equal(await mover.tick(), 2);
    const entries = (await redis.xrange(keys.ingest, '-', '+')).map(([, f]) => f);
    assert.deepEqual(entries, [['payload', '{"a":1}', 'traceparent', '00-abc-def-01'], ['task', '{"b":2}']]);
    assert.equal(await redis.zcard(keys.delayed), 1);
  });

  it('refuses a part holding a newline, which would add fields when the member is split', () => {
    assert.throws(() => delayedMember(keys.ingest, 'payload', '{}', 'traceparent', 'x\nsrc\napi'), /newline/);
  });
});
