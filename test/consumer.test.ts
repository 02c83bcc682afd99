// The stream consumer on its own against real Redis: a handler that throws never leaves entries in hand for ever.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { StreamConsumer, type Entry } from '../src/streams/consumer.js';
import { defineScripts } from '../src/streams/scripts.js';
import { eventually } from './support/harness.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('consumer');
const stream = `${prefix}:s`;
let cmd: Redis;

before(() => {
  cmd = new Redis(REDIS_URL);
  defineScripts(cmd);
});
after(async () => {
  cmd.disconnect();
  await dropPrefix(prefix);
});

describe('StreamConsumer', () => {
  it('lets go of the entries of a handler that threw; they are claimed again, not kept in hand', async () => {
    const seen: { ids: string[]; claimed: boolean }[] = [];
    let consumer: StreamConsumer | undefined;
    const handle = (entries: Entry[], claimed: boolean) => {
      seen.push({ ids: entries.map((e) => e.id), claimed });
      if (!claimed) throw new TypeError('handler bug');
      for (const e of entries) void cmd.xack(stream, 'g', e.id).then(() => consumer!.release(e.id));
    };
    consumer = new StreamConsumer(cmd, new Redis(REDIS_URL), {
      stream, group: 'g', consumer: 'c1', count: 10, blockMs: 100, maxInflight: 10, claimIdleMs: 1_000,
      maxDeliveries: 5, maxHandleMs: 60_000, dead: { stream: `${prefix}:dead`, events: `${prefix}:events`, kind: 'intake' },
    }, handle, createLogger('silent'));
    await consumer.start();
    try {
      const ids = ((await cmd.multi().xadd(stream, '*', 'k', '1').xadd(stream, '*', 'k', '2').exec()) ?? []).map(([, id]) => id as string);
      await eventually(async () => (seen.length > 0 ? true : undefined), 3_000, 'the first read');
      assert.deepEqual(seen[0]!.ids, ids, 'both entries in one read');
      assert.equal(consumer.inflightCount, 0, 'nothing stays in hand after the handler threw');
      const claimedAgain = () => new Set(seen.filter((s) => s.claimed).flatMap((s) => s.ids));
      await eventually(async () => (ids.every((id) => claimedAgain().has(id)) ? true : undefined), 5_000, 'both entries to be claimed again');
      await eventually(async () => (((await cmd.xpending(stream, 'g')) as [number])[0] === 0 ? true : undefined), 3_000, 'the acks');
    } finally {
      await consumer.stop();
    }
  });
});
