// Fair scheduling between tenants: the intake's round-robin queue on its own; a worker that reads a burst of recipients
// from one tenant and then one notification from another plans the second before most of the burst; and the lanes' bulk
// streams, which let the second one be sent before most of a burst already planned.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { FairQueue } from '../src/actors/fair-queue.js';
import { OTHER_TENANT_KEY, eventually, startHarness, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';

describe('FairQueue', () => {
  it('runs at most `limit` at once, serves waiting tenants in turn, and keeps each tenant in order', () => {
    const started: string[] = [];
    const q = new FairQueue<string>(2, (item) => started.push(item));
    for (let i = 0; i < 5; i++) q.push('a', `a${i}`);
    q.push('b', 'b0');
    q.push('b', 'b1');
    q.push('c', 'c0');
    assert.deepEqual(started, ['a0', 'a1'], 'two slots, both taken by the first tenant while it was alone');
    assert.equal(q.waiting, 6);
    for (let i = 0; i < 6; i++) q.done();
    assert.deepEqual(started, ['a0', 'a1', 'a2', 'b0', 'c0', 'a3', 'b1', 'a4']);
    assert.equal(q.waiting, 0);
    assert.equal(q.active, 2);
    q.done();
    q.done();
    q.push('c', 'c1');
    assert.deepEqual(started.at(-1), 'c1', 'a free slot starts new work at once');
  });
});

describe('fair planning between tenants (real Redis, one worker)', () => {
  let h: Harness;
  let redis: Redis;
  const BURST = 200;
  before(async () => {
    // Only an ingress at first, so the worker reads both notifications together; 20 recipients planned at once. No bulk
    // lane here: one lane stream shows the order of commits.
    h = await startHarness('fairness', {
      role: 'ingress', env: { NOTIFY_INTAKE_MAX_RECIPIENTS: process.env.FAIRNESS_MAX_RECIPIENTS ?? '20', NOTIFY_BULK_THRESHOLD: '0' },
    });
    redis = new Redis(REDIS_URL);
    await Promise.all(Array.from({ length: BURST }, (_, i) => h.api('PUT', `/v1/users/a${i}`, { email: `a${i}@example.com` })));
    await h.api('PUT', '/v1/users/b0', { email: 'b0@example.com' }, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
  });
  after(async () => {
    h.fakes.resetBehavior();
    redis?.disconnect();
    await h?.stop();
  });

  it("plans another tenant's single notification before most of a burst read ahead of it", async () => {
    const content = { subject: 'Hi', text: 'Hello' };
    const burst = await h.api('POST', '/v1/notifications', { to: Array.from({ length: BURST }, (_, i) => ({ user_id: `a${i}` })), channels: ['email'], content });
    const single = await h.api('POST', '/v1/notifications', { user_id: 'b0', channels: ['email'], content }, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.deepEqual([burst.status, single.status], [202, 202]);
    // Slow sends keep every lane entry in the stream (pending or not yet read), so the lane shows the order of commits.
    h.fakes.behavior('ses', { latencyMs: 3_000 });
    await h.startWorker();
    const lane = `${h.prefix}:out:email`;
    const entries = await eventually(async () => {
      const all = await redis.xrange(lane, '-', '+');
      return all.length === BURST + 1 ? all : undefined;
    }, 20_000, 'every delivery committed to the email lane');
    const order = entries.map(([, fields]) => (JSON.parse(fields[1]!) as { nid: string }).nid);
    const position = order.indexOf(single.body.id as string);
    assert.ok(position >= 0);
    // Without fairness it comes after the whole burst (position 200); with 20 at once, within the first few turns.
    assert.ok(position < BURST / 2, `the other tenant's delivery was committed at position ${position} of ${order.length}`);
  });
});

describe('bulk lanes (real Redis, one worker)', () => {
  let h: Harness;
  const BURST = 200;
  before(async () => {
    h = await startHarness('fairness-lanes', { role: 'ingress', env: { NOTIFY_BULK_THRESHOLD: process.env.FAIRNESS_BULK_THRESHOLD ?? '100' } });
    await Promise.all(Array.from({ length: BURST }, (_, i) => h.api('PUT', `/v1/users/a${i}`, { email: `a${i}@example.com` })));
    await h.api('PUT', '/v1/users/b0', { email: 'b0@example.com' }, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
  });
  after(async () => {
    h.fakes.resetBehavior();
    await h?.stop();
  });

  it("sends another tenant's notification before most of a big one planned just ahead of it", async () => {
    const content = { subject: 'Hi', text: 'Hello' };
    const burst = await h.api('POST', '/v1/notifications', { to: Array.from({ length: BURST }, (_, i) => ({ user_id: `a${i}` })), channels: ['email'], content });
    const single = await h.api('POST', '/v1/notifications', { user_id: 'b0', channels: ['email'], content }, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.deepEqual([burst.status, single.status], [202, 202]);
    // Every recipient planned at once (so the intake alone would commit the single one last), few sends at a time.
    h.fakes.behavior('ses', { latencyMs: 20 });
    await h.startWorker({ NOTIFY_INTAKE_MAX_RECIPIENTS: '10000', NOTIFY_CHANNEL_CONCURRENCY: '4' });
    const received = await eventually(async () => {
      const all = h.fakes.received('ses');
      return all.length >= BURST + 1 ? all : undefined;
    }, 30_000, 'every email sent');
    const position = received.findIndex((m) => m.to.includes('b0@example.com'));
    assert.ok(position >= 0);
    assert.ok(position < BURST / 4, `the other tenant's email was sent at position ${position} of ${received.length}`);
  });
});
