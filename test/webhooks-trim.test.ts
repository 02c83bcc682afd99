// The status event stream is read by the archiver and the webhooks dispatcher: trimmed with `allGroups`, it keeps
// what either still needs, and is still trimmed when only one of them exists.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createLogger } from '../src/log.js';
import { defineScripts } from '../src/streams/scripts.js';
import { Trimmer } from '../src/streams/trimmer.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('wh-trim');
const stream = `${prefix}:events`;
let redis: Redis;
before(() => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

const trimmer = (allGroups: boolean) => new Trimmer(redis, [{ stream, group: 'archiver', emptyWithoutGroup: true, allGroups }], `${prefix}:dead`,
  { everyMs: 1_000, deadRetentionMs: 1_000, consumerIdleMs: 86_400_000, exact: true }, createLogger('silent'));
const read = (group: string, n: number) => redis.xreadgroup('GROUP', group, 'c', 'COUNT', n, 'STREAMS', stream, '>') as Promise<[string, [string, string[]][]][]>;

it('keeps what a slower group has not acknowledged, and trims with only the webhooks group', async () => {
  await redis.xgroup('CREATE', stream, 'webhooks', '0', 'MKSTREAM');
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await redis.xadd(stream, '*', 'n', String(i)))!);
  // Only webhooks: the archiver's group is missing, yet the stream is trimmed below what webhooks handled.
  const [[, got]] = await read('webhooks', 2) as [[string, [string, string[]][]]];
  await redis.xack(stream, 'webhooks', ...got.map(([id]) => id));
  await trimmer(true).run();
  assert.equal(await redis.xlen(stream), 5, 'below the last entry handled (MINID keeps that one)');
  // Both: the archiver is ahead, webhooks behind; only what both handled goes.
  await redis.xgroup('CREATE', stream, 'archiver', '0');
  const [[, a]] = await read('archiver', 4) as [[string, [string, string[]][]]];
  await redis.xack(stream, 'archiver', ...a.map(([id]) => id));
  await trimmer(true).run();
  assert.equal(await redis.xlen(stream), 5, 'webhooks has not handled ids[2..]');
  // Without allGroups (the old behaviour) the archiver alone would decide.
  await trimmer(false).run();
  assert.deepEqual((await redis.xrange(stream, '-', '+')).map(([id]) => id), ids.slice(4));
});
