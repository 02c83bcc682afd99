// SnsVerifier against the fake SNS's signatures and certificate host (the fake and the verifier are written apart,
// so each checks the other), and the fake Twilio's signatures against the twilio SDK's own check.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { snsCertAgent, startFakes, type Fakes } from '../src/fakes/index.js';
import { twilioSignature } from '../src/fakes/feedback-events.js';
import { certUrl, SnsVerifier, stringToSign } from '../src/feedback/sns.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:notify-ses-events';
let fakes: Fakes;
let verifier: SnsVerifier;
const note = () => ({ Type: 'Notification', MessageId: 'm-1', TopicArn: TOPIC, Message: '{"x":1}', Timestamp: '2030-01-01T00:00:00.000Z' });

before(async () => {
  fakes = await startFakes();
  verifier = new SnsVerifier({ topicArns: [TOPIC], agent: snsCertAgent(fakes), timeoutMs: 2_000 });
});
after(() => fakes.close());

describe('SNS signatures', () => {
  it('accepts SignatureVersion 1 and 2 from the fake SNS, and nothing tampered', async () => {
    for (const v of ['1', '2'] as const) {
      const signed = await fakes.signSns(note(), v);
      assert.equal((await verifier.verify(JSON.stringify(signed), 'Notification')).ok, true, `v${v}`);
      const tampered = await verifier.verify(JSON.stringify({ ...signed, Message: '{"x":2}' }));
      assert.deepEqual(tampered.ok ? null : [tampered.status, tampered.code], [403, 'invalid_signature']);
    }
    const withSubject = await fakes.signSns({ ...note(), Subject: 'S' });
    assert.equal((await verifier.verify(JSON.stringify({ ...withSubject, Subject: 'T' }))).ok, false, 'Subject is signed when present');
  });

  it('keeps the host check with the test agent: another SNS host fails TLS, a missing certificate is refused', async () => {
    const signed = await fakes.signSns(note());
    const elsewhere = await verifier.verify(JSON.stringify({ ...signed, SigningCertURL: signed.SigningCertURL!.replace('us-east-1', 'eu-west-1') }));
    assert.deepEqual(elsewhere.ok ? null : elsewhere.status, 503, 'the fake\'s TLS certificate names only sns.us-east-1');
    const missing = await verifier.verify(JSON.stringify({ ...signed, SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ffffffffffffffffffffffffffffffff.pem' }));
    assert.deepEqual(missing.ok ? null : [missing.status, missing.code], [403, 'invalid_signature']);
    assert.equal((await verifier.verify(JSON.stringify(signed))).ok, true);
  });

  it('takes certificates only from https SNS hosts', () => {
    const good = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
    assert.ok(certUrl(good));
    assert.ok(certUrl('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem'));
    for (const bad of [
      good.replace('https', 'http'), 'https://sns.us-east-1.amazonaws.com:8443/x.pem', 'https://sns.us-east-1.amazonaws.com.evil.com/x.pem',
      'https://evil.com/sns.us-east-1.amazonaws.com/x.pem', 'https://u:p@sns.us-east-1.amazonaws.com/x.pem', 'https://sns.x.amazonaws.com/x.pem',
      'https://sns.us-east-1.amazonaws.com/x.txt', 'https://sns.us-east-1.amazonaws.com/x.pem',
      'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem', 42,
    ]) assert.equal(certUrl(bad), undefined, String(bad));
  });

  it('signs exactly the fields SNS signs, in order', () => {
    assert.equal(stringToSign({ ...note(), Subject: 'S', UnsubscribeURL: 'u' }),
      'Message\n{"x":1}\nMessageId\nm-1\nSubject\nS\nTimestamp\n2030-01-01T00:00:00.000Z\nTopicArn\n' + TOPIC + '\nType\nNotification\n');
    assert.equal(stringToSign({ Type: 'SubscriptionConfirmation', MessageId: 'i', Token: 't', TopicArn: 'a', Message: 'm', SubscribeURL: 's', Timestamp: 'ts' }),
      'Message\nm\nMessageId\ni\nSubscribeURL\ns\nTimestamp\nts\nToken\nt\nTopicArn\na\nType\nSubscriptionConfirmation\n');
  });
});

describe('fake SNS subscriptions and fake Twilio callbacks over the control API', () => {
  let server: Server;
  const got: { headers: Record<string, unknown>; body: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ headers: req.headers, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('sends a signed SubscriptionConfirmation the way SNS does, and refuses a bad outcome control', async () => {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sns`;
    const res = await fetch(`${fakes.httpUrl}/_fake/sns/subscriptions`, { method: 'POST', body: JSON.stringify({ endpoint, signatureVersion: 2 }) });
    assert.equal(res.status, 200);
    const m = got.at(-1)!;
    assert.equal(m.headers['x-amz-sns-message-type'], 'SubscriptionConfirmation');
    assert.match(String(m.headers['content-type']), /^text\/plain/);
    const body = JSON.parse(m.body) as Record<string, string>;
    assert.equal(body.SignatureVersion, '2');
    assert.equal((await verifier.verify(m.body, 'SubscriptionConfirmation')).ok, true);
    const bad = await fetch(`${fakes.httpUrl}/_fake/outcomes`, { method: 'POST', body: JSON.stringify({ provider: 'ses', to: 'a@b.c', outcome: 'explode' }) });
    assert.equal(bad.status, 400);
  });

  it('signs Twilio callbacks as twilio.validateRequest expects', () => {
    const url = 'https://notify.example.com/v1/feedback/twilio?n=1&d=YQ&t=acme';
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered', To: '+14155550100' };
    const sig = twilioSignature('token', url, params);
    assert.equal(twilio.validateRequest('token', sig, url, params), true);
    assert.equal(twilio.validateRequest('token', sig, url, { ...params, MessageStatus: 'failed' }), false);
    assert.equal(twilio.validateRequest('other', sig, url, params), false);
  });
});
