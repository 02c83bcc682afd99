// A real poison crash loop: every worker process that takes a certain delivery dies on it (kill -9 while it sends).
// After NOTIFY_MAX_DELIVERIES claims the entry is dead-lettered as poison, its delivery fails, and everything else flows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { eventually, serviceEnv, startHarness, type Harness } from './support/harness.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { REDIS_URL } from './support/redis.js';

let h: Harness;
let redis: Redis;
const procs: ServiceProcess[] = [];

before(async () => {
  h = await startHarness('poison-loop', { role: 'ingress' });
  redis = new Redis(REDIS_URL);
  await h.api('PUT', '/v1/users/victim', { email: 'poison@example.com' });
  await h.api('PUT', '/v1/users/ok', { email: 'ok@example.com' });
  // The poison delivery's send never gets an answer: the worker is killed while it waits.
  h.fakes.behavior('ses', { latencyMs: 60_000, onlyTo: 'poison@example.com' });
});
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  redis.disconnect();
  await h.stop();
});

const email = (user: string, subject: string) =>
  h.api('POST', '/v1/notifications', { user_id: user, channels: ['email'], content: { subject, text: 'x' } }).then((r) => r.body.id as string);

const MAX_DELIVERIES = 2;

describe('poison crash loop', () => {
  it('ends in the dead-letter stream after NOTIFY_MAX_DELIVERIES crashed workers, while other entries keep flowing', async () => {
    const lane = `${h.prefix}:out:email`;
    const env = serviceEnv(h.prefix, {
      NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info', NOTIFY_CLAIM_IDLE_MS: '1000', NOTIFY_MAX_DELIVERIES: String(MAX_DELIVERIES),
    });
    const poison = await email('victim', 'poison');
    const others: string[] = [];
    let crashes = 0;
    let entry: string | undefined;
    for (let round = 0; round < 5; round++) {
      const w = spawnService(['--role', 'worker'], env);
      procs.push(w);
      const consumer = String((await w.waitForLog((l) => l.msg === 'worker started', 30_000)).consumer);
      // Other work flows meanwhile (and is done before the crash, so only the poison entry is in hand when it comes).
      const ok = await email('ok', `ok-${round}`);
      others.push(ok);
      await eventually(async () => ((await h.api('GET', `/v1/notifications/${ok}`)).body.status === 'sent' ? true : undefined), 10_000, `${ok} sent`);
      // Either this worker takes the poison delivery (and dies on it), or it sets the entry aside.
      const took = await eventually(async () => {
        entry ??= (await redis.xrange(lane, '-', '+')).find(([, f]) => f.join().includes(poison))?.[0];
        if (entry) {
          const mine = (await redis.xpending(lane, 'send', entry, entry, 1, consumer)) as [string, string, number, number][];
          // Claimed once more than NOTIFY_MAX_DELIVERIES, it is in this worker's hands only until it is set aside.
          if (mine.length === 1 && mine[0]![3] <= MAX_DELIVERIES) return true;
        }
        return (await redis.xlen(`${h.prefix}:dead`)) > 0 ? false : undefined;
      }, 10_000, 'the worker to take the poison delivery or set it aside');
      if (!took) break;
      w.child.kill('SIGKILL');
      await w.stop();
      crashes++;
    }
    assert.equal(crashes, MAX_DELIVERIES, 'two workers died on it, the third set it aside');
    const dead = (await h.api('GET', '/v1/dead-letters?kind=delivery&reason=poison')).body.dead_letters;
    assert.deepEqual(dead.map((d: any) => d.notification_id), [poison]);
    const n = await eventually(async () => {
      const r = (await h.api('GET', `/v1/notifications/${poison}`)).body;
      return r.status === 'failed' ? r : undefined;
    }, 5_000, 'the poison notification to fail');
    assert.match(n.deliveries[0].last_error, new RegExp(`^poison: delivered ${MAX_DELIVERIES + 1} times`));
    assert.equal(others.length, 3, 'each worker sent other work');
  });
});
