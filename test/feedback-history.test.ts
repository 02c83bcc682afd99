// Feedback moves a delivery's updated_at (an SES event changes what GET shows, so the time it changed is shown too), and
// a failed-over SMS's attempt history lists every provider's attempts in order, not only the last provider's.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { encodeKey } from '../src/domain/feedback.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { freePort } from './support/redis-server.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:notify-ses-events';
let h: Harness;

before(async () => {
  const port = await freePort();
  h = await startHarness('feedback-history', {
    env: {
      NOTIFY_HTTP_PORT: String(port), NOTIFY_SES_EVENTS_TOPIC_ARNS: TOPIC,
      NOTIFY_RETRY_MAX_ATTEMPTS: '2', NOTIFY_RETRY_BASE_MS: '20', NOTIFY_RETRY_MAX_DELAY_MS: '50', NOTIFY_BREAKER_THRESHOLD: '100',
    },
  });
  await h.api('PUT', '/v1/users/fh1', { email: 'fh1@example.com', phone: '+14155550177' });
});
after(async () => {
  h.fakes.resetBehavior();
  await h.stop();
});

const get = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body;
const delivery = (id: string, status: string) => eventually(async () => {
  const d = (await get(id))?.deliveries?.[0];
  return d?.status === status ? d : undefined;
}, 10_000, `${id} ${status}`);
const postEvent = async (nid: string, eventType: string, part: Record<string, unknown>) => {
  const signed = await h.fakes.signSns({
    Type: 'Notification', MessageId: randomUUID(), TopicArn: TOPIC, Subject: 'Amazon SES Email Event Notification', Timestamp: new Date().toISOString(),
    Message: JSON.stringify({ eventType, mail: { messageId: 'm', tags: { notification_id: [nid], delivery_key: [encodeKey('fh1:email')], tenant: ['acme'] } }, ...part }),
  });
  const res = await fetch(`${h.url}/v1/feedback/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(signed) });
  assert.equal(res.status, 200, await res.text());
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('feedback and updated_at', () => {
  it('moves a delivery\'s updated_at each time feedback changes it', async () => {
    const id = (await h.api('POST', '/v1/notifications', { user_id: 'fh1', channels: ['email'], content: { subject: 'S', text: 'x' } })).body.id;
    const sent = await delivery(id, 'sent');
    await sleep(20);
    await postEvent(id, 'Delivery', { delivery: { timestamp: '2020-01-01T00:00:00.000Z' } });
    const delivered = await delivery(id, 'delivered');
    assert.ok(Date.parse(delivered.updated_at) > Date.parse(sent.updated_at), `${delivered.updated_at} is after ${sent.updated_at}`);
    await sleep(20);
    await postEvent(id, 'Bounce', { bounce: { bounceType: 'Transient', bouncedRecipients: [{ emailAddress: 'fh1@example.com' }] } });
    const bounced = await delivery(id, 'bounced');
    assert.ok(Date.parse(bounced.updated_at) > Date.parse(delivered.updated_at), `${bounced.updated_at} is after ${delivered.updated_at}`);
  });
});

describe('failover history', () => {
  it('lists Twilio\'s and SNS\'s attempts, in order, in the dead letter of a failed-over SMS', async () => {
    h.fakes.behavior('twilio', { failWith: { status: 503 } });
    h.fakes.behavior('sns', { failWith: { status: 503 } });
    const id = (await h.api('POST', '/v1/notifications', { user_id: 'fh1', channels: ['sms'], content: { body: 'history' } })).body.id;
    const d = await delivery(id, 'failed');
    assert.equal(d.attempts, 2);
    const dead = await eventually(async () => {
      const list = (await h.api('GET', '/v1/dead-letters?limit=500')).body.dead_letters as any[];
      return list.find((x) => x.notification_id === id);
    }, 5_000, 'the dead letter');
    assert.deepEqual(dead.history.map((n: any) => n.provider), ['twilio', 'sns', 'twilio', 'sns']);
    const at = dead.history.map((n: any) => n.at as number);
    assert.deepEqual(at, [...at].sort((a, b) => a - b), 'oldest first');
  });
});
