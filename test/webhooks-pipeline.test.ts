// Webhooks end to end: notifications sent through the whole service (harness: real Redis, fake providers), their
// status events dispatched by the webhooks worker to a real receiver on 127.0.0.1, signed.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { defineScripts } from '../src/streams/scripts.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';
import { freePort } from './support/redis-server.js';
import { startReceiver, startWorker, testConfig, webhookApi, type Receiver } from './support/webhooks.js';

let h: Harness;
let redis: Redis;
let rx: Receiver;
let worker: { stop(): Promise<void> };
let api: ReturnType<typeof webhookApi>;

before(async () => {
  const port = await freePort();
  h = await startHarness('webhooks-pipeline', {
    env: { NOTIFY_HTTP_PORT: String(port), NOTIFY_PUBLIC_URL: `http://127.0.0.1:${port}`, NOTIFY_SES_EVENTS_TOPIC_ARNS: 'arn:aws:sns:us-east-1:123456789012:notify-ses-events' },
  });
  redis = new Redis(REDIS_URL);
  defineScripts(redis);
  const config = testConfig();
  // At once: without a group on the event stream (history is off here) its entries are trimmed away.
  worker = await startWorker(redis, h.prefix, config);
  api = webhookApi(redis, h.prefix, config);
  rx = await startReceiver();
  // The fake SES reports deliveries through the fake SNS, once the ingress is subscribed.
  const sub = await h.fakes.subscribe(`${h.url}/v1/feedback/ses`);
  await eventually(async () => (h.fakes.subscriptions().find((x) => x.arn === sub.arn)?.confirmed ? true : undefined), 5_000, 'the SNS subscription');
});
after(async () => {
  await h?.fakes.callbacksSettled();
  await worker?.stop();
  await rx?.close();
  redis?.disconnect();
  await h?.stop();
});

it('a sent and delivered email and a cancelled notification reach the endpoint signed, in order', async () => {
  const ep = await api('PUT', '/v1/webhooks/all', { url: rx.url, events: ['delivery.sent', 'delivery.failed', 'delivery.delivered', 'notification.cancelled'] });
  assert.equal(ep.status, 201);
  await h.api('PUT', '/v1/users/whp1', { email: 'whp1@example.com' });
  const sent = await h.api('POST', '/v1/notifications', { user_id: 'whp1', channels: ['email'], content: { subject: 'Hi', text: 'Hello' } });
  assert.equal(sent.status, 202);
  const later = await h.api('POST', '/v1/notifications', {
    user_id: 'whp1', channels: ['email'], content: { subject: 'Later', text: 'x' }, send_at: new Date(Date.now() + 3_600_000).toISOString(),
  });
  assert.equal(later.status, 202);
  assert.equal((await h.api('DELETE', `/v1/notifications/${later.body.id}`)).status, 200);

  await eventually(async () => (rx.got.some((g) => g.json.type === 'delivery.delivered') ? true : undefined), 10_000, 'the delivery report');
  await eventually(async () => (rx.got.length >= 3 ? true : undefined), 10_000, 'three webhooks');
  const wh = new Webhook(ep.body.secret);
  const payloads = rx.got.map((g) => wh.verify(g.body, g.headers as Record<string, string>) as any);
  const delivery = payloads.find((p) => p.type === 'delivery.sent');
  assert.deepEqual({ ...delivery.data, provider_message_id: typeof delivery.data.provider_message_id }, {
    notification_id: sent.body.id, delivery_key: delivery.data.delivery_key, user_id: 'whp1', channel: 'email', provider: 'ses',
    status: 'sent', provider_message_id: 'string',
  });
  assert.ok(!rx.got.some((g) => g.body.includes('example.com')), 'no address in any webhook');
  // SES's Delivery (a feedback event, which does not say user, channel or provider) names the delivery by its record.
  const ofSent = payloads.filter((p) => p.data.notification_id === sent.body.id);
  assert.deepEqual(ofSent.map((p) => p.type), ['delivery.sent', 'delivery.delivered'], 'in order');
  for (const p of ofSent.slice(1)) {
    assert.deepEqual([p.data.user_id, p.data.channel, p.data.provider, p.data.delivery_key], ['whp1', 'email', 'ses', delivery.data.delivery_key]);
  }
  const cancelled = payloads.find((p) => p.type === 'notification.cancelled');
  assert.equal(cancelled.data.notification_id, later.body.id);
  assert.ok(Date.parse(cancelled.timestamp) > 0);
});
