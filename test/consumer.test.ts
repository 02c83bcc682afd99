// StreamConsumer against a real Redis: it keeps its own long-running entries fresh, but never takes back an entry
// another consumer claimed from it while it stalled.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { StreamConsumer, type Entry } from '../src/streams/consumer.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('consumer');
const stream = `${prefix}:s`;
const GROUP = 'g';
let cmd: Redis;
let blocking: Redis;

before(async () => {
  cmd = new Redis(REDIS_URL);
  defineScripts(cmd);
  blocking = new Redis(REDIS_URL);
});
after(async () => {
  cmd.disconnect();
  await dropPrefix(prefix);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const owner = async (id: string) => ((await cmd.xpending(stream, GROUP, id, id, 1)) as [string, string, number, number][])[0];

describe('StreamConsumer', () => {
  it('refreshes only the entries still pending on it: one claimed by another consumer stays claimed', async () => {
    const held: Entry[] = [];
    // Idle limit 2 s: the refresh runs every 500 ms, and nothing is idle long enough to be claimed back legitimately.
    const consumer = new StreamConsumer(cmd, blocking, {
      stream, group: GROUP, consumer: 'a', count: 10, blockMs: 100, maxInflight: 10, claimIdleMs: 2_000,
      maxDeliveries: 5, maxHandleMs: 60_000, dead: { stream: `${prefix}:dead`, kind: 'delivery' },
    }, (entries) => held.push(...entries), createLogger('silent'));
    await consumer.start();
    try {
      const [taken, kept] = [await cmd.xadd(stream, '*', 'n', '1'), await cmd.xadd(stream, '*', 'n', '2')] as string[];
      for (let i = 0; i < 100 && held.length < 2; i++) await sleep(10);
      assert.equal(held.length, 2, 'both entries in hand (never released: a long-running handler)');
      // Another worker takes one over, as it would after this one stalled past the claim idle time.
      await cmd.xclaim(stream, GROUP, 'b', 0, taken!);
      await sleep(1_400);
      assert.equal((await owner(taken!))?.[1], 'b', 'the claimed entry was not taken back');
      const mine = await owner(kept!);
      assert.equal(mine?.[1], 'a');
      assert.ok(mine![2] < 1_000, `its own entry is kept fresh (idle ${mine![2]} ms)`);
      assert.equal(mine![3], 1, 'refreshing does not raise the delivery count');
      assert.equal(consumer.inflightCount, 1, 'the lost entry left the in-flight map');
    } finally {
      await consumer.stop();
    }
  });
});
