// What an accepted notification survives, read from Redis at start-up; an evicting Redis is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { assessDurability, hasWaitaof, weakestFacts } from '../src/domain/durability.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { startService } from '../src/service.js';
import { serviceEnv } from './support/harness.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { testPrefix } from './support/redis.js';

describe('assessDurability', () => {
  const base = { version: '7.0.15', aof: true, appendfsync: 'everysec', maxmemoryPolicy: 'noeviction', waitaof: false };
  it('says plainly what survives', () => {
    assert.match(assessDurability({ ...base, aof: false }).summary, /NOT a Redis restart/);
    assert.match(assessDurability(base).summary, /power loss may lose the last ~1 s/);
    assert.match(assessDurability({ ...base, appendfsync: 'always' }).summary, /survives a Redis crash and a host power loss/);
  });
  it('picks how strict mode makes a 202 durable', () => {
    assert.equal(assessDurability({ ...base, appendfsync: 'always' }).strict, 'fsync-always');
    assert.equal(assessDurability({ ...base, version: '7.2.4', waitaof: true }).strict, 'waitaof');
    assert.equal(assessDurability(base).strict, 'unavailable');
    assert.equal(hasWaitaof('7.2.0'), true);
    assert.equal(hasWaitaof('7.0.15'), false);
  });
  it('flags eviction', () => {
    assert.equal(assessDurability({ ...base, maxmemoryPolicy: 'allkeys-lru' }).evicting, true);
  });
  it('holds a cluster to its weakest master, and says a failover may lose writes', () => {
    const strong = { ...base, version: '7.2.4', appendfsync: 'always', waitaof: true };
    const weakest = weakestFacts([strong, { ...base, version: '7.0.15' }, { ...strong, version: '10.0.1', maxmemoryPolicy: 'allkeys-lru' }]);
    assert.deepEqual(weakest, { cluster: true, version: '7.0.15', aof: true, appendfsync: 'everysec', maxmemoryPolicy: 'allkeys-lru', waitaof: false });
    assert.deepEqual(weakestFacts([strong]), { ...strong, cluster: true });
    assert.equal(assessDurability(weakestFacts([strong, strong])).strict, 'waitaof');
    assert.match(assessDurability(weakestFacts([strong])).summary, /failover may lose writes/);
  });
});

describe('start-up against a real Redis', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'allkeys-lru']);
  });
  after(() => server.stop());

  const start = async () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) }));
    const config = loadConfig({ ...serviceEnv(testPrefix('durability'), { REDIS_URL: server.url, NOTIFY_LOG_LEVEL: 'info' }), NOTIFY_SANDBOX: 'on' });
    return { lines, run: () => startService({ config, role: 'ingress', log }) };
  };

  it('refuses to run on a Redis that evicts keys', async () => {
    const { run } = await start();
    await assert.rejects(run(), /refusing to run: .*maxmemory-policy allkeys-lru.*noeviction/);
  });

  it('logs what an accepted notification survives', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    admin.disconnect();
    const { run, lines } = await start();
    const svc = await run();
    await svc.stop();
    assert.ok(lines.some((l) => l.includes('what an accepted notification survives') && l.includes('appendfsync everysec')));
  });
});

describe('strict mode', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec']);
  });
  after(() => server.stop());

  const post = async (port: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/notifications`, {
      method: 'POST', headers: { authorization: 'Bearer test-key-0123456789abcdef', 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'u1', content: { body: 'x' } }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
  };
  const startStrict = async () => {
    const config = loadConfig({ ...serviceEnv(testPrefix('strict'), { REDIS_URL: server.url }), NOTIFY_SANDBOX: 'on', NOTIFY_DURABILITY: 'strict' });
    return startService({ config, role: 'ingress', log: createLogger('silent') });
  };

  it('answers 503 with Retry-After when Redis cannot promise an fsynced write, and 202 once it can', async (t) => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(server.url);
    try {
      const version = String(await admin.info('server')).match(/redis_version:(\S+)/)![1]!;
      const svc = await startStrict();
      const ready = await fetch(`http://127.0.0.1:${svc.port}/readyz`);
      const first = await post(svc.port);
      await svc.stop();
      // Which branch runs depends on the server: say so, so a run on Redis < 7.2 visibly did not check WAITAOF.
      t.diagnostic(hasWaitaof(version)
        ? `Redis ${version} has WAITAOF: checked that strict mode answers 202 on an everysec server`
        : `Redis ${version} has no WAITAOF (needs >= 7.2): the WAITAOF path was NOT exercised (skipped for that reason); checked the 503 path instead`);
      if (hasWaitaof(version)) {
        assert.equal(first.status, 202, 'WAITAOF makes an everysec write durable before the 202');
      } else {
        assert.equal(ready.status, 503, 'not ready in strict mode without a way to fsync');
        assert.equal(first.status, 503);
        assert.equal(first.body.error.code, 'unavailable');
        assert.ok(Number(first.retryAfter) > 0);
      }
      await admin.config('SET', 'appendfsync', 'always');
      const svc2 = await startStrict();
      const second = await post(svc2.port);
      await svc2.stop();
      assert.equal(second.status, 202, 'with appendfsync always every write is fsynced before the reply');
    } finally {
      admin.disconnect();
    }
  });
});
