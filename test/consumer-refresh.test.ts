// StreamConsumer against a real Redis: it keeps its own long-running entries fresh, but never takes back an entry
// another consumer claimed from it while it stalled.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { StreamConsumer, type Entry } from '../src/streams/consumer.js';
import { defineScripts } from '../src/streams/scripts.js';
import { ensureGroup } from '../src/streams/groups.js';
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
const owner = async (id: string, key = stream) => ((await cmd.xpending(key, GROUP, id, id, 1)) as [string, string, number, number][])[0];

describe('StreamConsumer', () => {
  it('refreshes only the entries still pending on it: one claimed by another consumer stays claimed', async () => {
    const held: Entry[] = [];
    // Idle limit 2 s: the refresh runs every 500 ms, and nothing is idle long enough to be claimed back legitimately.
    const consumer = new StreamConsumer(cmd, blocking, {
      stream, group: GROUP, consumer: 'a', count: 10, blockMs: 100, maxInflight: 10, claimIdleMs: 2_000,
      maxDeliveries: 5, maxHandleMs: 60_000, dead: { stream: `${prefix}:dead`, events: `${prefix}:events`, kind: 'delivery' },
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

  it('reports as taken over only entries another consumer claimed, not entries that were simply acknowledged', async () => {
    const s4 = `${prefix}:acked`;
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(JSON.parse(c.toString())), done()) }));
    const held: Entry[] = [];
    const consumer = new StreamConsumer(cmd, new Redis(REDIS_URL), {
      stream: s4, group: GROUP, consumer: 'a', count: 10, blockMs: 100, maxInflight: 10, claimIdleMs: 2_000,
      maxDeliveries: 5, maxHandleMs: 60_000, dead: { stream: `${prefix}:dead-acked`, events: `${prefix}:events`, kind: 'delivery' },
    }, (entries) => held.push(...entries), log);
    await consumer.start();
    const takenOver = () => lines.filter((l) => String(l.msg).includes('taken over'));
    try {
      const [acked, taken, kept] = [await cmd.xadd(s4, '*', 'n', '1'), await cmd.xadd(s4, '*', 'n', '2'), await cmd.xadd(s4, '*', 'n', '3')] as string[];
      for (let i = 0; i < 100 && held.length < 3; i++) await sleep(10);
      assert.equal(held.length, 3);
      // Acknowledged by its handler, which has not released it yet (its XACK reply is still on the way back).
      await cmd.xack(s4, GROUP, acked!);
      await sleep(1_400);
      assert.deepEqual(takenOver(), [], 'an acknowledged entry is not reported as taken over');
      assert.equal(consumer.inflightCount, 2, 'the acknowledged entry left the in-hand set');
      // A real takeover is still reported, and counted as one.
      await cmd.xclaim(s4, GROUP, 'b', 0, taken!);
      for (let i = 0; i < 150 && takenOver().length === 0; i++) await sleep(10);
      const [line] = takenOver();
      assert.equal(line?.lost, 1, 'the taken-over entry is reported');
      assert.equal(consumer.inflightCount, 1);
      assert.equal((await owner(kept!, s4))?.[1], 'a');
    } finally {
      await consumer.stop();
    }
  });

  it('frees the slot of a handler stuck past maxHandleMs; the entry is claimed again and ends as poison, and the rest flows', async () => {
    const dead = `${prefix}:dead-stall`;
    const handled: string[] = [];
    let hangs = 0;
    // One slot: while a stuck handler holds it, nothing else would be read.
    const consumer: StreamConsumer = new StreamConsumer(cmd, new Redis(REDIS_URL), {
      stream: `${prefix}:stall`, group: GROUP, consumer: 'a', count: 10, blockMs: 50, maxInflight: 1, claimIdleMs: 400,
      maxDeliveries: 2, maxHandleMs: 300, dead: { stream: dead, events: `${prefix}:events`, kind: 'delivery' },
    }, (entries) => {
      for (const e of entries) {
        if (e.fields.hang) hangs++; // never finishes
        else {
          handled.push(e.fields.n!);
          void cmd.xack(`${prefix}:stall`, GROUP, e.id).then(() => consumer.release(e.id));
        }
      }
    }, createLogger('silent'));
    await consumer.start();
    try {
      const stuck = (await cmd.xadd(`${prefix}:stall`, '*', 'hang', '1'))!;
      for (let i = 0; i < 3; i++) await cmd.xadd(`${prefix}:stall`, '*', 'n', String(i));
      const deadline = Date.now() + 8_000;
      while (Date.now() < deadline && (handled.length < 3 || (await cmd.xlen(dead)) === 0)) await sleep(50);
      assert.deepEqual(handled, ['0', '1', '2'], 'the entries behind the stuck one were handled');
      const [entry] = await cmd.xrange(dead, '-', '+');
      assert.ok(entry, 'the stuck entry was dead-lettered');
      const f = Object.fromEntries(entry[1].flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]!]])));
      assert.deepEqual([f.reason, f.source_id], ['poison', stuck]);
      assert.equal(hangs, 2, 'handed out maxDeliveries times, then set aside');
    } finally {
      await consumer.stop();
    }
  });

  it('hands out entries read again after the group was recreated from the start as claimed, new ones as fresh', async () => {
    const s2 = `${prefix}:replay`;
    const seen: [string, boolean][] = [];
    const consumer: StreamConsumer = new StreamConsumer(cmd, new Redis(REDIS_URL), {
      stream: s2, group: GROUP, consumer: 'a', count: 10, blockMs: 50, maxInflight: 10, claimIdleMs: 60_000,
      maxDeliveries: 5, maxHandleMs: 60_000, dead: { stream: `${prefix}:dead-replay`, events: `${prefix}:events`, kind: 'delivery' },
    }, (entries, claimed) => {
      for (const e of entries) {
        seen.push([e.fields.n!, claimed]);
        void cmd.xack(s2, GROUP, e.id).then(() => consumer.release(e.id));
      }
    }, createLogger('silent'));
    await consumer.start();
    const waitFor = async (n: number) => {
      for (let i = 0; i < 200 && seen.length < n; i++) await sleep(10);
    };
    try {
      await cmd.xadd(s2, '*', 'n', 'old-1');
      await cmd.xadd(s2, '*', 'n', 'old-2');
      await waitFor(2);
      // Lost and recreated from the start (by another worker, say): the acknowledged entries come again.
      await cmd.multi().xgroup('DESTROY', s2, GROUP).xgroup('CREATE', s2, GROUP, '0').exec();
      await waitFor(4);
      await cmd.xadd(s2, '*', 'n', 'new');
      await waitFor(5);
      assert.deepEqual(seen, [['old-1', false], ['old-2', false], ['old-1', true], ['old-2', true], ['new', false]]);
    } finally {
      await consumer.stop();
    }
  });

  it('a consumer that starts after another worker recreated a lost group also treats the replayed entries as claimed', async () => {
    const s3 = `${prefix}:replay-late`;
    await cmd.xadd(s3, '*', 'n', 'old-1');
    await cmd.xadd(s3, '*', 'n', 'old-2');
    // The group is gone (Redis lost it); another worker's start recreates it over the entries already there.
    assert.ok(await ensureGroup(cmd, s3, GROUP), 'the recreating call learns where the replay ends');
    const seen: [string, boolean][] = [];
    const late: StreamConsumer = new StreamConsumer(cmd, new Redis(REDIS_URL), {
      stream: s3, group: GROUP, consumer: 'late', count: 10, blockMs: 50, maxInflight: 10, claimIdleMs: 60_000,
      maxDeliveries: 5, maxHandleMs: 60_000, dead: { stream: `${prefix}:dead-late`, events: `${prefix}:events`, kind: 'delivery' },
    }, (entries, claimed) => {
      for (const e of entries) {
        seen.push([e.fields.n!, claimed]);
        void cmd.xack(s3, GROUP, e.id).then(() => late.release(e.id));
      }
    }, createLogger('silent'));
    await late.start();
    try {
      for (let i = 0; i < 200 && seen.length < 2; i++) await sleep(10);
      await cmd.xadd(s3, '*', 'n', 'new');
      for (let i = 0; i < 200 && seen.length < 3; i++) await sleep(10);
      assert.deepEqual(seen, [['old-1', true], ['old-2', true], ['new', false]]);
    } finally {
      await late.stop();
    }
  });
});
