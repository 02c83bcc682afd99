// The SES adapter through the real @aws-sdk/client-sesv2 against the HTTP fake.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, sandboxProvidersConfig, startFakes, type Fakes } from '../src/fakes/index.js';
import { createSesAdapter, sesTagPart } from '../src/providers/ses.js';
import type { EmailMessage, ProviderAdapter, SendFailure } from '../src/providers/types.js';

const email = (over: Partial<EmailMessage> = {}): EmailMessage => ({
  channel: 'email', deliveryId: 'ntf_1:email', notificationId: 'ntf_1', priority: 'normal', to: 'jane@example.com',
  content: { subject: 'Your receipt', text: 'Thanks!', html: '<p>Thanks!</p>' }, data: { template: 'receipt.v2', 'tenant id': 'acme/eu' }, ...over,
});
const failed = (r: unknown): SendFailure => {
  assert.equal((r as SendFailure).ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as SendFailure;
};

describe('SES adapter', () => {
  let fakes: Fakes;
  let ses: ProviderAdapter;
  before(async () => {
    fakes = await startFakes();
    ses = createSesAdapter(sandboxProvidersConfig(fakes, { ses: { configurationSetName: 'notify-events', timeoutMs: 1000 } }).ses!);
  });
  after(async () => {
    await ses.close();
    await fakes.close();
  });
  beforeEach(() => {
    fakes.resetBehavior();
    fakes.clear();
  });

  it('sends a signed SendEmail with simple content, configuration set and sanitised tags; returns MessageId', async () => {
    const r = await ses.send(email());
    const m = fakes.received('ses').at(-1)!;
    assert.equal(m.status, 200);
    assert.ok(r.ok && r.providerMessageId === m.messageId);
    assert.match(m.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIASANDBOXFAKE00000\/\d{8}\/us-east-1\/ses\//);
    assert.deepEqual(m.body, {
      FromEmailAddress: SANDBOX_CREDENTIALS.sesFrom,
      Destination: { ToAddresses: ['jane@example.com'] },
      Content: { Simple: { Subject: { Data: 'Your receipt', Charset: 'UTF-8' }, Body: { Text: { Data: 'Thanks!', Charset: 'UTF-8' }, Html: { Data: '<p>Thanks!</p>', Charset: 'UTF-8' } } } },
      ConfigurationSetName: 'notify-events',
      EmailTags: [
        { Name: 'notification_id', Value: 'ntf_1' },
        { Name: 'template', Value: 'receipt_v2' },
        { Name: 'tenant_id', Value: 'acme_eu' },
      ],
    });
  });

  it('tags the delivery (base64url key) and tenant, so SES events can name it; data cannot take those names', async () => {
    await ses.send(email({ deliveryKey: 'jane.doe:email', tenant: 'acme', data: { tenant: 'spoof', delivery_key: 'spoof', x: 'y' } }));
    assert.deepEqual(fakes.received('ses').at(-1)!.body.EmailTags, [
      { Name: 'notification_id', Value: 'ntf_1' },
      { Name: 'delivery_key', Value: Buffer.from('jane.doe:email').toString('base64url') },
      { Name: 'tenant', Value: 'acme' },
      { Name: 'x', Value: 'y' },
    ]);
  });

  it('tag parts keep only what SES allows', () => {
    assert.equal(sesTagPart('a.b c/d-é_1'), 'a_b_c_d-__1');
    assert.equal(sesTagPart('x'.repeat(300)).length, 256);
  });

  it('MessageRejected is permanent', async () => {
    fakes.behavior('ses', { failNext: 1, failWith: { code: 'MessageRejected', message: 'Email address is not verified: jane@example.com' } });
    const f = failed(await ses.send(email()));
    assert.deepEqual([f.code, f.status, f.retryable, f.providerSide], ['MessageRejected', 400, false, false]);
    assert.ok(!f.message.includes('jane@example.com'), f.message);
  });

  for (const code of ['TooManyRequestsException', 'LimitExceededException', 'InternalFailure']) {
    it(`${code} is retryable, after exactly one HTTP request (SDK retries off)`, async () => {
      fakes.behavior('ses', { failNext: 1, failWith: { code } });
      const f = failed(await ses.send(email()));
      assert.deepEqual([f.code, f.retryable, f.providerSide], [code, true, true]);
      assert.equal(fakes.received('ses').length, 1);
    });
  }

  it('AccountSuspendedException and SendingPausedException are permanent and provider-side (fail over)', async () => {
    for (const code of ['AccountSuspendedException', 'SendingPausedException']) {
      fakes.behavior('ses', { failNext: 1, failWith: { code } });
      const f = failed(await ses.send(email()));
      assert.deepEqual([f.code, f.retryable, f.providerSide], [code, false, true]);
    }
  });

  it('times out as a retryable `timeout`', async () => {
    const slow = createSesAdapter(sandboxProvidersConfig(fakes, { ses: { timeoutMs: 100 } }).ses!);
    try {
      fakes.behavior('ses', { latencyMs: 400 });
      const f = failed(await slow.send(email()));
      assert.deepEqual([f.code, f.retryable], ['timeout', true]);
    } finally {
      await slow.close();
    }
  });
});
