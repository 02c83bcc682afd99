// The FCM adapter through the real firebase-admin SDK against the HTTP fake.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError, loadConfig } from '../src/config.js';
import { generateTlsMaterial, sandboxProvidersConfig, startFakes, type Fakes } from '../src/fakes/index.js';
import { closeAdapters, createAdapters } from '../src/providers/index.js';
import { createFcmAdapter } from '../src/providers/fcm.js';
import type { ProviderAdapter, PushMessage, SendFailure } from '../src/providers/types.js';

const TOKEN = 'dXNlcjE:APA91bH-fake-registration-token-0001';
const push = (over: Partial<PushMessage> = {}): PushMessage => ({
  channel: 'push', deliveryId: 'ntf_1:push', notificationId: 'ntf_1', priority: 'high', to: TOKEN,
  content: { title: 'Order shipped', body: 'Your parcel is on its way' }, data: { orderId: '42' }, collapseKey: 'order-42', ...over,
});
const failed = (r: unknown): SendFailure => {
  assert.equal((r as SendFailure).ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return r as SendFailure;
};

describe('FCM adapter', () => {
  let fakes: Fakes;
  let fcm: ProviderAdapter;
  before(async () => {
    fakes = await startFakes();
    fcm = createFcmAdapter(sandboxProvidersConfig(fakes, { fcm: { timeoutMs: 1000 } }).fcm!);
  });
  after(async () => {
    await fcm.close();
    await fakes.close();
  });
  beforeEach(() => {
    fakes.resetBehavior();
    fakes.clear();
  });

  it('sends token, notification, android priority/collapse key and data with a Bearer token', async () => {
    const r = await fcm.send(push());
    const m = fakes.received('fcm').at(-1)!;
    assert.equal(m.status, 200);
    assert.ok(r.ok && r.providerMessageId === m.messageId && r.providerMessageId.startsWith('projects/notify-sandbox/messages/'));
    assert.match(m.headers.authorization!, /^Bearer \S+/);
    assert.deepEqual(m.body.message, {
      token: TOKEN,
      notification: { title: 'Order shipped', body: 'Your parcel is on its way' },
      android: { priority: 'high', collapse_key: 'order-42' },
      data: { orderId: '42' },
    });
  });

  it('normal priority, no title, no data', async () => {
    await fcm.send(push({ priority: 'normal', content: { body: 'b' }, data: undefined, collapseKey: undefined }));
    assert.deepEqual(fakes.received('fcm').at(-1)!.body.message, { token: TOKEN, notification: { body: 'b' }, android: { priority: 'normal' } });
  });

  it('404 UNREGISTERED marks the token invalid', async () => {
    fakes.behavior('fcm', { failNext: 1, failWith: { code: 'UNREGISTERED' } });
    const f = failed(await fcm.send(push()));
    assert.deepEqual([f.code, f.status, f.retryable, f.tokenInvalid], ['UNREGISTERED', 404, false, {}]);
  });

  it('429 QUOTA_EXCEEDED is retryable with Retry-After', async () => {
    fakes.behavior('fcm', { failNext: 1, failWith: { code: 'QUOTA_EXCEEDED', retryAfterS: 7 } });
    const f = failed(await fcm.send(push()));
    assert.deepEqual([f.code, f.status, f.retryable, f.providerSide, f.retryAfterMs], ['QUOTA_EXCEEDED', 429, true, true, 7000]);
  });

  it('INVALID_ARGUMENT and SENDER_ID_MISMATCH are permanent', async () => {
    fakes.behavior('fcm', { failNext: 1, failWith: { code: 'SENDER_ID_MISMATCH' } });
    const f = failed(await fcm.send(push()));
    assert.deepEqual([f.code, f.status, f.retryable], ['SENDER_ID_MISMATCH', 403, false]);
    const big = failed(await fcm.send(push({ content: { body: 'x'.repeat(5000) } })));
    assert.deepEqual([big.code, big.status, big.retryable], ['INVALID_ARGUMENT', 400, false]);
  });

  it('503 comes back at once after exactly one request: firebase-admin does not retry behind our back', async () => {
    fakes.behavior('fcm', { failNext: 1, failWith: { code: 'UNAVAILABLE' } });
    const t0 = Date.now();
    const f = failed(await fcm.send(push()));
    assert.deepEqual([f.code, f.status, f.retryable, f.providerSide], ['UNAVAILABLE', 503, true, true]);
    assert.ok(Date.now() - t0 < 500, `took ${Date.now() - t0} ms`);
    assert.equal(fakes.received('fcm').length, 1);
  });

  it('a reset connection is retryable, again with one request only', async () => {
    fakes.behavior('fcm', { failNext: 1, down: true });
    const f = failed(await fcm.send(push()));
    assert.deepEqual([f.code, f.retryable, f.providerSide], ['ECONNRESET', true, true]);
    assert.equal(fakes.received('fcm').length, 1);
    assert.equal((await fcm.send(push())).ok, true);
  });

  it('times out as a retryable `timeout`', async () => {
    const slow = createFcmAdapter(sandboxProvidersConfig(fakes, { fcm: { timeoutMs: 100 } }).fcm!);
    try {
      fakes.behavior('fcm', { latencyMs: 400 });
      const f = failed(await slow.send(push()));
      assert.deepEqual([f.code, f.retryable, f.providerSide], ['timeout', true, true]);
    } finally {
      await slow.close();
    }
  });
});

describe('FCM configured from the environment (not the sandbox)', () => {
  let fakes: Fakes;
  let proxy: tls.Server;
  let ca: string;
  before(async () => {
    fakes = await startFakes();
    // A real TLS hop in front of the plain-HTTP fake, with a certificate for FCM's host signed by a test CA.
    const material = await generateTlsMaterial(['fcm.googleapis.com']);
    ca = material.caPem;
    proxy = tls.createServer({ cert: material.certPem, key: material.keyPem }, (s) => s.pipe(net.connect(fakes.httpPort, '127.0.0.1')).pipe(s));
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    proxy.close();
    await fakes.close();
  });
  const env = (extra: Record<string, string>) => ({ NOTIFY_API_KEYS: 'acme:0123456789abcdef', NOTIFY_FCM_PROJECT_ID: 'acme-prod', NOTIFY_FCM_ACCESS_TOKEN: 'ya29.configured-token', ...extra });
  const readFile = (path: string) => {
    if (path === '/etc/notify/fcm-ca.pem') return ca;
    throw new Error(`unexpected file ${path}`);
  };

  for (const [name, endpoint] of [['plain http://host:port', () => `http://127.0.0.1:${fakes.httpPort}`], ['TLS host:port with a CA file', () => `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`]] as const) {
    it(`reaches the fake over ${name}, with the configured project and access token`, async () => {
      const extra: Record<string, string> = { NOTIFY_FCM_ENDPOINT: endpoint(), ...(name.startsWith('TLS') && { NOTIFY_FCM_CA_FILE: '/etc/notify/fcm-ca.pem' }) };
      const config = loadConfig(env(extra), readFile);
      assert.equal(config.sandbox.enabled, false);
      const adapters = await createAdapters(config.providers);
      try {
        assert.deepEqual([...adapters.keys()], ['fcm']);
        const r = await adapters.get('fcm')!.send(push());
        const m = fakes.received('fcm').at(-1)!;
        assert.ok(r.ok && r.providerMessageId === m.messageId, JSON.stringify(r));
        assert.match(m.messageId!, /^projects\/acme-prod\/messages\//);
        assert.equal(m.headers.authorization, 'Bearer ya29.configured-token');
        assert.equal(m.body.message.token, TOKEN);
      } finally {
        await closeAdapters(adapters);
      }
    });
  }

  it('refuses partial or contradictory FCM settings at start-up', () => {
    const refuses = (e: Record<string, string>, why: RegExp) => assert.throws(() => loadConfig(e, readFile), (err: unknown) => err instanceof ConfigError && why.test(err.message));
    refuses({ NOTIFY_API_KEYS: 'acme:0123456789abcdef', NOTIFY_FCM_ENDPOINT: 'http://127.0.0.1:1' }, /NOTIFY_FCM_PROJECT_ID/);
    refuses(env({ NOTIFY_FCM_SERVICE_ACCOUNT_FILE: '/sa.json' }), /one of NOTIFY_FCM_SERVICE_ACCOUNT_FILE or NOTIFY_FCM_ACCESS_TOKEN/);
    refuses(env({ NOTIFY_FCM_ENDPOINT: 'http://127.0.0.1:1', NOTIFY_FCM_CA_FILE: '/etc/notify/fcm-ca.pem' }), /TLS endpoint/);
    refuses(env({ NOTIFY_FCM_ENDPOINT: 'ftp://x' }), /NOTIFY_FCM_ENDPOINT/);
  });
});
