// A deployment with only some providers: the default channels leave the others out; a named one is recorded failed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('channels-default', { providers: { apns: null, fcm: null, twilio: null, sns: null } });
  await h.api('PUT', '/v1/users/ann', { email: 'ann@example.com', phone: '+14155550177' });
  await h.api('POST', '/v1/users/ann/devices', { platform: 'ios', token: 'cd'.repeat(32) });
});
after(() => h.stop());

const finished = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, 8_000, `notification ${id} to finish`);
const content = { title: 'T', body: 'Hello', subject: 'S' };

describe('with only SES configured', () => {
  it('sends by email alone when channels is omitted, even to a user with a phone and a device', async () => {
    const post = await h.api('POST', '/v1/notifications', { user_id: 'ann', content });
    const n = await finished(post.body.id);
    assert.equal(n.status, 'sent');
    assert.deepEqual(n.deliveries.map((d: any) => [d.channel, d.status]), [['email', 'sent']]);
  });

  it('records a named channel without a provider as failed with the reason, and sends the rest', async () => {
    const post = await h.api('POST', '/v1/notifications', { user_id: 'ann', channels: ['sms', 'push', 'email'], content });
    const n = await finished(post.body.id);
    assert.equal(n.status, 'partially_sent');
    const by = Object.fromEntries(n.deliveries.map((d: any) => [d.channel, [d.status, d.last_error ?? null, d.attempts]]));
    assert.deepEqual(by, {
      sms: ['failed', 'no provider is configured for sms', 0],
      push: ['failed', 'no provider is configured for push', 0],
      email: ['sent', null, 1],
    });
    assert.deepEqual(h.fakes.received().map((m) => m.provider), ['ses', 'ses'], 'nothing reached the other fakes');
  });
});
