// The APNs adapter through the real @parse/node-apn SDK against the APNs fake (TLS + HTTP/2).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sandboxProvidersConfig, startFakes, type Fakes } from '../src/fakes/index.js';
import { createApnsAdapter } from '../src/providers/apns.js';
import type { ProviderAdapter, PushMessage, SendFailure } from '../src/providers/types.js';

const TOKEN = 'a1'.repeat(32);
const push = (over: Partial<PushMessage> = {}): PushMessage => ({
  channel: 'push', deliveryId: 'ntf_1:push', notificationId: 'ntf_1', priority: 'high', to: TOKEN,
  content: { title: 'Order shipped', body: 'Your parcel is on its way' }, data: { orderId: '42', deepLink: 'app://orders/42' },
  collapseKey: 'order-42', ...over,
});
const failed = (r: unknown): SendFailure => {
  assert.equal((r as SendFailure).ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as SendFailure;
};

describe('APNs adapter', () => {
  let fakes: Fakes;
  let apns: ProviderAdapter;
  before(async () => {
    fakes = await startFakes();
    apns = createApnsAdapter(sandboxProvidersConfig(fakes, { apns: { timeoutMs: 1000 } }).apns!);
  });
  after(async () => {
    await apns.close();
    await fakes.close();
  });
  beforeEach(() => {
    fakes.resetBehavior();
    fakes.clear();
  });

  it('sends headers, aps alert and custom data; returns the apns-id', async () => {
    const r = await apns.send(push());
    assert.equal(r.ok, true);
    const m = fakes.received('apns').at(-1)!;
    assert.equal(m.status, 200);
    assert.equal(m.to, TOKEN);
    assert.equal(m.headers['apns-topic'], 'com.example.notify.sandbox');
    assert.equal(m.headers['apns-push-type'], 'alert');
    assert.equal(m.headers['apns-priority'], '10');
    assert.equal(m.headers['apns-collapse-id'], 'order-42');
    assert.match(m.headers['apns-id']!, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r.ok && r.providerMessageId, m.headers['apns-id']);
    assert.deepEqual(m.body, { aps: { alert: { title: 'Order shipped', body: 'Your parcel is on its way' } }, orderId: '42', deepLink: 'app://orders/42' });
    // The provider token is an ES256 JWT for the configured key (the fake verified its signature too).
    const [header] = m.headers.authorization!.replace(/^bearer /, '').split('.');
    const jwt = JSON.parse(Buffer.from(header!, 'base64url').toString());
    assert.equal(jwt.alg, 'ES256');
    assert.equal(jwt.kid, fakes.apns.keyId);
  });

  it('keeps one apns-id per delivery, uses a UUID deliveryId as is, and maps normal priority to 5', async () => {
    await apns.send(push());
    await apns.send(push());
    const uuid = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    await apns.send(push({ deliveryId: uuid, priority: 'normal' }));
    const [a, b, c] = fakes.received('apns');
    assert.equal(a!.headers['apns-id'], b!.headers['apns-id']);
    assert.equal(c!.headers['apns-id'], uuid);
    assert.equal(c!.headers['apns-priority'], '5');
  });

  it('410 Unregistered marks the token invalid with the APNs timestamp', async () => {
    fakes.behavior('apns', { failNext: 1, failWith: { code: 'Unregistered' } });
    const before = Date.now();
    const f = failed(await apns.send(push()));
    assert.equal(f.retryable, false);
    assert.equal(f.code, 'Unregistered');
    assert.equal(f.status, 410);
    assert.ok(f.tokenInvalid?.at && f.tokenInvalid.at >= before && f.tokenInvalid.at <= Date.now(), JSON.stringify(f));
  });

  it('500 is retryable and the next send works (node-apn closed its session)', async () => {
    fakes.behavior('apns', { failNext: 1 });
    const f = failed(await apns.send(push()));
    assert.equal(f.code, 'InternalServerError');
    assert.equal(f.retryable, true);
    assert.equal(f.providerSide, true);
    assert.equal(fakes.received('apns').length, 1, 'node-apn must not retry by itself');
    assert.equal((await apns.send(push())).ok, true);
  });

  it('in-flight sends failing after another 500 closed the shared session are retryable; later sends work', async () => {
    fakes.behavior('apns', { failNext: 2, latencyMs: 30 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => apns.send(push({ deliveryId: `d${i}` }))));
    const failures = results.filter((r) => !r.ok) as SendFailure[];
    assert.equal(failures.length, 2);
    for (const f of failures) assert.equal(f.retryable, true, f.message);
    fakes.resetBehavior();
    assert.equal((await apns.send(push())).ok, true);
  });

  it('429 and 503 are retryable; 400 BadDeviceToken and 413 are not', async () => {
    fakes.behavior('apns', { failNext: 1, failWith: { code: 'TooManyRequests' } });
    assert.equal(failed(await apns.send(push())).retryable, true);
    fakes.behavior('apns', { failNext: 1, failWith: { status: 503 } });
    assert.equal(failed(await apns.send(push())).retryable, true);
    const bad = failed(await apns.send(push({ to: 'not-a-hex-token' })));
    assert.deepEqual([bad.code, bad.retryable, bad.tokenInvalid], ['BadDeviceToken', false, undefined]);
    const big = failed(await apns.send(push({ content: { body: 'x'.repeat(5000) } })));
    assert.deepEqual([big.status, big.code, big.retryable], [413, 'PayloadTooLarge', false]);
    assert.ok(!big.message.includes(TOKEN));
  });

  it('a dropped stream is a retryable connection failure', async () => {
    fakes.behavior('apns', { failNext: 1, down: true });
    const f = failed(await apns.send(push()));
    assert.equal(f.retryable, true);
    assert.equal(f.providerSide, true);
    assert.equal((await apns.send(push())).ok, true);
  });

  it('times out as a retryable `timeout` and recovers', async () => {
    const slow = createApnsAdapter(sandboxProvidersConfig(fakes, { apns: { timeoutMs: 100 } }).apns!);
    try {
      fakes.behavior('apns', { latencyMs: 400 });
      const t0 = Date.now();
      const f = failed(await slow.send(push()));
      assert.equal(f.code, 'timeout');
      assert.equal(f.retryable, true);
      assert.ok(Date.now() - t0 < 350);
      fakes.resetBehavior();
      assert.equal((await slow.send(push())).ok, true);
    } finally {
      await slow.close();
    }
  });

  it('refuses a message of another channel without sending', async () => {
    const f = failed(await apns.send({ ...push(), channel: 'sms' } as never));
    assert.equal(f.code, 'wrong_channel');
    assert.equal(fakes.received('apns').length, 0);
  });
});
