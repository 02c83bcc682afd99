// The per-user controls across two worker processes (and an in-process ingress): Idempotency-Key (a lapsed
// reservation, batches; two ingress processes: test/idempotency.test.ts), event_id de-duplication, coalescing by
// collapse_key, and per-user rate caps in drop mode.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { fingerprint, inFlightValue, keyHash } from '../src/domain/idempotency.js';
import { eventually, serviceEnv, startHarness, type Harness } from './support/harness.js';
import { metricsPort, plannedBy } from './support/planned.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { testRedis } from './support/redis.js';

const IOS = 'cd'.repeat(32);
const ANDROID = 'fcm_' + 'Z9y8'.repeat(30);
const IOS2 = 'ef'.repeat(32);
let h: Harness;
let redis: Redis;
let workers: ServiceProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const finished = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing', 'scheduled'].includes(r.body.status) ? r.body : undefined;
}, 10_000, `notification ${id} to finish`);
const smsBodies = (prefix: string) => h.fakes.received('twilio').map((m) => m.body.Body as string).filter((b) => b.startsWith(prefix));

before(async () => {
  h = await startHarness('controls', { role: 'ingress' });
  redis = testRedis();
  for (const [i, u] of ['idem', 'evt', 'co', 'rl', 'co2'].entries()) {
    assert.equal((await h.api('PUT', `/v1/users/${u}`, { phone: `+1415555010${i}` })).status, 200);
  }
  await h.api('POST', '/v1/users/co/devices', { platform: 'ios', token: IOS });
  await h.api('POST', '/v1/users/co/devices', { platform: 'android', token: ANDROID });
  await h.api('POST', '/v1/users/co2/devices', { platform: 'ios', token: IOS2 });
  await h.api('PUT', '/v1/templates/chat', { push: { title: 'Chat', body: '{{ from }} wrote' }, sms: { body: '{{ from }} wrote' } });
  await h.api('PUT', '/v1/templates/chat-digest', {
    push: { title: 'Chat', body: '{{ count }} new messages, latest from {{ latest.from }}' }, sms: { body: 'co: {{ count }} new messages' },
  });
  const env = serviceEnv(h.prefix, {
    NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info',
    NOTIFY_COLLAPSE_WINDOW_MS: '1500', NOTIFY_RATE_LIMITS: 'capped.sms:3/1h', NOTIFY_RATE_LIMIT_MODE: 'drop',
  });
  workers = [spawnService(['--role', 'worker'], env), spawnService(['--role', 'worker'], env)];
  await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started')));
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  redis.disconnect();
  await h.stop();
});

describe('Idempotency-Key', () => {
  it('409 while a reservation is held (an ingress died mid-request), accepted once it lapses; too long a key is refused', async () => {
    const body = { user_id: 'idem', channels: ['sms'], content: { body: 'idem: stuck' } };
    // What an ingress that is still working on (or died during) the first request leaves behind.
    await redis.set(`${h.prefix}:idem:acme:${keyHash('k-stuck')}`, inFlightValue(fingerprint(body)), 'PX', 400);
    const busy = await h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'k-stuck' });
    assert.deepEqual([busy.status, busy.body.error.code], [409, 'idempotency_key_in_flight']);
    await sleep(450);
    assert.equal((await h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'k-stuck' })).status, 202);
    const long = await h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'k'.repeat(256) });
    assert.deepEqual([long.status, long.body.error.field], [422, 'Idempotency-Key']);
  });

  it('applies per batch item: a repeated batch gets the same ids for keyed items, and a key reused with another body is named', async () => {
    const items = [
      { user_id: 'idem', channels: ['sms'], content: { body: 'idem: b1' }, idempotency_key: 'b-1' },
      { user_id: 'idem', channels: ['sms'], content: { body: 'idem: b2' } },
      { user_id: 'idem', channels: ['sms'], content: { body: 'idem: b3' }, idempotency_key: 'b-1' },
    ];
    const first = await h.api('POST', '/v1/notifications/batch', { notifications: items });
    const second = await h.api('POST', '/v1/notifications/batch', { notifications: items });
    assert.equal(first.body.results[0].id, second.body.results[0].id);
    assert.notEqual(first.body.results[1].id, second.body.results[1].id, 'no key: a new notification');
    assert.equal(first.body.results[2].error.code, 'idempotency_key_reused');
    assert.deepEqual([second.body.accepted, second.body.rejected], [2, 1]);
    await finished(first.body.results[0].id);
    await sleep(300);
    assert.equal(smsBodies('idem: b1').length, 1);
  });
});

describe('event_id', () => {
  it('a repeat within the window is deduplicated, pointing at the original, and sends nothing', async () => {
    const first = await h.api('POST', '/v1/notifications', { user_id: 'evt', channels: ['sms'], content: { body: 'evt: first' }, event_id: 'shipment-9' });
    assert.equal((await finished(first.body.id)).status, 'sent');
    const dup = await h.api('POST', '/v1/notifications', { user_id: 'evt', channels: ['sms'], content: { body: 'evt: repeat' }, event_id: 'shipment-9' });
    const n = await finished(dup.body.id);
    assert.equal(n.status, 'not_sent');
    assert.deepEqual(n.deliveries.map((d: any) => [d.status, d.duplicate_of]), [['deduplicated', first.body.id]]);
  });

  it('concurrent notifications with one event id, on two workers: exactly one is sent', async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => h.api('POST', '/v1/notifications', {
      user_id: 'evt', channels: ['sms'], content: { body: `evt: burst ${i}` }, event_id: 'burst-1',
    })));
    const ns = await Promise.all(rs.map((r) => finished(r.body.id)));
    const sent = ns.filter((n) => n.status === 'sent');
    assert.equal(sent.length, 1);
    for (const n of ns.filter((x) => x !== sent[0])) assert.equal(n.deliveries[0].duplicate_of, sent[0].id);
    await sleep(300);
    assert.equal(smsBodies('evt: burst').length, 1);
  });
});

describe('coalescing by collapse_key', () => {
  it('a burst becomes one delivery per channel (a digest), the rest coalesced into it; push carries the collapse key', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await h.api('POST', '/v1/notifications', {
        user_id: 'co', template: 'chat', params: { from: `F${i}` }, collapse_key: 'chat-42', digest_template: 'chat-digest',
      });
      assert.equal(r.status, 202);
      ids.push(r.body.id);
    }
    const ns = await Promise.all(ids.map((id) => finished(id)));
    const owner = ns.filter((n) => n.status === 'sent');
    assert.equal(owner.length, 1, 'one notification sends');
    assert.deepEqual(owner[0].deliveries.map((d: any) => d.provider).sort(), ['apns', 'fcm', 'twilio']);
    for (const n of ns.filter((x) => x !== owner[0])) {
      assert.deepEqual(n.deliveries.map((d: any) => [d.status, d.coalesced_into]), [0, 1, 2].map(() => ['coalesced', owner[0].id]));
    }
    await sleep(300);
    const apns = h.fakes.received('apns').filter((m) => m.to === IOS);
    assert.equal(apns.length, 1);
    assert.equal(apns[0]!.headers['apns-collapse-id'], 'chat-42');
    assert.match(apns[0]!.body.aps.alert.body, /^5 new messages, latest from F\d$/);
    const fcm = h.fakes.received('fcm').filter((m) => m.to === ANDROID);
    assert.equal(fcm.length, 1);
    assert.equal(fcm[0]!.body.message.android.collapse_key, 'chat-42');
    assert.deepEqual(smsBodies('co: '), ['co: 5 new messages']);
  });

  it('sends every channel any folded notification asked for, with the latest one\'s content, priority and data', async () => {
    // Each is planned before the next is posted: with two workers, two posted back to back may be planned in either order.
    const post = async (body: object) => {
      const id = (await h.api('POST', '/v1/notifications', { user_id: 'co2', collapse_key: 'mixed', ...body })).body.id as string;
      await eventually(async () => ((await h.api('GET', `/v1/notifications/${id}`)).body?.deliveries?.length ? true : undefined), 2_000, `${id} planned`);
      return id;
    };
    const a = await post({ channels: ['sms'], content: { body: 'co2: A' } });
    const b = await post({ channels: ['push'], content: { title: 'B', body: 'co2: B' }, data: { v: 'B' } });
    const c = await post({ channels: ['push'], content: { title: 'C', body: 'co2: C' }, data: { v: 'C' }, priority: 'high' });
    const [na, nb, nc] = await Promise.all([a, b, c].map((id) => finished(id)));
    assert.deepEqual(na.deliveries.map((d: any) => [d.provider, d.status]).sort(), [['apns', 'sent'], ['twilio', 'sent']]);
    for (const n of [nb, nc]) assert.deepEqual(n.deliveries.map((d: any) => [d.status, d.coalesced_into]), [['coalesced', a]]);
    await sleep(300);
    const apns = h.fakes.received('apns').filter((m) => m.to === IOS2);
    assert.equal(apns.length, 1, 'the push B and C asked for went, once');
    assert.deepEqual([apns[0]!.body.aps.alert.body, apns[0]!.body.v, apns[0]!.headers['apns-priority']], ['co2: C', 'C', '10']);
    assert.deepEqual(smsBodies('co2: '), ['co2: A']);
  });
});

describe('per-user rate caps (drop mode)', () => {
  it('a user over the cap gets exactly the cap, though both workers planned for them; the rest are rate_limited; high priority bypasses', async () => {
    const ports = await Promise.all(workers.map(metricsPort));
    const ids: string[] = [];
    // One at a time, each planned before the next is posted: the two workers take turns at the ingest stream, so
    // each plans some of this user's notifications (checked below), and only a cap kept in Redis holds across them.
    const planned = await plannedBy(ports, 'sms', ['queued', 'rate_limited'], async () => {
      for (let i = 0; i < 10; i++) {
        const r = await h.api('POST', '/v1/notifications', { user_id: 'rl', channels: ['sms'], category: 'capped', content: { body: `rl: ${i}` } });
        ids.push(r.body.id);
        await eventually(async () => ((await h.api('GET', `/v1/notifications/${r.body.id}`)).body?.deliveries?.length ? true : undefined), 5_000, `${r.body.id} planned`);
      }
    });
    assert.equal(planned[0]! + planned[1]!, 10, `every notification planned once (${planned.join(' + ')})`);
    assert.ok(planned.every((n) => n > 0), `both workers planned for the capped user (${planned.join(' + ')})`);

    const ns = await Promise.all(ids.map((id) => finished(id)));
    const statuses = ns.map((n) => n.deliveries[0].status);
    assert.deepEqual([statuses.filter((s) => s === 'sent').length, statuses.filter((s) => s === 'rate_limited').length], [3, 7]);
    assert.match(ns.find((n) => n.deliveries[0].status === 'rate_limited').deliveries[0].last_error, /3 capped\.sms per 1h/);
    const urgent = await h.api('POST', '/v1/notifications', { user_id: 'rl', channels: ['sms'], category: 'capped', priority: 'high', content: { body: 'rl: urgent' } });
    assert.equal((await finished(urgent.body.id)).status, 'sent');
    await sleep(300);
    assert.equal(smsBodies('rl: ').length, 4, 'the cap, and the urgent one');
  });
});
