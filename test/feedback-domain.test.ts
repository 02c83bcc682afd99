// Pure: reading SES events and Twilio status callbacks into updates of a delivery, and the tags that name it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { callbackQuery, decodeKey, encodeKey, interpretSesEvent, interpretTwilioStatus, suppressionMember } from '../src/domain/feedback.js';

const tags = { notification_id: ['n1'], delivery_key: [encodeKey('jane:email')], tenant: ['acme'], 'ses:configuration-set': ['cs'] };
const mail = { messageId: '0100abc-000000', timestamp: '2030-01-01T00:00:00.000Z', destination: ['jane@example.com'], tags };
const ref = { tenant: 'acme', nid: 'n1', dk: 'jane:email' };

describe('SES events', () => {
  it('reads a delivery, naming the delivery from the tags', () => {
    const r = interpretSesEvent({ eventType: 'Delivery', mail, delivery: { timestamp: '2030-01-01T00:00:01.000Z', recipients: ['jane@example.com'] } });
    assert.deepEqual(r, { ok: true, update: { provider: 'ses', type: 'delivery', ref, providerMessageId: '0100abc-000000', status: 'delivered', at: '2030-01-01T00:00:01.000Z' } });
  });

  it('suppresses a hard bounce and a complaint, not a soft bounce or a not-spam report; details carry no address', () => {
    const bounce = (bounceType: string) => interpretSesEvent({
      eventType: 'Bounce', mail,
      bounce: { bounceType, bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'jane@example.com', diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>: user unknown' }] },
    });
    const hard = bounce('Permanent');
    assert.ok(hard.ok);
    assert.equal(hard.update.status, 'bounced');
    assert.deepEqual(hard.update.suppress, [{ address: 'jane@example.com', reason: 'bounce' }]);
    assert.ok(hard.update.detail?.startsWith('Permanent/General: smtp; 550') && !hard.update.detail.includes('jane@'), hard.update.detail);
    const soft = bounce('Transient');
    assert.ok(soft.ok && soft.update.status === 'bounced' && soft.update.suppress === undefined);
    const complaint = interpretSesEvent({ eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 'jane@example.com' }], complaintFeedbackType: 'abuse' } });
    assert.ok(complaint.ok && complaint.update.status === 'complained');
    assert.deepEqual(complaint.update.suppress, [{ address: 'jane@example.com', reason: 'complaint' }]);
    const notSpam = interpretSesEvent({ eventType: 'Complaint', mail, complaint: { complainedRecipients: [{ emailAddress: 'jane@example.com' }], complaintFeedbackType: 'not-spam' } });
    assert.ok(notSpam.ok && notSpam.update.suppress === undefined);
  });

  it('maps reject and rendering failures to undelivered, and send / delay / open / click to events only', () => {
    const reject = interpretSesEvent({ eventType: 'Reject', mail, reject: { reason: 'Bad content' } });
    assert.ok(reject.ok && reject.update.status === 'undelivered' && reject.update.detail === 'rejected: Bad content');
    const rf = interpretSesEvent({ eventType: 'Rendering Failure', mail, failure: { errorMessage: 'Attribute missing', templateName: 't' } });
    assert.ok(rf.ok && rf.update.status === 'undelivered' && rf.update.type === 'rendering_failure');
    for (const eventType of ['Send', 'DeliveryDelay', 'Open', 'Click']) {
      const r = interpretSesEvent({ eventType, mail, deliveryDelay: { delayType: 'MailboxFull' } });
      assert.ok(r.ok && r.update.status === undefined, eventType);
    }
  });

  it('refuses what names no delivery: identity notifications, missing or forged tags', () => {
    assert.deepEqual(interpretSesEvent({ notificationType: 'Bounce', mail: { messageId: 'x' } }).ok, false);
    assert.equal(interpretSesEvent({ eventType: 'Delivery', mail: { ...mail, tags: {} } }).ok, false);
    assert.equal(interpretSesEvent({ eventType: 'Delivery', mail: { ...mail, tags: { ...tags, delivery_key: ['not base64url!'] } } }).ok, false);
  });
});

describe('Twilio status callbacks', () => {
  const query = new URLSearchParams(callbackQuery(ref));
  it('reads delivered and undelivered / failed (with the error code), other statuses as events', () => {
    const d = interpretTwilioStatus({ MessageSid: 'SM1', MessageStatus: 'delivered' }, query, 0);
    assert.ok(d.ok && d.update.status === 'delivered' && d.update.providerMessageId === 'SM1');
    assert.deepEqual(d.update.ref, ref);
    const u = interpretTwilioStatus({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30003' }, query, 0);
    assert.ok(u.ok && u.update.status === 'undelivered' && u.update.detail === 'twilio undelivered 30003');
    const f = interpretTwilioStatus({ MessageSid: 'SM1', MessageStatus: 'failed' }, query, 0);
    assert.ok(f.ok && f.update.status === 'undelivered');
    const s = interpretTwilioStatus({ MessageSid: 'SM1', MessageStatus: 'sent' }, query, 0);
    assert.ok(s.ok && s.update.status === undefined && s.update.type === 'sent');
    assert.equal(interpretTwilioStatus({ MessageStatus: 'delivered' }, new URLSearchParams(), 0).ok, false);
  });
});

describe('encodings', () => {
  it('round-trips delivery keys through SES-safe base64url, and hashes addresses case-insensitively', () => {
    for (const dk of ['jane:email', 'a.b@c+d=e:sms', 'u:apns:AbC_-9']) assert.equal(decodeKey(encodeKey(dk)), dk);
    assert.match(encodeKey('jane.doe@x:email'), /^[A-Za-z0-9_-]+$/);
    assert.equal(decodeKey('abc='), undefined);
    assert.equal(suppressionMember(' Jane@Example.com'), suppressionMember('jane@example.com'));
  });
});

describe('feedback configuration', () => {
  it('is on in the self-contained sandbox, off with remote fakes unless configured, and validated', async () => {
    const { loadConfig, ConfigError, SANDBOX_SES_EVENTS_TOPIC } = await import('../src/config.js');
    const own = loadConfig({ NOTIFY_SANDBOX: 'on', NOTIFY_HTTP_PORT: '3005' }).feedback;
    assert.deepEqual(own, { publicUrl: 'http://127.0.0.1:3005', sesTopicArns: [SANDBOX_SES_EVENTS_TOPIC] });
    assert.deepEqual(loadConfig({ NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: 'http://127.0.0.1:4010' }).feedback, { sesTopicArns: [] });
    const set = loadConfig({
      NOTIFY_SANDBOX: 'on', NOTIFY_PUBLIC_URL: 'https://notify.example.com/', NOTIFY_SES_EVENTS_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:a,arn:aws:sns:us-east-1:123456789012:b',
    }).feedback;
    assert.deepEqual(set, { publicUrl: 'https://notify.example.com', sesTopicArns: ['arn:aws:sns:eu-west-1:123456789012:a', 'arn:aws:sns:us-east-1:123456789012:b'] });
    assert.throws(() => loadConfig({ NOTIFY_SANDBOX: 'on', NOTIFY_SES_EVENTS_TOPIC_ARNS: 'my-topic' }), ConfigError);
  });
});
