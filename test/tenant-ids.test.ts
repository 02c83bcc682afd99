// Notification ids are per tenant: two tenants that give the same id (XADD `id`) get two notifications, each sent to
// its own user and shown only to its own tenant; a tenant cannot reach another's notification by naming its id.
// Records older versions kept under the id alone stay readable for their tenant, and are moved to its key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { API_KEY, OTHER_TENANT_KEY, eventually, startHarness, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';
import { makeKeys } from '../src/streams/keys.js';
import { defineScripts } from '../src/streams/scripts.js';
import { moveLegacyRecords } from '../src/store/legacy-records.js';

let h: Harness;
let redis: Redis;

const ACME = { authorization: `Bearer ${API_KEY}` };
const OTHER = { authorization: `Bearer ${OTHER_TENANT_KEY}` };

const xadd = (payload: Record<string, unknown>) => redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify(payload));

/** The notification as `as` sees it, once it has settled (sent, failed…). */
const settled = (id: string, as: Record<string, string>) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`, undefined, as);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) && r.body.deliveries.length > 0 ? r.body : undefined;
}, 8_000, `notification ${id} to settle for ${as === ACME ? 'acme' : 'other'}`);
const arrived = (what: string, check: () => boolean) => eventually(async () => (check() ? true : undefined), 5_000, what);

const emailsTo = (address: string) => h.fakes.received('ses').filter((m) => m.to === address);
const smsTo = (phone: string) => h.fakes.received('twilio').filter((m) => m.body.To === phone);

before(async () => {
  h = await startHarness('tenant-ids');
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
  assert.equal((await h.api('PUT', '/v1/users/alice', { email: 'alice@acme.example', phone: '+14155550101' }, ACME)).status, 200);
  assert.equal((await h.api('PUT', '/v1/users/bob', { email: 'bob@other.example', phone: '+14155550102' }, OTHER)).status, 200);
  // The same user id in both tenants, with different addresses.
  assert.equal((await h.api('PUT', '/v1/users/jane', { email: 'jane@acme.example' }, ACME)).status, 200);
  assert.equal((await h.api('PUT', '/v1/users/jane', { email: 'jane@other.example' }, OTHER)).status, 200);
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

describe('the same XADD id from two tenants', () => {
  it('makes two notifications: each sent to its own user, each tenant shown only its own', async () => {
    h.fakes.clear();
    await xadd({ tenant: 'acme', id: 'order-1', user_id: 'alice', channels: ['email', 'sms'], content: { subject: 'acme order', text: 'acme', body: 'acme sms' } });
    await xadd({ tenant: 'other', id: 'order-1', user_id: 'bob', channels: ['email', 'sms'], content: { subject: 'other order', text: 'other', body: 'other sms' } });

    // Both reach a provider, whatever became of the records.
    await arrived('both emails and both SMS', () => emailsTo('alice@acme.example').length + emailsTo('bob@other.example').length === 2
      && smsTo('+14155550101').length + smsTo('+14155550102').length === 2);
    const mine = await settled('order-1', ACME);
    assert.deepEqual(mine.deliveries.map((d: any) => d.user_id), ['alice', 'alice'], 'acme\'s record holds only acme\'s user');
    const theirs = await settled('order-1', OTHER);
    assert.equal(mine.id, 'order-1');
    assert.equal(theirs.id, 'order-1');
    assert.deepEqual(mine.deliveries.map((d: any) => [d.user_id, d.channel, d.status, d.to]).sort(),
      [['alice', 'email', 'sent', 'a***@acme.example'], ['alice', 'sms', 'sent', '+1******0101']]);
    assert.deepEqual(theirs.deliveries.map((d: any) => [d.user_id, d.channel, d.status, d.to]).sort(),
      [['bob', 'email', 'sent', 'b***@other.example'], ['bob', 'sms', 'sent', '+1******0102']]);

    assert.deepEqual(emailsTo('alice@acme.example').map((m) => m.body.Content.Simple.Subject.Data), ['acme order']);
    assert.deepEqual(emailsTo('bob@other.example').map((m) => m.body.Content.Simple.Subject.Data), ['other order']);
    assert.deepEqual(smsTo('+14155550101').map((m) => m.body.Body), ['acme sms']);
    assert.deepEqual(smsTo('+14155550102').map((m) => m.body.Body), ['other sms']);
  });

  it('to the same user id in both tenants: neither is dropped, each reaches its own tenant\'s user', async () => {
    h.fakes.clear();
    await xadd({ tenant: 'acme', id: 'order-2', user_id: 'jane', channels: ['email'], content: { subject: 'from acme', text: 'a' } });
    await xadd({ tenant: 'other', id: 'order-2', user_id: 'jane', channels: ['email'], content: { subject: 'from other', text: 'o' } });

    await arrived('both tenants\' emails', () => emailsTo('jane@acme.example').length === 1 && emailsTo('jane@other.example').length === 1);
    const mine = await settled('order-2', ACME);
    const theirs = await settled('order-2', OTHER);
    assert.deepEqual(mine.deliveries.map((d: any) => [d.user_id, d.status, d.to]), [['jane', 'sent', 'j***@acme.example']]);
    assert.deepEqual(theirs.deliveries.map((d: any) => [d.user_id, d.status, d.to]), [['jane', 'sent', 'j***@other.example']]);
    assert.deepEqual(emailsTo('jane@acme.example').map((m) => m.body.Content.Simple.Subject.Data), ['from acme']);
    assert.deepEqual(emailsTo('jane@other.example').map((m) => m.body.Content.Simple.Subject.Data), ['from other']);
  });

  it('cannot be cancelled by the other tenant: each cancels only its own', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await xadd({ tenant: 'acme', id: 'order-3', user_id: 'alice', channels: ['email'], send_at: later, content: { subject: 's', text: 't' } });
    await xadd({ tenant: 'other', id: 'order-3', user_id: 'bob', channels: ['email'], send_at: later, content: { subject: 's', text: 't' } });
    for (const as of [ACME, OTHER]) {
      await eventually(async () => ((await h.api('GET', '/v1/notifications/order-3', undefined, as)).body?.status === 'scheduled' ? true : undefined), 5_000, 'scheduled');
    }
    const cancelled = await h.api('DELETE', '/v1/notifications/order-3', undefined, OTHER);
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal((await h.api('GET', '/v1/notifications/order-3', undefined, ACME)).body.status, 'scheduled', 'acme\'s is still scheduled');
    assert.equal((await h.api('DELETE', '/v1/notifications/order-3', undefined, ACME)).body.status, 'cancelled');
    // Nothing of one is parked under the other's name: both schedules are gone from the delayed set.
    assert.equal((await redis.zrange(`${h.prefix}:delayed`, 0, -1)).filter((m) => m.includes('order-3')).length, 0);
  });
});

describe('an id the HTTP ingress gave', () => {
  it('is not reachable by another tenant XADDing it', async () => {
    h.fakes.clear();
    const post = await h.api('POST', '/v1/notifications', { user_id: 'alice', channels: ['email'], content: { subject: 'posted by acme', text: 'x' } }, ACME);
    assert.equal(post.status, 202);
    const id = post.body.id as string;
    await settled(id, ACME);
    await xadd({ tenant: 'other', id, user_id: 'bob', channels: ['email'], content: { subject: 'xadded by other', text: 'y' } });

    await arrived('bob\'s email', () => emailsTo('bob@other.example').length === 1);
    const mine = await h.api('GET', `/v1/notifications/${id}`, undefined, ACME);
    assert.deepEqual(mine.body.deliveries.map((d: any) => [d.user_id, d.status, d.to]), [['alice', 'sent', 'a***@acme.example']]);
    const theirs = await settled(id, OTHER);
    assert.deepEqual(theirs.deliveries.map((d: any) => [d.user_id, d.status, d.to]), [['bob', 'sent', 'b***@other.example']]);
    assert.deepEqual(emailsTo('alice@acme.example').map((m) => m.body.Content.Simple.Subject.Data), ['posted by acme']);
  });
});

describe('records an older version kept under the id alone', () => {
  const legacy = (id: string) => `${h.prefix}:n:${id}`;
  const delivery = (status: string) =>
    JSON.stringify({ user_id: 'alice', channel: 'email', provider: 'ses', to: 'a***@acme.example', status, attempts: status === 'sent' ? 1 : 0, updated_at: 'then' });

  it('are read and cancelled by their own tenant only, where they are', async () => {
    const later = Date.now() + 3_600_000;
    await redis.hset(legacy('old-1'), { meta: JSON.stringify({ tenant: 'acme', created_at: Date.now() }), 'd:alice:email': delivery('sent') });
    await redis.hset(legacy('old-held'), {
      meta: JSON.stringify({ tenant: 'acme', created_at: Date.now(), recipients: 1 }), 'p:alice': '1',
      'd:alice:email': JSON.stringify({ ...JSON.parse(delivery('deferred')), deferred_until: later }),
    });
    const mine = await h.api('GET', '/v1/notifications/old-1', undefined, ACME);
    assert.deepEqual([mine.status, mine.body.deliveries.map((d: any) => [d.user_id, d.status])], [200, [['alice', 'sent']]]);
    assert.equal((await h.api('GET', '/v1/notifications/old-1', undefined, OTHER)).status, 404);
    assert.equal((await h.api('DELETE', '/v1/notifications/old-held', undefined, OTHER)).status, 404);
    const cancelled = await h.api('DELETE', '/v1/notifications/old-held', undefined, ACME);
    assert.deepEqual([cancelled.status, cancelled.body.status], [200, 'cancelled']);
    await redis.del(legacy('old-held'));
  });

  it('are moved to their tenant\'s key when a worker starts, so work still in flight for them is recorded there', async () => {
    const keys = makeKeys(h.prefix);
    await redis.del(keys.legacyRecordsMoved); // as in a deployment an older version ran: no pass has been made
    await redis.hset(legacy('old-2'), { meta: JSON.stringify({ tenant: 'acme', created_at: Date.now() }), 'd:alice:email': delivery('queued') });
    await redis.pexpire(legacy('old-2'), 600_000);
    // Accepted by an older ingress (record under the id alone), planned by this version (the tenant's record).
    await redis.hset(legacy('old-3'), { meta: JSON.stringify({ tenant: 'acme', created_at: 1 }), idem: 'x' });
    await redis.hset(keys.notification('acme', 'old-3'), { meta: JSON.stringify({ tenant: 'acme', created_at: 2 }), 'd:alice:email': delivery('sent') });

    await h.startWorker();
    assert.ok(h.logs.some((l) => l.moved === 3), 'the starting worker moved old-1, old-2 and old-3');
    assert.equal(await redis.exists(legacy('old-1'), legacy('old-2'), legacy('old-3')), 0);
    assert.ok((await redis.pttl(keys.notification('acme', 'old-2'))) > 0, 'the TTL went with it');
    const merged = await redis.hgetall(keys.notification('acme', 'old-3'));
    assert.deepEqual([JSON.parse(merged.meta!).created_at, merged.idem, JSON.parse(merged['d:alice:email']!).status], [2, 'x', 'sent']);
    assert.equal((await h.api('GET', '/v1/notifications/old-1', undefined, ACME)).body.deliveries[0].status, 'sent');
    assert.equal((await h.api('GET', '/v1/notifications/old-1', undefined, OTHER)).status, 404);
    assert.equal(await moveLegacyRecords(redis, keys), 0);
    assert.equal(await redis.exists(keys.legacyRecordsMoved), 1, 'a pass that finds none marks the keyspace done');

    // A send an older worker queued for old-2: its outcome lands on the moved record.
    h.fakes.clear();
    const task = { nid: 'old-2', dk: 'alice:email', tenant: 'acme', user_id: 'alice', channel: 'email', lane: 'email', to: 'alice@acme.example',
      content: { subject: 'queued by an older worker', text: 'x' }, priority: 'normal', accepted_at: Date.now(), attempt: 1 };
    await redis.xadd(keys.lane('email'), '*', 'd', JSON.stringify(task));
    const n = await settled('old-2', ACME);
    assert.deepEqual(n.deliveries.map((d: any) => [d.user_id, d.status]), [['alice', 'sent']]);
    assert.deepEqual(emailsTo('alice@acme.example').map((m) => m.body.Content.Simple.Subject.Data), ['queued by an older worker']);
  });
});
