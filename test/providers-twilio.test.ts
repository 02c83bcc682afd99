// The Twilio adapter through the real twilio SDK against the HTTP fake (and one RFC 9457 answer from a bare server).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, sandboxProvidersConfig, startFakes, type Fakes } from '../src/fakes/index.js';
import { createTwilioAdapter } from '../src/providers/twilio.js';
import type { ProviderAdapter, SendFailure, SmsMessage } from '../src/providers/types.js';

const PHONE = '+14155550123';
const sms = (over: Partial<SmsMessage> = {}): SmsMessage => ({
  channel: 'sms', deliveryId: 'ntf_1:sms', notificationId: 'ntf_1', priority: 'high', to: PHONE,
  content: { body: 'Your code is 123456' }, ...over,
});
const failed = (r: unknown): SendFailure => {
  assert.equal((r as SendFailure).ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as SendFailure;
};

describe('Twilio adapter', () => {
  let fakes: Fakes;
  let twilio: ProviderAdapter;
  before(async () => {
    fakes = await startFakes();
    twilio = createTwilioAdapter(sandboxProvidersConfig(fakes, { twilio: { statusCallbackUrl: 'https://notify.example.com/webhooks/twilio' } }).twilio!);
  });
  after(async () => {
    await twilio.close();
    await fakes.close();
  });
  beforeEach(() => {
    fakes.resetBehavior();
    fakes.clear();
  });

  it('posts To, From, Body, StatusCallback with Basic auth for the account; returns the SM sid', async () => {
    const r = await twilio.send(sms());
    const m = fakes.received('twilio').at(-1)!;
    assert.equal(m.status, 201);
    assert.ok(r.ok && r.providerMessageId === m.messageId && /^SM[0-9a-f]{32}$/.test(r.providerMessageId));
    assert.deepEqual(m.body, { To: PHONE, From: SANDBOX_CREDENTIALS.twilioFrom, Body: 'Your code is 123456' }, 'no StatusCallback for a message naming no delivery');
    await twilio.send(sms({ deliveryKey: 'u:1:sms', tenant: 'acme' }));
    const cb = new URL(fakes.received('twilio').at(-1)!.body.StatusCallback);
    assert.equal(`${cb.origin}${cb.pathname}`, 'https://notify.example.com/webhooks/twilio');
    assert.deepEqual(Object.fromEntries(cb.searchParams), { n: 'ntf_1', d: Buffer.from('u:1:sms').toString('base64url'), t: 'acme' }, 'the callback names its delivery');
    const basic = Buffer.from(m.headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    assert.equal(basic, `${SANDBOX_CREDENTIALS.twilioAccountSid}:${SANDBOX_CREDENTIALS.twilioAuthToken}`);
  });

  it('uses MessagingServiceSid instead of From when configured', async () => {
    const svc = createTwilioAdapter(sandboxProvidersConfig(fakes, { twilio: { messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' } }).twilio!);
    try {
      assert.equal((await svc.send(sms())).ok, true);
      const body = fakes.received('twilio').at(-1)!.body;
      assert.equal(body.MessagingServiceSid, 'MG0123456789abcdef0123456789abcdef');
      assert.equal(body.From, undefined);
    } finally {
      await svc.close();
    }
  });

  it('21211 invalid To and 21617 too long are permanent, without the number in the message', async () => {
    const bad = failed(await twilio.send(sms({ to: '4155550123' })));
    assert.deepEqual([bad.code, bad.status, bad.retryable, bad.providerSide], ['21211', 400, false, false]);
    assert.ok(!bad.message.includes('4155550123'));
    const long = failed(await twilio.send(sms({ content: { body: 'x'.repeat(1601) } })));
    assert.deepEqual([long.code, long.retryable], ['21617', false]);
  });

  it('21610 unsubscribed is permanent', async () => {
    fakes.behavior('twilio', { failNext: 1, failWith: { code: '21610' } });
    const f = failed(await twilio.send(sms()));
    assert.deepEqual([f.code, f.status, f.retryable], ['21610', 400, false]);
  });

  it('20429 is retryable with Retry-After, after exactly one request (autoRetry off)', async () => {
    fakes.behavior('twilio', { failNext: 1, failWith: { code: '20429', retryAfterS: 3 } });
    const f = failed(await twilio.send(sms()));
    assert.deepEqual([f.code, f.status, f.retryable, f.providerSide, f.retryAfterMs], ['20429', 429, true, true, 3000]);
    assert.equal(fakes.received('twilio').length, 1);
  });

  it('5xx and a reset connection are retryable', async () => {
    fakes.behavior('twilio', { failNext: 1, failWith: { status: 503 } });
    assert.equal(failed(await twilio.send(sms())).retryable, true);
    fakes.behavior('twilio', { failNext: 1, down: true });
    const f = failed(await twilio.send(sms()));
    assert.deepEqual([f.code, f.retryable], ['ECONNRESET', true]);
    assert.equal((await twilio.send(sms())).ok, true);
  });

  it('times out as a retryable `timeout`', async () => {
    const slow = createTwilioAdapter(sandboxProvidersConfig(fakes, { twilio: { timeoutMs: 100 } }).twilio!);
    try {
      fakes.behavior('twilio', { latencyMs: 400 });
      const f = failed(await slow.send(sms()));
      assert.deepEqual([f.code, f.retryable], ['timeout', true]);
    } finally {
      await slow.close();
    }
  });

  it('an RFC 9457 error (TwilioServiceException) is classified too', async () => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '2' });
      res.end(JSON.stringify({ type: 'https://www.twilio.com/docs/errors/20429', title: 'Too Many Requests', status: 429, code: 20429, detail: 'slow down' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const adapter = createTwilioAdapter({ ...sandboxProvidersConfig(fakes).twilio!, baseUrl: `http://127.0.0.1:${port}` });
    try {
      const f = failed(await adapter.send(sms()));
      assert.deepEqual([f.code, f.status, f.retryable, f.retryAfterMs], ['20429', 429, true, 2000]);
    } finally {
      await adapter.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
