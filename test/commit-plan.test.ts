// commit-plan.lua, cancel.lua and close-window.lua against a real Redis with a fake clock (`now` is an argument):
// sliding-window caps that never count twice, event ownership, coalescing windows, cancellation, re-read entries.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { encodeUnits, type CommitUnit, type UnitTask } from '../src/actors/commit-unit.js';
import { delayedMember, parseReentry, TASK_FIELD, type Held } from '../src/domain/reentry.js';
import type { DeliveryTask } from '../src/domain/task.js';
import { INTAKE_GROUP, makeKeys, runScript } from '../src/streams/index.js';
import { defineScripts } from '../src/streams/scripts.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('commit-plan');
const keys = makeKeys(prefix);
let redis: Redis;
const T0 = 1_800_000_000_000;

before(async () => {
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
});
after(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

const task = (nid: string, dk = 'u:sms', user = 'u'): DeliveryTask => ({
  nid, dk, tenant: 't', user_id: user, channel: 'sms', lane: 'sms', to: '+14155550100', content: { body: nid }, priority: 'normal', accepted_at: T0, attempt: 1,
});
const ready = (nid: string, dk = 'u:sms', user = 'u'): UnitTask => ({
  field: `d:${dk}`, task: task(nid, dk, user), held: { n: 1, since: T0 },
  record: { user_id: user, channel: 'sms', provider: 'twilio', to: null, status: 'queued', attempts: 0, updated_at: '' },
});
const capped = (t: UnitTask, drop = false): UnitTask => ({
  ...t, limit: { caps: [{ key: keys.rate('t', t.task.user_id, 'sms'), limit: 2, windowMs: 1000, label: '2 sms per 1s' }], id: t.task.nid, drop, latest: T0 + 10_000 },
});
const unit = (nid: string, tasks: UnitTask[], over: Partial<CommitUnit> = {}): CommitUnit => ({
  tenant: 't', nid, once: 'p:u', meta: { tenant: 't', created_at: T0 }, ttlMs: 60_000, ack: '', records: [], tasks, ...over,
});
async function commit(now: number, ...units: CommitUnit[]): Promise<(0 | string[])[]> {
  const { keys: k, args } = encodeUnits(keys, units);
  return runScript<(0 | string[])[]>(redis, 'commitPlan', [...k, keys.events], [INTAKE_GROUP, now, ...args]);
}
const status = async (nid: string, dk = 'u:sms') => JSON.parse((await redis.hget(keys.notification('t', nid), `d:${dk}`))!) as Record<string, unknown>;
const laneLength = () => redis.xlen(keys.lane('sms'));

describe('rate caps (sliding window, global in Redis)', () => {
  it('lets exactly the cap through, holds the rest until the window allows, and never counts a notification twice', async () => {
    assert.deepEqual(await commit(T0, unit('r1', [capped(ready('r1'))]), unit('r2', [capped(ready('r2'))])), [['queued'], ['queued']]);
    assert.deepEqual(await commit(T0 + 100, unit('r3', [capped(ready('r3'))]), unit('r4', [capped(ready('r4'), true)])), [['deferred'], ['rate_limited']]);
    assert.equal(await laneLength(), 2);
    const held = await status('r3');
    assert.deepEqual([held.status, held.deferred_until, held.last_error], ['deferred', T0 + 1000, 'rate_limited: 2 sms per 1s']);
    // It comes back as a `task` entry of the ingest stream, exactly as parseReentry reads it.
    const member = delayedMember(keys.ingest, TASK_FIELD, JSON.stringify({ d: task('r3'), n: 1, since: T0 } satisfies Held));
    assert.equal(await redis.zscore(keys.delayed, member), String(T0 + 1000));
    const back = parseReentry({ [TASK_FIELD]: member.split('\n')[2]! });
    assert.ok(back?.ok && back.kind === 'recheck' && back.held.d.nid === 'r3' && back.held.n === 1);
    assert.equal((await status('r4')).status, 'rate_limited', 'drop mode');

    // r1 again (another device, or a re-run under a new marker) is already counted: it goes, and the count stays 2.
    await commit(T0 + 200, unit('r1', [capped(ready('r1', 'u:sms2'))], { once: 'r:x:1', meta: undefined }));
    assert.equal(await laneLength(), 3);
    assert.equal(await redis.zcard(keys.rate('t', 'u', 'sms')), 2);

    // When r1 and r2 have left the window, r3 comes back and goes.
    await commit(T0 + 999, unit('r3', [capped(ready('r3'))], { once: 'r:u:sms:1', meta: undefined }));
    assert.equal((await status('r3')).status, 'deferred', 'still full 1 ms early');
    await commit(T0 + 1000, unit('r3', [capped(ready('r3'))], { once: 'r:u:sms:2', meta: undefined }));
    assert.equal((await status('r3')).status, 'queued');
    assert.equal(await laneLength(), 4);
  });

  it('applies a re-read unit once: no second lane entry, no second count', async () => {
    const u = unit('a1', [capped(ready('a1', 'u:sms', 'ua'))]);
    assert.deepEqual(await commit(T0, u, u), [['queued'], 0]);
    assert.equal(await redis.zcard(keys.rate('t', 'ua', 'sms')), 1);
  });

  it('does nothing for a held delivery whose record has expired', async () => {
    assert.deepEqual(await commit(T0, unit('gone', [ready('gone')], { once: 'r:1', meta: undefined })), [0]);
    assert.equal(await redis.exists(keys.notification('t', 'gone')), 0);
  });
});

describe('event ids', () => {
  it('belong to the first notification; a later one is deduplicated, pointing at it', async () => {
    const evt = { key: keys.event('t', 'order-1'), ttlMs: 60_000 };
    const before = await laneLength();
    await commit(T0, unit('e1', [ready('e1')], { event: evt }), unit('e2', [ready('e2')], { event: evt }));
    await commit(T0, unit('e1', [ready('e1', 'v:sms', 'v')], { event: evt, once: 'p:v' }));
    assert.equal((await status('e1')).status, 'queued');
    assert.equal((await status('e1', 'v:sms')).status, 'queued', 'another recipient of the owner is not a duplicate');
    assert.deepEqual([(await status('e2')).status, (await status('e2')).duplicate_of], ['deduplicated', 'e1']);
    assert.equal(await laneLength(), before + 2);
  });
});

describe('coalescing windows', () => {
  it('are opened by the first, fold in the rest, and close for a new window', async () => {
    const co = (nid: string) => ({
      key: keys.collapse('t', 'u', 'ck'), windowMs: 800, member: `${keys.ingest}\nflush\n${nid}`, item: JSON.stringify({ id: nid }),
      contents: { sms: { body: nid } }, cap: 2,
    });
    const before = await laneLength();
    await commit(T0, unit('c1', [ready('c1')], { collapse: co('c1') }));
    await commit(T0 + 10, unit('c2', [ready('c2'), ready('c2', 'u:sms2')], { collapse: co('c2') }), unit('c3', [ready('c3')], { collapse: { ...co('c3'), digest: 'dg' } }));
    assert.deepEqual([(await status('c1')).status, (await status('c1')).deferred_until], ['deferred', T0 + 800]);
    assert.deepEqual([(await status('c3')).status, (await status('c3')).coalesced_into], ['coalesced', 'c1']);
    assert.equal(await laneLength(), before, 'nothing sent during the window');
    assert.equal(await redis.zscore(keys.delayed, `${keys.ingest}\nflush\nc1`), String(T0 + 800));

    const closed = `${keys.collapse('t', 'u', 'ck')}|c1`;
    const flat = await runScript<string[]>(redis, 'closeWindow', [keys.collapse('t', 'u', 'ck'), closed], ['c1']);
    const w = Object.fromEntries(flat.flatMap((v, i) => (i % 2 ? [] : [[v, flat[i + 1]]])));
    assert.deepEqual([w.owner, w.n, JSON.parse(w['c:sms']!).body, w.dt, w['i:3']], ['c1', '3', 'c3', 'dg', undefined]);
    // Every folded delivery is in the window, the latest notification's per record field: none the owner lacks is lost.
    assert.deepEqual([JSON.parse(w['t:d:u:sms']!).nid, JSON.parse(w['t:d:u:sms2']!).nid], ['c3', 'c2']);
    assert.deepEqual(await runScript<string[]>(redis, 'closeWindow', [keys.collapse('t', 'u', 'ck'), closed], ['c1']), flat, 'a second close reads the same');

    await commit(T0 + 900, unit('c4', [ready('c4')], { collapse: co('c4') }));
    assert.equal((await status('c4')).status, 'deferred', 'after the close, the next one opens a new window');
  });
});

describe('cancel.lua', () => {
  it('cancels held deliveries and everything planned later; refuses when all is handed to a lane', async () => {
    await commit(T0, unit('x1', [{ ...ready('x1'), defer: { at: T0 + 5000, why: 'quiet_hours' } }], { meta: { tenant: 't', created_at: T0, recipients: 2 } }));
    assert.equal(await runScript(redis, 'cancel', [keys.notification('t', 'x1'), keys.delayed, keys.events], ['other', T0, '']), 'not_found');
    assert.equal(await runScript(redis, 'cancel', [keys.notification('t', 'x1'), keys.delayed, keys.events], ['t', T0, 'now']), 'cancelled');
    assert.equal((await status('x1')).status, 'cancelled');
    const before = await laneLength();
    await commit(T0, unit('x1', [ready('x1', 'v:sms', 'v')], { once: 'p:v' }));
    assert.equal((await status('x1', 'v:sms')).status, 'cancelled', 'the second recipient, planned after the cancel');
    assert.equal(await laneLength(), before);
    assert.equal(await runScript(redis, 'cancel', [keys.notification('t', 'x1'), keys.delayed, keys.events], ['t', T0, 'now']), 'already');

    await commit(T0, unit('x2', [ready('x2')]));
    assert.equal(await runScript(redis, 'cancel', [keys.notification('t', 'x2'), keys.delayed, keys.events], ['t', T0, 'now']), 'not_cancellable');
  });
});
