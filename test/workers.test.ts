// Two worker processes share the streams: each does part of the work, and every notification is handled exactly once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { eventually, serviceEnv, startHarness, type Harness } from './support/harness.js';
import { parseMetrics } from './support/metrics.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { testRedis } from './support/redis.js';

const USERS = 40;
const NOTIFICATIONS = 400;
let h: Harness;
let workers: ServiceProcess[] = [];

before(async () => {
  h = await startHarness('workers', { role: 'ingress' });
  for (let u = 0; u < USERS; u++) {
    await h.api('PUT', `/v1/users/w${u}`, { email: `w${u}@example.com`, phone: `+1415555${String(u).padStart(4, '0')}` });
  }
  const env = serviceEnv(h.prefix, { NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info', NOTIFY_INTAKE_BATCH: '16', NOTIFY_CHANNEL_BATCH: '16' });
  workers = [spawnService(['--role', 'worker'], env), spawnService(['--role', 'worker'], env)];
  await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started')));
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await h.stop();
});

describe('two worker processes', () => {
  it('handle each notification once: one SMS and one email per notification, none twice', async () => {
    const ids: string[] = [];
    for (let start = 0; start < NOTIFICATIONS; start += 100) {
      const notifications = Array.from({ length: 100 }, (_, k) => {
        const i = start + k;
        return { user_id: `w${i % USERS}`, channels: ['sms', 'email'], content: { body: `msg-${i}`, subject: `subject-${i}` } };
      });
      const r = await h.api('POST', '/v1/notifications/batch', { notifications });
      assert.equal(r.body.accepted, 100);
      ids.push(...r.body.results.map((x: { id: string }) => x.id));
    }
    await eventually(async () => {
      const s = h.fakes.stats();
      return s.twilio.accepted >= NOTIFICATIONS && s.ses.accepted >= NOTIFICATIONS ? true : undefined;
    }, 30_000, 'every message to reach the fakes');
    await new Promise((r) => setTimeout(r, 300));

    const sms = h.fakes.received('twilio').map((m) => m.body.Body as string);
    const email = h.fakes.received('ses').map((m) => m.body.Content.Simple.Subject.Data as string);
    assert.equal(sms.length, NOTIFICATIONS, 'no SMS sent twice');
    assert.equal(new Set(sms).size, NOTIFICATIONS);
    assert.equal(email.length, NOTIFICATIONS, 'no email sent twice');
    assert.equal(new Set(email).size, NOTIFICATIONS);

    for (const id of ids.filter((_, i) => i % 37 === 0)) {
      const n = await h.api('GET', `/v1/notifications/${id}`);
      assert.equal(n.body.status, 'sent');
      assert.deepEqual(n.body.deliveries.map((d: any) => d.attempts), [1, 1]);
    }

    // Each worker did part of the work (its own /metrics), and together they did each piece once.
    const counts = await Promise.all(workers.map(async (w) => {
      const { port } = await w.waitForLog((l) => l.msg === 'health and metrics listening');
      const metrics = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      return {
        read: metrics('notify_intake_entries_total', { result: 'read' }),
        sms: metrics('notify_deliveries_total', { channel: 'sms', status: 'sent' }),
        email: metrics('notify_deliveries_total', { channel: 'email', status: 'sent' }),
      };
    }));
    for (const [i, c] of counts.entries()) {
      assert.ok(c.read > 0 && c.sms > 0 && c.email > 0, `worker ${i} handled some of each: ${JSON.stringify(c)}`);
    }
    const total = (k: 'read' | 'sms' | 'email') => counts.reduce((a, c) => a + c[k], 0);
    assert.deepEqual([total('read'), total('sms'), total('email')], [NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS], 'each entry read once, each message sent once');

    const redis = testRedis();
    try {
      const consumers = (await redis.call('XINFO', 'CONSUMERS', `${h.prefix}:in`, 'intake')) as unknown[][];
      assert.equal(consumers.length, 2, 'both workers joined the intake group');
      const pending = (await redis.xpending(`${h.prefix}:in`, 'intake')) as [number];
      assert.equal(pending[0], 0);
    } finally {
      redis.disconnect();
    }
  });

  it('stop on SIGTERM with exit code 0', async () => {
    const codes = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    assert.deepEqual(codes, [0, 0]);
    for (const w of workers) assert.ok(w.logs.some((l) => l.msg === 'stopped'));
  });
});

