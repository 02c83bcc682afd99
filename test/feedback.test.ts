// Delivery feedback end to end: the fake SNS subscribes the service (confirmed after verification), the fake SES
// publishes signed events for sent email, the fake Twilio posts signed status callbacks; records become delivered,
// bounced, complained, undelivered; bounced addresses are suppressed; forged requests change nothing (403); each
// feedback span is in the notification's trace.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { encodeKey } from '../src/domain/feedback.js';
import { startTracing } from '../src/telemetry/tracing.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { freePort } from './support/redis-server.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:notify-ses-events';
let h: Harness;
let otlp: OtlpReceiver;
let stopTracing: () => Promise<void>;
const delivered: { id?: string } = {};

before(async () => {
  otlp = await startOtlpReceiver();
  stopTracing = startTracing({ enabled: true, endpoint: otlp.url, sampleRatio: 1, serviceName: 'notify-test' });
  const port = await freePort();
  h = await startHarness('feedback', {
    env: { NOTIFY_HTTP_PORT: String(port), NOTIFY_PUBLIC_URL: `http://127.0.0.1:${port}`, NOTIFY_SES_EVENTS_TOPIC_ARNS: TOPIC },
  });
  for (const u of ['f1', 'f2', 'f3']) await h.api('PUT', `/v1/users/${u}`, { email: `${u}@example.com`, phone: `+1415555014${u[1]}` });
});
after(async () => {
  await h.fakes.callbacksSettled();
  await stopTracing();
  await h.stop();
  await otlp.close();
});

const send = async (user_id: string, channel: 'email' | 'sms'): Promise<string> =>
  (await h.api('POST', '/v1/notifications', { user_id, channels: [channel], content: { subject: 'S', text: 'hello', body: 'hello' } })).body.id;
const get = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body;
const until = (id: string, status: string) => eventually(async () => {
  const n = await get(id);
  return n?.deliveries?.[0]?.status === status ? n : undefined;
}, 10_000, `${id} ${status}`);
const postSns = (body: unknown, headers: Record<string, string> = {}) => fetch(`${h.url}/v1/feedback/ses`, {
  method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body),
});
/** A signed SNS Notification carrying an SES event for a delivery. */
const sesEvent = (nid: string, user: string, eventType: string, part: Record<string, unknown>, topicArn = TOPIC) => h.fakes.signSns({
  Type: 'Notification', MessageId: randomUUID(), TopicArn: topicArn, Subject: 'Amazon SES Email Event Notification', Timestamp: new Date().toISOString(),
  Message: JSON.stringify({ eventType, mail: { messageId: 'm', tags: { notification_id: [nid], delivery_key: [encodeKey(`${user}:email`)], tenant: ['acme'] } }, ...part }),
});

describe('SES events via SNS', () => {
  it('confirms the subscription only after checking its signature', async () => {
    const sub = await h.fakes.subscribe(`${h.url}/v1/feedback/ses`);
    const confirmation = h.fakes.callbacks().find((c) => c.kind === 'SubscriptionConfirmation');
    assert.equal(confirmation?.status, 200, confirmation?.answer);
    assert.equal(h.fakes.subscriptions().find((s) => s.arn === sub.arn)?.confirmed, true);

    // A confirmation whose signature does not verify confirms nothing; the same message signed does.
    const pending = await h.fakes.subscribe('http://127.0.0.1:9/unreachable', { topicArn: TOPIC });
    const confirm = {
      Type: 'SubscriptionConfirmation', MessageId: randomUUID(), Token: pending.token, TopicArn: TOPIC, Message: 'confirm',
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription', Timestamp: new Date().toISOString(),
    };
    const signed = await h.fakes.signSns(confirm);
    const forged = await postSns({ ...signed, Token: 'f'.repeat(128) }, { 'x-amz-sns-message-type': 'SubscriptionConfirmation' });
    assert.equal(forged.status, 403);
    assert.equal(h.fakes.subscriptions().find((s) => s.arn === pending.arn)?.confirmed, false);
    assert.equal((await postSns(signed)).status, 200);
    assert.equal(h.fakes.subscriptions().find((s) => s.arn === pending.arn)?.confirmed, true);
  });

  it('marks a sent email delivered when SES says so', async () => {
    delivered.id = await send('f1', 'email');
    const n = await until(delivered.id, 'delivered');
    assert.equal(n.status, 'sent');
    assert.equal(n.deliveries[0].feedback.event, 'delivery');
    assert.equal(n.deliveries[0].tp, undefined, 'the stored traceparent is not shown');
  });

  it('records a hard bounce, suppresses the address, and sends it nothing more', async () => {
    h.fakes.outcome('ses', 'f2@example.com', 'bounce');
    const first = await until(await send('f2', 'email'), 'bounced');
    assert.equal(first.status, 'failed');
    assert.match(first.deliveries[0].feedback.detail, /^Permanent\/General/);
    const second = await until(await send('f2', 'email'), 'suppressed');
    assert.equal(second.status, 'not_sent');
    assert.equal(h.fakes.received('ses').filter((m) => m.to === 'f2@example.com').length, 1, 'the second email never reached SES');
  });

  it('records a complaint after the delivery, and suppresses the address', async () => {
    h.fakes.outcome('ses', 'f3@example.com', 'complaint');
    await until(await send('f3', 'email'), 'complained');
    await until(await send('f3', 'email'), 'suppressed');
  });

  it('refuses forged, foreign and malformed messages with a clear 403 / 400, changing nothing', async () => {
    const id = delivered.id!;
    const bounce = { bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'f1@example.com' }] } };
    const forged = { ...(await sesEvent(id, 'f1', 'Bounce', bounce)), Message: JSON.stringify({ eventType: 'Bounce', mail: { tags: {} }, ...bounce }) };
    const cases: [unknown, number, string][] = [
      [forged, 403, 'invalid_signature'],
      [{ ...(await sesEvent(id, 'f1', 'Bounce', bounce)), SigningCertURL: 'https://evil.example.com/SimpleNotificationService-x.pem' }, 403, 'invalid_signature'],
      [{ ...(await sesEvent(id, 'f1', 'Bounce', bounce)), SignatureVersion: '3' }, 403, 'invalid_signature'],
      [await sesEvent(id, 'f1', 'Bounce', bounce, 'arn:aws:sns:us-east-1:999999999999:other'), 403, 'topic_not_allowed'],
      ['not json', 400, 'invalid_sns_message'],
      [{ Type: 'Nonsense' }, 400, 'invalid_sns_message'],
    ];
    for (const [body, status, code] of cases) {
      const res = await postSns(body);
      const answer = (await res.json()) as { error: { code: string; message: string } };
      assert.deepEqual([res.status, answer.error.code], [status, code], JSON.stringify(answer));
      assert.ok(answer.error.message.length > 10);
    }
    const n = await get(id);
    assert.equal(n.deliveries[0].status, 'delivered', 'nothing changed');
  });

  it('accepts a SignatureVersion 2 (RSA-SHA256) message, and applies a redelivered one once', async () => {
    const id = await send('f1', 'email');
    await until(id, 'delivered');
    const open = await h.fakes.signSns({
      Type: 'Notification', MessageId: randomUUID(), TopicArn: TOPIC, Timestamp: new Date().toISOString(),
      Message: JSON.stringify({ eventType: 'Open', mail: { tags: { notification_id: [id], delivery_key: [encodeKey('f1:email')], tenant: ['acme'] } }, open: { timestamp: new Date().toISOString() } }),
    }, '2');
    const first = await postSns(open, { 'x-amz-sns-message-type': 'Notification' });
    assert.deepEqual([first.status, ((await first.json()) as { status: string }).status], [200, 'kept'], 'an open does not undo delivered');
    assert.equal(((await (await postSns(open)).json()) as { status: string }).status, 'duplicate');
  });
});

describe('Twilio status callbacks', () => {
  it('marks an SMS delivered from a signed callback to the public URL', async () => {
    const n = await until(await send('f1', 'sms'), 'delivered');
    assert.equal(n.deliveries[0].provider, 'twilio');
    await h.fakes.callbacksSettled(); // the record can change before the fake has read the answer
    const cb = h.fakes.callbacks().filter((c) => c.provider === 'twilio');
    assert.ok(cb.some((c) => c.kind === 'delivered' && c.status === 200 && c.url.startsWith(`${h.url}/v1/feedback/twilio?`)));
  });

  it('marks an undelivered SMS undelivered, with Twilio\'s error code', async () => {
    h.fakes.outcome('twilio', '+14155550142', 'undelivered');
    const n = await until(await send('f2', 'sms'), 'undelivered');
    assert.equal(n.deliveries[0].feedback.detail, 'twilio undelivered 30003');
  });

  it('refuses a callback without or with a wrong signature (403), changing nothing', async () => {
    const id = await send('f3', 'sms');
    await until(id, 'delivered');
    const url = `${h.url}/v1/feedback/twilio?n=${id}&d=${encodeKey('f3:sms')}&t=acme`;
    const form = new URLSearchParams({ MessageSid: 'SMx', MessageStatus: 'undelivered', ErrorCode: '30003' }).toString();
    for (const headers of [{}, { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' }] as Record<string, string>[]) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form });
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_signature');
    }
    assert.equal((await get(id)).deliveries[0].status, 'delivered');
  });
});

describe('feedback in traces and metrics', () => {
  it('puts each feedback span into the notification\'s trace, linked to the request that brought it', async () => {
    const id = delivered.id!;
    const { enqueue, fb } = await eventually(async () => {
      const e = otlp.spans.find((s) => s.name === 'enqueue' && s.attributes['notify.notification_id'] === id);
      const f = otlp.spans.find((s) => s.name === 'feedback ses delivery' && s.attributes['notify.notification_id'] === id);
      return e && f ? { enqueue: e, fb: f } : undefined;
    }, 10_000, 'the feedback span');
    assert.equal(fb.traceId, enqueue.traceId, 'the feedback is in the notification\'s trace');
    const deliver = otlp.spans.find((s) => s.spanId === fb.parentSpanId);
    assert.equal(deliver?.name, 'deliver email via email', 'under the attempt that sent it');
    const request = otlp.spans.find((s) => s.spanId === fb.links[0]?.spanId);
    assert.equal(request?.name, 'POST /v1/feedback/ses');
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(text, /notify_feedback_events_total\{provider="ses",type="delivery",result="applied"\} [1-9]/);
    assert.match(text, /notify_feedback_events_total\{provider="twilio",type="delivered",result="applied"\} [1-9]/);
    assert.match(text, /notify_feedback_rejected_total\{provider="ses",code="invalid_signature"\} [1-9]/);
  });
});
