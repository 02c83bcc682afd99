// The SNS SMS adapter through the real @aws-sdk/client-sns (awsQuery) against the HTTP fake.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sandboxProvidersConfig, startFakes, type Fakes } from '../src/fakes/index.js';
import { createSnsAdapter } from '../src/providers/sns.js';
import type { ProviderAdapter, SendFailure, SmsMessage } from '../src/providers/types.js';

const PHONE = '+447700900123';
const sms = (over: Partial<SmsMessage> = {}): SmsMessage => ({
  channel: 'sms', deliveryId: 'ntf_1:sms', notificationId: 'ntf_1', priority: 'high', to: PHONE, content: { body: 'Your code is 123456' }, ...over,
});
const failed = (r: unknown): SendFailure => {
  assert.equal((r as SendFailure).ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as SendFailure;
};

describe('SNS adapter', () => {
  let fakes: Fakes;
  let sns: ProviderAdapter;
  before(async () => {
    fakes = await startFakes();
    sns = createSnsAdapter(sandboxProvidersConfig(fakes, { sns: { senderId: 'NOTIFY', timeoutMs: 1000 } }).sns!);
  });
  after(async () => {
    await sns.close();
    await fakes.close();
  });
  beforeEach(() => {
    fakes.resetBehavior();
    fakes.clear();
  });

  it('publishes to the phone number as a Transactional SMS with the sender id; returns MessageId', async () => {
    const r = await sns.send(sms());
    const m = fakes.received('sns').at(-1)!;
    assert.equal(m.status, 200);
    assert.ok(r.ok && r.providerMessageId === m.messageId);
    assert.match(m.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=\S+\/us-east-1\/sns\//);
    const attrs: Record<string, string> = {};
    for (let i = 1; m.body[`MessageAttributes.entry.${i}.Name`]; i++) {
      attrs[m.body[`MessageAttributes.entry.${i}.Name`]] = m.body[`MessageAttributes.entry.${i}.Value.StringValue`];
      assert.equal(m.body[`MessageAttributes.entry.${i}.Value.DataType`], 'String');
    }
    assert.equal(m.body.Action, 'Publish');
    assert.equal(m.body.PhoneNumber, PHONE);
    assert.equal(m.body.Message, 'Your code is 123456');
    assert.deepEqual(attrs, { 'AWS.SNS.SMS.SMSType': 'Transactional', 'AWS.SNS.SMS.SenderID': 'NOTIFY' });
  });

  it('Throttled (429) is retryable after exactly one request; InternalError (500) too', async () => {
    fakes.behavior('sns', { failNext: 1, failWith: { code: 'Throttled' } });
    const t = failed(await sns.send(sms()));
    assert.deepEqual([t.code, t.status, t.retryable, t.providerSide], ['Throttled', 429, true, true]);
    assert.equal(fakes.received('sns').length, 1);
    fakes.behavior('sns', { failNext: 1, failWith: { code: 'InternalError' } });
    const i = failed(await sns.send(sms()));
    assert.deepEqual([i.code, i.status, i.retryable], ['InternalError', 500, true]);
    assert.equal(fakes.received('sns').length, 2);
  });

  it('a generic Throttling (400) is retryable', async () => {
    fakes.behavior('sns', { failNext: 1, failWith: { code: 'Throttling' } });
    const f = failed(await sns.send(sms()));
    assert.deepEqual([f.code, f.status, f.retryable], ['Throttling', 400, true]);
  });

  it('InvalidParameter (bad number) is permanent', async () => {
    const f = failed(await sns.send(sms({ to: '07700900123' })));
    assert.deepEqual([f.code, f.status, f.retryable, f.providerSide], ['InvalidParameter', 400, false, false]);
  });

  it('times out as a retryable `timeout`', async () => {
    const slow = createSnsAdapter(sandboxProvidersConfig(fakes, { sns: { timeoutMs: 100 } }).sns!);
    try {
      fakes.behavior('sns', { latencyMs: 400 });
      const f = failed(await slow.send(sms()));
      assert.deepEqual([f.code, f.retryable], ['timeout', true]);
    } finally {
      await slow.close();
    }
  });
});
