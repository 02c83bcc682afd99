import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActorSystem } from '../src/actors/actor-system.js';
import { Batcher } from '../src/actors/batcher.js';
import { Mailbox } from '../src/actors/mailbox.js';

describe('ActorSystem', () => {
  it('runs one message at a time per key, in order, keys concurrently, and drops idle actors', async () => {
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const busy = new Map<string, boolean>();
    const sys = new ActorSystem<number>(async (key, n) => {
      assert.ok(!busy.get(key), `actor ${key} ran two messages at once`);
      busy.set(key, true);
      maxRunning = Math.max(maxRunning, ++running);
      await sleep(n % 3);
      log.push(`${key}${n}`);
      running--;
      busy.set(key, false);
    }, (err) => assert.fail(String(err)));
    for (let i = 0; i < 5; i++) for (const k of ['a', 'b', 'c']) sys.tell(k, i);
    assert.equal(sys.size, 3);
    await sys.idle();
    for (const k of ['a', 'b', 'c']) assert.deepEqual(log.filter((l) => l[0] === k), [0, 1, 2, 3, 4].map((i) => `${k}${i}`));
    assert.ok(maxRunning > 1, 'different keys ran concurrently');
    assert.equal(sys.size, 0, 'idle actors are dropped');
  });

  it('reports a failing message and goes on with the next', async () => {
    const errors: unknown[] = [];
    const seen: number[] = [];
    const sys = new ActorSystem<number>(async (_k, n) => {
      if (n === 1) throw new Error('boom');
      seen.push(n);
    }, (err) => errors.push(err));
    [0, 1, 2].forEach((n) => sys.tell('k', n));
    await sys.idle();
    assert.deepEqual(seen, [0, 2]);
    assert.equal(errors.length, 1);
  });
});

describe('Batcher', () => {
  it('serves the calls of one turn with one flush, results in order', async () => {
    const flushes: number[][] = [];
    const b = new Batcher(async (xs: number[]) => {
      flushes.push(xs);
      return xs.map((x) => x * 10);
    });
    const r = await Promise.all([1, 2, 3].map((x) => b.add(x)));
    assert.deepEqual(r, [10, 20, 30]);
    assert.deepEqual(flushes, [[1, 2, 3]]);
  });

  it('flushes at maxBatch and rejects every item of a failed flush', async () => {
    const sizes: number[] = [];
    const b = new Batcher(async (xs: number[]) => {
      sizes.push(xs.length);
      if (xs.includes(-1)) throw new Error('down');
      return xs;
    }, 2);
    await Promise.all([1, 2, 3].map((x) => b.add(x)));
    assert.deepEqual(sizes, [2, 1]);
    const results = await Promise.allSettled([b.add(-1), b.add(5)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  });
});

describe('Mailbox', () => {
  it('is FIFO across compaction', () => {
    const m = new Mailbox<number>();
    for (let i = 0; i < 5000; i++) m.push(i);
    for (let i = 0; i < 4000; i++) assert.equal(m.shift(), i);
    m.push(5000);
    assert.equal(m.size, 1001);
    for (let i = 4000; i <= 5000; i++) assert.equal(m.shift(), i);
    assert.equal(m.shift(), undefined);
  });
});
