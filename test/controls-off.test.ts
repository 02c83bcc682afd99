// NOTIFY_CONTROLS=off (what the bench compares against): Idempotency-Key, event_id and collapse_key are not applied,
// while send_at still is and the collapse key still reaches APNs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startHarness, type Harness } from './support/harness.js';

const IOS = 'ef'.repeat(32);
let h: Harness;
before(async () => {
  h = await startHarness('controls-off', { env: { NOTIFY_CONTROLS: 'off', NOTIFY_RATE_LIMITS: 'sms:1/1h', NOTIFY_COLLAPSE_WINDOW_MS: '60000' } });
  await h.api('PUT', '/v1/users/off', { phone: '+14155550130' });
  await h.api('POST', '/v1/users/off/devices', { platform: 'ios', token: IOS });
});
after(() => h.stop());

const finished = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return !['accepted', 'processing', 'scheduled'].includes(r.body.status) ? r.body : undefined;
}, 8_000);

describe('with the controls off', () => {
  it('sends repeats of a key, an event id and a collapse key, over the cap, at once', async () => {
    const body = { user_id: 'off', content: { title: 'T', body: 'off: same' }, event_id: 'e-1', collapse_key: 'ck' };
    const [a, b] = [
      await h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'k' }),
      await h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'k' }),
    ];
    assert.notEqual(a.body.id, b.body.id);
    for (const r of [a, b]) assert.equal((await finished(r.body.id)).status, 'sent');
    assert.equal(h.fakes.received('twilio').filter((m) => m.body.Body === 'off: same').length, 2);
    const apns = h.fakes.received('apns').filter((m) => m.to === IOS);
    assert.deepEqual(apns.map((m) => m.headers['apns-collapse-id']), ['ck', 'ck']);
  });

  it('still holds send_at', async () => {
    const r = await h.api('POST', '/v1/notifications', { user_id: 'off', channels: ['sms'], content: { body: 'off: later' }, send_at: new Date(Date.now() + 60_000).toISOString() });
    assert.equal(r.body.status, 'scheduled');
    assert.equal((await h.api('DELETE', `/v1/notifications/${r.body.id}`)).body.status, 'cancelled');
  });
});
