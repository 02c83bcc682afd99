// The trimmer forgets idle consumers only if nothing is pending on them at the moment of the delete: a consumer that
// reads entries between the trimmer's look (XINFO) and the delete keeps them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { defineScripts } from '../src/streams/scripts.js';
import { Trimmer } from '../src/streams/trimmer.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('trimmer');
const stream = `${prefix}:s`;
let redis: Redis;

before(async () => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

/** The same Redis, but right after XINFO CONSUMERS answers, `meanwhile` runs (another client acting in between). */
function interleaved(meanwhile: () => Promise<unknown>): Redis {
  return new Proxy(redis, {
    get(target, prop) {
      if (prop === 'call') {
        return async (...args: [string, ...(string | number)[]]) => {
          const reply = await target.call(...args);
          if (args[0] === 'XINFO' && args[1] === 'CONSUMERS') await meanwhile();
          return reply;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const consumers = async () => ((await redis.call('XINFO', 'CONSUMERS', stream, 'g')) as unknown[][]).map((c) => String(c[1]));

describe('Trimmer', () => {
  it('keeps a consumer that read entries after the trimmer saw it idle with nothing pending', async () => {
    await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    await redis.call('XGROUP', 'CREATECONSUMER', stream, 'g', 'busy');
    await redis.call('XGROUP', 'CREATECONSUMER', stream, 'g', 'gone');
    const entry = await redis.xadd(stream, '*', 'n', '1');
    await new Promise((r) => setTimeout(r, 20));
    const conn = interleaved(() => redis.xreadgroup('GROUP', 'g', 'busy', 'COUNT', 1, 'STREAMS', stream, '>'));
    const trimmer = new Trimmer(conn, [{ stream, group: 'g' }], `${prefix}:dead`,
      { everyMs: 60_000, deadRetentionMs: 86_400_000, consumerIdleMs: 0, exact: true }, createLogger('silent'));
    await trimmer.run();
    assert.deepEqual(await consumers(), ['busy'], 'the idle one is forgotten, the one that just read is kept');
    const pending = (await redis.xpending(stream, 'g', '-', '+', 10)) as [string, string][];
    assert.deepEqual(pending.map(([id, c]) => [id, c]), [[entry, 'busy']], 'its entry is still pending, and claimable');
  });
});
