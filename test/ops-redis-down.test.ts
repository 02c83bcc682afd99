// With Redis gone, /readyz and /metrics still answer at once: not ready, notify_redis_up 0, the process' own
// metrics served and the queue gauges left out; when Redis is back, so are they.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, eventually, type Harness } from './support/harness.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';

let server: RedisServer;
let h: Harness;

before(async () => {
  server = await startRedisServer();
  h = await startHarness('ops-redis-down', { env: { REDIS_URL: server.url } });
});
after(async () => {
  await h.stop();
  await server.stop();
});

/** Fails rather than hangs: the old code took 10 s for /readyz and never finished /metrics. */
const get = (path: string) => fetch(`${h.url}${path}`, { signal: AbortSignal.timeout(5_000) });
const gauge = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));

describe('operations endpoints while Redis is down', () => {
  it('reports Redis up and the queues while it runs', async () => {
    assert.equal((await get('/readyz')).status, 200);
    const text = await (await get('/metrics')).text();
    assert.equal(gauge(text, 'notify_redis_up'), 'notify_redis_up 1');
    assert.ok(gauge(text, 'notify_stream_length'), 'queue gauges are there');
  });

  it('answers not ready and serves the other metrics when Redis is stopped', async () => {
    await server.kill();
    const ready = await get('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: { redis: boolean } }).checks.redis, false);
    await new Promise((r) => setTimeout(r, 1_100)); // past the queue gauges' one-second cache
    const res = await get('/metrics');
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(gauge(text, 'notify_redis_up'), 'notify_redis_up 0');
    assert.ok(gauge(text, 'notify_process_cpu_user_seconds_total'), 'process metrics are still served');
    assert.equal(gauge(text, 'notify_stream_length'), undefined, 'no stale queue values');
    assert.match(gauge(text, 'notify_dead_letters') ?? '', /^notify_dead_letters nan$/i, 'unknown (NaN), not 0');
  });

  it('recovers when Redis is back', async () => {
    await server.restart();
    await eventually(async () => ((await get('/readyz')).status === 200 ? true : undefined), 10_000, 'ready again');
    await eventually(async () => (gauge(await (await get('/metrics')).text(), 'notify_redis_up') === 'notify_redis_up 1' ? true : undefined), 5_000, 'redis up');
  });
});
