// Dead letters selected by filter: redrive by channel, reason and kind, and POST /v1/dead-letters/delete with a selector.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { testRedis } from './support/redis.js';

let h: Harness;
let redis: Redis;
const email: string[] = [];
let sms: string;

const finished = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, 8_000, `notification ${id} to finish`);
const send = async (body: object) => (await h.api('POST', '/v1/notifications', { user_id: 'd1', ...body })).body.id as string;
const list = async (query = '') => (await h.api('GET', `/v1/dead-letters?limit=500${query}`)).body.dead_letters as any[];

before(async () => {
  h = await startHarness('dead-letters', { env: { NOTIFY_RETRY_MAX_ATTEMPTS: '2', NOTIFY_RETRY_BASE_MS: '20', NOTIFY_RETRY_MAX_DELAY_MS: '50', NOTIFY_BREAKER_THRESHOLD: '100' } });
  redis = testRedis();
  await h.api('PUT', '/v1/users/d1', { email: 'd1@example.com', phone: '+14155550144' });
  // Two emails and an SMS out of attempts, and an ingest entry that does not validate.
  for (const p of ['ses', 'twilio', 'sns'] as const) h.fakes.behavior(p, { failWith: { status: 503 } });
  email.push(await send({ channels: ['email'], content: { subject: 'E1', text: 'x' } }), await send({ channels: ['email'], content: { subject: 'E2', text: 'x' } }));
  sms = await send({ channels: ['sms'], content: { body: 'S1' } });
  for (const id of [...email, sms]) await finished(id);
  await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'd1' }));
  await eventually(async () => ((await list()).length === 4 ? true : undefined), 5_000, 'four dead letters');
  h.fakes.resetBehavior();
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

describe('dead letters by selector', () => {
  it('lists by channel, reason and kind', async () => {
    assert.deepEqual((await list('&channel=email')).map((d) => d.notification_id).sort(), [...email].sort());
    assert.deepEqual((await list('&channel=sms&reason=attempts_exhausted')).map((d) => d.notification_id), [sms]);
    assert.deepEqual((await list('&kind=intake')).map((d) => d.reason), ['invalid_entry']);
    assert.equal((await list('&reason=poison')).length, 0);
  });

  it('redrives only what the filter selects, and each entry once', async () => {
    const r = await h.api('POST', '/v1/dead-letters/redrive', { channel: 'email', reason: 'attempts_exhausted', kind: 'delivery' });
    assert.equal(r.body.redriven, 2);
    assert.deepEqual(r.body.items.map((i: any) => i.notification_id).sort(), [...email].sort());
    for (const id of email) assert.equal((await finished(id)).deliveries[0].status, 'sent');
    assert.equal((await h.api('POST', '/v1/dead-letters/redrive', { channel: 'email' })).body.redriven, 0, 'nothing left to redrive');
    assert.deepEqual((await list()).map((d) => d.channel ?? d.kind).sort(), ['intake', 'sms'], 'the others are untouched');
  });

  it('deletes by selector: ids that do not match the filter are kept', async () => {
    const [smsDead] = await list('&channel=sms');
    const none = await h.api('POST', '/v1/dead-letters/delete', { ids: [smsDead.id], kind: 'intake' });
    assert.deepEqual(none.body, { deleted: 0 });
    assert.deepEqual((await h.api('POST', '/v1/dead-letters/delete', { kind: 'intake' })).body, { deleted: 1 });
    assert.deepEqual((await list()).map((d) => d.id), [smsDead.id]);
    assert.deepEqual((await h.api('POST', '/v1/dead-letters/delete', { channel: 'sms', reason: 'attempts_exhausted' })).body, { deleted: 1 });
    assert.deepEqual(await list(), []);
    assert.equal((await h.api('POST', '/v1/dead-letters/delete', { channel: 'fax' })).status, 422, 'a bad selector is refused');
  });
});
