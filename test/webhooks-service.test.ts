// The webhooks as the service runs them (NOTIFY_WEBHOOKS=on, the default): the ingress serves /v1/webhooks and the
// worker's own dispatcher and sender deliver a notification's events, signed; with it off the paths are not served.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { metric } from './support/metrics.js';
import { startReceiver, type Receiver } from './support/webhooks.js';

let h: Harness;
let rx: Receiver;
before(async () => {
  h = await startHarness('webhooks-service', { env: { NOTIFY_WEBHOOKS: 'on', NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'on' } });
  rx = await startReceiver();
});
after(async () => {
  await rx.close();
  await h.stop();
});

describe('webhooks in the service', () => {
  it('delivers delivery.sent for a notification sent through the pipeline, signed with the endpoint secret', async () => {
    const ep = await h.api('PUT', '/v1/webhooks/main', { url: rx.url, events: ['delivery.sent'] });
    assert.equal(ep.status, 201);
    await h.api('PUT', '/v1/users/wsu', { phone: '+14155550177' });
    const id = (await h.api('POST', '/v1/notifications', { user_id: 'wsu', content: { body: 'hook me' } })).body.id as string;
    const got = await eventually(async () => rx.got.find((r) => r.json?.data?.notification_id === id), 15_000, 'the webhook');
    assert.equal(got.json.type, 'delivery.sent');
    assert.deepEqual([got.json.data.channel, got.json.data.status, got.json.data.user_id], ['sms', 'sent', 'wsu']);
    assert.doesNotMatch(got.body, /4155550177/, 'no address in the payload');
    const verified = new Webhook(ep.body.secret).verify(got.body, got.headers as Record<string, string>);
    assert.equal((verified as { type: string }).type, 'delivery.sent');
    // Counted once the attempt is recorded, just after the receiver answered.
    await eventually(async () => ((await metric(h.url, 'notify_webhook_attempts_total', 'outcome="succeeded"').catch(() => 0)) >= 1 ? true : undefined), 5_000, 'the attempt counted');
  });

  it('is not served with NOTIFY_WEBHOOKS=off (the harness default)', async () => {
    const off = await startHarness('webhooks-service-off');
    try {
      assert.equal((await off.api('GET', '/v1/webhooks')).status, 404);
    } finally {
      await off.stop();
    }
  });
});
