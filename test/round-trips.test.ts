// One commit per batch, not per message: N notifications for N users waiting in the ingest stream are read by one
// worker in one read and planned with a few commit-plan.lua calls. Counted with INFO commandstats on a Redis of this
// test's own (nothing else runs scripts on it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startFakes, type Fakes } from '../src/fakes/index.js';
import { makeKeys } from '../src/streams/keys.js';
import { API_KEY, eventually, serviceEnv } from './support/harness.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { testPrefix } from './support/redis.js';

const N = 200;
const prefix = testPrefix('round-trips');
const keys = makeKeys(prefix);
let server: RedisServer;
let redis: Redis;
let fakes: Fakes;
let env: Record<string, string>;
const procs: ServiceProcess[] = [];

/** Calls of the script commands so far (EVALSHA, and EVAL for a script Redis did not have cached yet). */
async function scriptCalls(): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(m[2]);
  return calls;
}

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  fakes = await startFakes();
  env = serviceEnv(prefix, {
    REDIS_URL: server.url, NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info',
    NOTIFY_INTAKE_BATCH: String(N + 56), NOTIFY_PROVIDER_CONCURRENCY: String(N + 56),
  });
  const ingress = spawnService(['--role', 'ingress'], env);
  procs.push(ingress);
  const url = `http://127.0.0.1:${(await ingress.waitForLog((l) => l.msg === 'HTTP ingress listening')).port}`;
  const call = (method: string, path: string, body: unknown) => fetch(url + path, {
    method, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  for (let start = 0; start < N; start += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, k) => call('PUT', `/v1/users/rt${start + k}`, { email: `rt${start + k}@example.com` })));
  }
  const r = await call('POST', '/v1/notifications/batch', {
    notifications: Array.from({ length: N }, (_, i) => ({ user_id: `rt${i}`, channels: ['email'], content: { subject: `rt: ${i}`, text: 'x' } })),
  });
  assert.equal(((await r.json()) as { accepted: number }).accepted, N);
});
after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  redis.disconnect();
  await fakes.close();
  await server.stop();
});

describe('commit-plan.lua round trips', () => {
  it(`plans ${N} notifications for ${N} users read at once with a few script calls, not one per message`, async (t) => {
    assert.equal(await redis.xlen(keys.ingest), N, 'all waiting before a worker starts');
    // Sends are held at the provider so their outcomes (commit-sends.lua) come after the count.
    fakes.behavior('ses', { latencyMs: 1_500 });
    const before = await scriptCalls();
    const worker = spawnService(['--role', 'worker'], env);
    procs.push(worker);
    await eventually(async () => ((await redis.xlen(keys.lane('email'))) === N ? true : undefined), 15_000, 'every notification planned');
    const calls = (await scriptCalls()) - before;
    // A few commits (and the delayed-set mover's ticks meanwhile); one commit per message would be N.
    t.diagnostic(`${calls} script calls`);
    assert.ok(calls >= 1 && calls <= N / 10, `${calls} script calls planned ${N} notifications`);
    assert.equal((await redis.xpending(keys.ingest, 'intake') as [number])[0], 0, 'every ingest entry acknowledged by its commit');

    fakes.resetBehavior('ses');
    await eventually(async () => (fakes.stats().ses.accepted >= N ? true : undefined), 15_000, 'every email sent');
    assert.equal(new Set(fakes.received('ses').map((m) => m.body.Content.Simple.Subject.Data)).size, N);
  });
});
