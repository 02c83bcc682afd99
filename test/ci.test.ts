// .ci/ensure-redis: starts redis-server on the port REDIS_URL names when the URL is local, and fails clearly otherwise.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from './support/redis-server.js';
import { REDIS_URL } from './support/redis.js';

const SCRIPT = fileURLToPath(new URL('../.ci/ensure-redis', import.meta.url));
const run = (url: string) => {
  const r = spawnSync(SCRIPT, [], { env: { PATH: process.env.PATH ?? '', REDIS_URL: url }, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout + r.stderr };
};
const started: number[] = [];
after(async () => {
  for (const port of started) {
    const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    await r.connect().then(() => r.call('SHUTDOWN', 'NOSAVE')).catch(() => undefined);
    r.disconnect();
  }
});

describe('.ci/ensure-redis', () => {
  it('starts redis-server on the port of a local REDIS_URL when nothing answers there', async () => {
    const port = await freePort();
    started.push(port);
    const r = run(`redis://127.0.0.1:${port}`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`starting redis-server on port ${port}`));
    const redis = new Redis(port, '127.0.0.1');
    try {
      assert.equal(await redis.ping(), 'PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('leaves a Redis that answers alone', () => {
    const r = run(REDIS_URL);
    assert.deepEqual([r.code, r.out], [0, '']);
  });

  it('fails clearly when the URL is not on this machine, or is not one it can start', () => {
    const remote = run('redis://not-this-machine.invalid:6379');
    assert.equal(remote.code, 1);
    assert.match(remote.out, /not-this-machine\.invalid is not this machine/);
    const tls = run('rediss://127.0.0.1:1');
    assert.equal(tls.code, 1);
    assert.match(tls.out, /only a plain redis:\/\/ URL/);
  });
});
