// SIGTERM with sends in flight: the worker exits 0 and nothing is lost — what it finished is recorded sent, what it
// could not finish in time is left pending and sent by another worker. The stop runs under one deadline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { stopInOrder } from '../src/shutdown.js';
import { eventually, serviceEnv, startHarness, type Harness } from './support/harness.js';
import { spawnService } from './support/process.js';
import { REDIS_URL } from './support/redis.js';

const N = 6;
let h: Harness;
let redis: Redis;

before(async () => {
  h = await startHarness('shutdown', { role: 'ingress' });
  redis = new Redis(REDIS_URL);
  for (let u = 0; u < N; u++) await h.api('PUT', `/v1/users/s${u}`, { email: `s${u}@example.com` });
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

const post = async (tag: string): Promise<string[]> => {
  const notifications = Array.from({ length: N }, (_, u) => ({ user_id: `s${u}`, channels: ['email'], content: { subject: `${tag}-${u}`, text: 'x' } }));
  const r = await h.api('POST', '/v1/notifications/batch', { notifications });
  assert.equal(r.body.accepted, N);
  return r.body.results.map((x: { id: string }) => x.id);
};
const sendsInFlight = () => eventually(async () => {
  const [pending] = (await redis.xpending(`${h.prefix}:out:email`, 'send')) as [number];
  return pending >= N ? true : undefined;
}, 15_000, 'every send to be in flight');
const statuses = (ids: string[]) => Promise.all(ids.map(async (id) => (await h.api('GET', `/v1/notifications/${id}`)).body.status as string));
const allSent = (ids: string[]) => eventually(async () => ((await statuses(ids)).every((s) => s === 'sent') ? true : undefined), 15_000, 'every notification sent');

const worker = (env: Record<string, string>) => spawnService(['--role', 'worker'], serviceEnv(h.prefix, {
  NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info', NOTIFY_CLAIM_IDLE_MS: '1000', ...env,
}));

describe('SIGTERM with slow sends in flight', () => {
  it('finishes them within the timeout, records them sent and exits 0', async () => {
    h.fakes.behavior('ses', { latencyMs: 1_500 });
    const w = worker({ NOTIFY_SHUTDOWN_TIMEOUT_MS: '10000' });
    try {
      await w.waitForLog((l) => l.msg === 'worker started');
      const ids = await post('finish');
      await sendsInFlight();
      assert.equal(await w.stop('SIGTERM'), 0);
      assert.deepEqual(await statuses(ids), ids.map(() => 'sent'), 'recorded before the process exited');
      assert.ok(!w.logs.some((l) => String(l.msg).includes('left pending')));
    } finally {
      h.fakes.resetBehavior();
      await w.stop('SIGKILL');
    }
  });

  it('hands back what it cannot finish in time; another worker sends it, nothing is lost', async () => {
    h.fakes.behavior('ses', { latencyMs: 5_000 });
    const w = worker({ NOTIFY_SHUTDOWN_TIMEOUT_MS: '200' });
    try {
      await w.waitForLog((l) => l.msg === 'worker started');
      const ids = await post('handback');
      await sendsInFlight();
      assert.equal(await w.stop('SIGTERM'), 0);
      const left = w.logs.find((l) => l.msg === 'deliveries left pending; another worker will claim them');
      assert.equal(left?.left, N);
      h.fakes.resetBehavior();
      await h.startWorker({ NOTIFY_CLAIM_IDLE_MS: '1000' });
      await allSent(ids);
      const subjects = new Set(h.fakes.received('ses').map((m) => m.body.Content.Simple.Subject.Data as string));
      for (let u = 0; u < N; u++) assert.ok(subjects.has(`handback-${u}`));
    } finally {
      h.fakes.resetBehavior();
      await w.stop('SIGKILL');
    }
  });
});

describe('stopInOrder', () => {
  it('gives each stage what is left of one deadline, never more in all', async () => {
    let t = 0;
    const given: number[] = [];
    const stage = (takes: number) => async (remaining: number) => {
      given.push(remaining);
      t += Math.min(takes, remaining);
    };
    await stopInOrder([stage(0), stage(10_000), stage(99_999), stage(1)], 15_000, () => t);
    assert.deepEqual(given, [15_000, 15_000, 5_000, 0]);
    assert.equal(t, 15_000);
  });
});
