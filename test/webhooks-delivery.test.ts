// Webhook delivery against real Redis and real receivers on 127.0.0.1, driven by events appended to the status event
// stream: signatures, order after an outage, a dead endpoint beside a healthy one, Retry-After, dead letters and
// redrive, auto-disable, rotation, tenants apart, the SSRF refusal at PUT and at send time.
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import type { DeliveryRecord } from '../src/domain/record.js';
import { eventFields } from '../src/history/events.js';
import { makeKeys } from '../src/streams/keys.js';
import { defineScripts } from '../src/streams/scripts.js';
import type { WebhookConfig } from '../src/webhooks/index.js';
import { eventually } from './support/harness.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';
import { freePort } from './support/redis-server.js';
import { startReceiver, startWorker, testConfig, webhookApi, type Receiver } from './support/webhooks.js';

const redis = new Redis(REDIS_URL);
defineScripts(redis);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
after(() => redis.disconnect());

async function setup(name: string, env: Record<string, string> = {}, beforeStart?: (s: { prefix: string; api: ReturnType<typeof webhookApi> }) => Promise<void>) {
  const prefix = testPrefix(`wh-${name}`);
  const config: WebhookConfig = testConfig(env);
  const api = webhookApi(redis, prefix, config);
  cleanup.push(() => dropPrefix(prefix));
  await beforeStart?.({ prefix, api });
  const worker = await startWorker(redis, prefix, config);
  cleanup.push(() => worker.stop());
  const keys = makeKeys(prefix);
  let seq = 0;
  /** Appends a `delivery` event as the scripts do; returns its stream id. */
  const emit = async (tenant: string, nid: string, status: DeliveryRecord['status'], extra: Partial<DeliveryRecord> = {}) => {
    const data: DeliveryRecord = { user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status, attempts: 1, updated_at: new Date().toISOString(), ...extra };
    const fields = eventFields({ kind: 'delivery', tenant, notificationId: nid, createdAt: Date.now(), key: `jane:email:${seq++}`, data });
    return (await redis.xadd(keys.events, '*', ...fields))!;
  };
  return { prefix, config, api, emit, worker };
}

async function receiver(): Promise<Receiver> {
  const rx = await startReceiver();
  cleanup.push(() => rx.close());
  return rx;
}

const put = (url: string, events = ['delivery.sent', 'delivery.failed']) => ({ url, events });

describe('webhooks: delivery', () => {
  it('signs each event (standardwebhooks verifies it), webhook-id is the entry id + endpoint, tenants apart', async () => {
    const s = await setup('sign');
    const [a, b] = [await receiver(), await receiver()];
    const created = await s.api('PUT', '/v1/webhooks/orders', put(a.url));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.secret, /^whsec_/);
    assert.equal((await s.api('PUT', '/v1/webhooks/orders', put(b.url), 'other')).status, 201);
    const again = await s.api('PUT', '/v1/webhooks/orders', { ...put(a.url), enabled: true });
    assert.equal(again.status, 200);
    assert.equal(again.body.secret, undefined, 'the secret is shown on create only');

    const id = await s.emit('acme', 'n1', 'sent', { provider_message_id: 'pm-1' });
    await s.emit('acme', 'n1', 'queued'); // no webhook event
    const [got] = await eventually(async () => (a.got.length ? a.got : undefined), 5_000, 'the webhook');
    const payload = new Webhook(created.body.secret).verify(got!.body, got!.headers as Record<string, string>) as any;
    assert.equal(got!.headers['webhook-id'], `${id}_orders`);
    assert.equal(payload.type, 'delivery.sent');
    assert.deepEqual(Object.keys(payload.data).sort(), ['channel', 'delivery_key', 'notification_id', 'provider', 'provider_message_id', 'status', 'user_id']);
    assert.ok(!got!.body.includes('example.com'), 'no address');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.got.length, 1);
    assert.equal(b.got.length, 0, "another tenant's endpoint gets nothing");

    const attempts = await s.api('GET', '/v1/webhooks/orders/attempts');
    assert.equal(attempts.body.attempts[0].status_code, 200);
    assert.equal(attempts.body.attempts[0].outcome, 'succeeded');
    assert.equal(typeof attempts.body.attempts[0].duration_ms, 'number');
    assert.equal((await s.api('GET', '/v1/webhooks/orders/attempts', undefined, 'other')).body.attempts.length, 0);
    const list = await s.api('GET', '/v1/webhooks');
    assert.deepEqual(list.body.webhooks.map((w: any) => [w.name, w.url, w.enabled, w.queued]), [['orders', a.url, true, 0]]);
    assert.equal(list.body.webhooks[0].secret, undefined);
  });

  it('a receiver down for a while gets every event after it returns, in order per notification', async () => {
    const s = await setup('down', { NOTIFY_WEBHOOK_RETRY_SCHEDULE: Array(100).fill('50ms').join(',') });
    const port = await freePort();
    assert.equal((await s.api('PUT', '/v1/webhooks/down', put(`http://127.0.0.1:${port}/hook`))).status, 201);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) for (const n of ['n1', 'n2', 'n3']) sent.push(await s.emit('acme', n, i % 2 ? 'failed' : 'sent', { attempts: i }));
    await eventually(async () => ((await s.api('GET', '/v1/webhooks/down/attempts')).body.attempts.length >= 3 ? true : undefined), 5_000, 'failed attempts');
    const rx = await startReceiver(port); // back up
    cleanup.push(() => rx.close());
    await eventually(async () => (rx.got.length >= sent.length ? true : undefined), 10_000, 'every event');
    const ids = rx.got.map((g) => String(g.headers['webhook-id']).split('_')[0]);
    assert.deepEqual(ids, sent, 'every event once, in stream order');
    assert.equal((await s.api('GET', '/v1/webhooks/down')).body.queued, 0);
  });

  it('a dead endpoint does not slow the others: the healthy one keeps flowing while the dead one queues', async () => {
    const s = await setup('dead', { NOTIFY_WEBHOOK_TIMEOUT_MS: '2000', NOTIFY_WEBHOOK_RETRY_SCHEDULE: '10s' });
    const [healthy, dead] = [await receiver(), await receiver()];
    dead.answer = () => 'hang';
    await s.api('PUT', '/v1/webhooks/dead', put(dead.url));
    await s.api('PUT', '/v1/webhooks/healthy', put(healthy.url));
    const started = Date.now();
    for (let i = 0; i < 50; i++) await s.emit('acme', `n${i}`, 'sent');
    await eventually(async () => (healthy.got.length === 50 ? true : undefined), 5_000, 'the healthy endpoint');
    const took = Date.now() - started;
    const deadView = (await s.api('GET', '/v1/webhooks/dead')).body;
    assert.ok(took < 1_500, `the healthy endpoint got all 50 in ${took} ms while the dead one hangs (timeout 2 s)`);
    assert.ok(deadView.queued >= 49, `the dead endpoint's queue holds its events (${deadView.queued})`);
  });

  it('honours Retry-After', async () => {
    const s = await setup('retry-after');
    const rx = await receiver();
    rx.answer = (_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
    await s.api('PUT', '/v1/webhooks/ra', put(rx.url));
    await s.emit('acme', 'n1', 'sent');
    await eventually(async () => (rx.got.length === 2 ? true : undefined), 5_000, 'the retry');
    const gap = rx.got[1]!.at - rx.got[0]!.at;
    assert.ok(gap >= 950, `retried after ${gap} ms (Retry-After: 1; the schedule says 50 ms)`);
    assert.equal(rx.got[0]!.headers['webhook-id'], rx.got[1]!.headers['webhook-id'], 'the same webhook-id on a retry');
    const [ok, retry] = (await s.api('GET', '/v1/webhooks/ra/attempts')).body.attempts;
    assert.deepEqual([retry.status_code, retry.outcome, ok.outcome, ok.attempt], [429, 'retrying', 'succeeded', 2]);
    assert.ok(Date.parse(retry.next_attempt_at) - Date.parse(retry.at) >= 1_000);
  });

  it('dead-letters after the schedule, lists and redrives', async () => {
    const s = await setup('dlq', { NOTIFY_WEBHOOK_RETRY_SCHEDULE: '20ms,20ms' });
    const rx = await receiver();
    let up = false;
    rx.answer = () => ({ status: up ? 200 : 500 });
    await s.api('PUT', '/v1/webhooks/dl', put(rx.url));
    const first = await s.emit('acme', 'n1', 'sent');
    await s.emit('acme', 'n2', 'sent');
    const dls = await eventually(async () => {
      const r = (await s.api('GET', '/v1/webhooks/dl/dead-letters')).body.dead_letters;
      return r.length === 2 ? r : undefined;
    }, 5_000, 'two dead letters');
    assert.equal(rx.got.length, 6, 'three attempts each');
    assert.deepEqual(dls.map((d: any) => [d.attempts, d.error, d.type]), [[3, 'HTTP 500', 'delivery.sent'], [3, 'HTTP 500', 'delivery.sent']]);
    assert.equal(dls[1].webhook_id, `${first}_dl`);
    assert.equal((await s.api('POST', '/v1/webhooks/dl/dead-letters/redrive', {})).status, 422);
    up = true;
    const r = await s.api('POST', '/v1/webhooks/dl/dead-letters/redrive', { ids: [dls[1].id] });
    assert.deepEqual(r.body, { redriven: 1 });
    await eventually(async () => (rx.got.length === 7 ? true : undefined), 5_000, 'the redriven one');
    assert.equal(rx.got[6]!.headers['webhook-id'], `${first}_dl`);
    assert.deepEqual((await s.api('POST', '/v1/webhooks/dl/dead-letters/redrive', { all: true })).body, { redriven: 1 });
    await eventually(async () => (rx.got.length === 8 ? true : undefined), 5_000, 'the other');
    assert.equal((await s.api('GET', '/v1/webhooks/dl')).body.dead_letters, 0);
  });

  it('auto-disables after persistent failure (visible in GET), and PUT enabled: true resumes', async () => {
    const s = await setup('disable', { NOTIFY_WEBHOOK_DISABLE_AFTER_FAILURES: '3', NOTIFY_WEBHOOK_DISABLE_AFTER_MS: '100' });
    const rx = await receiver();
    let up = false;
    rx.answer = () => ({ status: up ? 204 : 503 });
    await s.api('PUT', '/v1/webhooks/flaky', put(rx.url));
    await s.emit('acme', 'n1', 'sent');
    const view = await eventually(async () => {
      const v = (await s.api('GET', '/v1/webhooks/flaky')).body;
      return v.enabled ? undefined : v;
    }, 5_000, 'disabled');
    assert.match(view.disabled_reason, /failed attempts in a row.*HTTP 503/);
    assert.equal(view.queued, 1, 'its queue waits');
    const n = rx.got.length;
    await s.emit('acme', 'n2', 'sent');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.got.length, n, 'nothing is sent while disabled');
    up = true;
    const back = await s.api('PUT', '/v1/webhooks/flaky', { ...put(rx.url), enabled: true });
    assert.deepEqual([back.body.enabled, back.body.disabled_reason], [true, null]);
    // n2 was not queued while disabled (the endpoint did not take events); n1 waited.
    await eventually(async () => ((await s.api('GET', '/v1/webhooks/flaky')).body.queued === 0 ? true : undefined), 5_000, 'drained');
    assert.equal(rx.got.filter((g) => g.json.data.notification_id === 'n1').length, n + 1);
  });

  it('rotating the secret keeps the previous one valid for a while', async () => {
    const s = await setup('rotate');
    const rx = await receiver();
    const { secret: old } = (await s.api('PUT', '/v1/webhooks/r', put(rx.url))).body;
    const rotated = await s.api('POST', '/v1/webhooks/r/rotate-secret');
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, old);
    assert.ok(Date.parse(rotated.body.previous_secret_expires_at) > Date.now());
    await s.emit('acme', 'n1', 'sent');
    const [got] = await eventually(async () => (rx.got.length ? rx.got : undefined), 5_000, 'the webhook');
    for (const secret of [old, rotated.body.secret]) new Webhook(secret).verify(got!.body, got!.headers as Record<string, string>);
    assert.equal(String(got!.headers['webhook-signature']).split(' ').length, 2);
  });

  it('POST …/test sends a signed test event at once; DELETE removes the endpoint', async () => {
    const s = await setup('test-event');
    const rx = await receiver();
    const { secret } = (await s.api('PUT', '/v1/webhooks/t', put(rx.url))).body;
    const r = await s.api('POST', '/v1/webhooks/t/test');
    assert.equal(r.body.ok, true);
    assert.equal(r.body.status_code, 200);
    assert.equal((new Webhook(secret).verify(rx.got[0]!.body, rx.got[0]!.headers as Record<string, string>) as any).type, 'webhook.test');
    assert.equal((await s.api('POST', '/v1/webhooks/t/test', undefined, 'other')).status, 404);
    assert.equal((await s.api('DELETE', '/v1/webhooks/t')).status, 204);
    assert.equal((await s.api('GET', '/v1/webhooks/t')).status, 404);
    assert.equal((await s.api('DELETE', '/v1/webhooks/t')).status, 404);
  });
});

describe('webhooks: crash recovery (at least once)', () => {
  it("an event a dead dispatcher read but did not queue, and an entry a dead sender held, are sent once their leases run out", async () => {
    const rx = await receiver();
    const stale: string[] = [];
    const s = await setup('crash', {}, async ({ prefix, api }) => {
      assert.equal((await api('PUT', '/v1/webhooks/c', put(rx.url))).status, 201);
      const keys = makeKeys(prefix);
      await redis.xgroup('CREATE', keys.events, 'webhooks', '0', 'MKSTREAM');
      const data: DeliveryRecord = { user_id: 'jane', channel: 'email', provider: 'ses', to: null, status: 'sent', attempts: 1, updated_at: new Date().toISOString() };
      stale.push((await redis.xadd(keys.events, '*', ...eventFields({ kind: 'delivery', tenant: 'acme', notificationId: 'n0', createdAt: Date.now(), key: 'jane:email', data })))!);
      // A dispatcher read it (pending) and died holding the dispatch lease.
      await redis.xreadgroup('GROUP', 'webhooks', 'dispatcher', 'COUNT', 10, 'STREAMS', keys.events, '>');
      await redis.set(`${prefix}:wh:dispatch`, 'dead-process', 'PX', 400);
      // A sender died holding the endpoint.
      await redis.set(`${prefix}:wh:lease:acme:c`, 'dead-sender', 'PX', 800);
    });
    const started = Date.now();
    const second = await s.emit('acme', 'n1', 'sent');
    await eventually(async () => (rx.got.length === 2 ? true : undefined), 5_000, 'both events');
    assert.ok(Date.now() - started >= 700, 'not before the dead sender\'s lease ran out');
    assert.deepEqual(rx.got.map((g) => String(g.headers['webhook-id']).split('_')[0]), [stale[0], second], 'in order');
    const pending = await redis.xpending(makeKeys(s.prefix).events, 'webhooks') as [number];
    assert.equal(pending[0], 0, 'acknowledged');
  });
});

describe('webhooks: SSRF', () => {
  it('refuses loopback, private, link-local, metadata, unspecified and non-http URLs at PUT (422 naming url)', async () => {
    const s = await setup('ssrf', { NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'off' });
    for (const url of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://[::1]/x', 'http://10.0.0.5/x', 'http://192.168.1.10/x',
      'http://169.254.169.254/latest/meta-data', 'http://100.64.1.1/', 'http://0.0.0.0/', 'http://[fd00::1]/', 'http://[::ffff:127.0.0.1]/',
      'ftp://example.com/', 'http://nonexistent.invalid/']) {
      const r = await s.api('PUT', '/v1/webhooks/x', put(url));
      assert.equal(r.status, 422, url);
      assert.equal(r.body.error.code, 'validation_failed');
      assert.equal(r.body.error.field, 'url', url);
    }
    const r = await s.api('PUT', '/v1/webhooks/x', put('http://127.0.0.1/x'));
    assert.match(r.body.error.message, /loopback.*NOTIFY_WEBHOOK_ALLOW_PRIVATE=on/);
    assert.equal((await s.api('GET', '/v1/webhooks/x')).status, 404, 'nothing stored');
    // Allowed private targets still never include the metadata address.
    const allowed = await setup('ssrf-on');
    assert.equal((await allowed.api('PUT', '/v1/webhooks/x', put('http://169.254.169.254/'))).status, 422);
  });

  it('checks again at send time: a stored name that now resolves to loopback is not connected to', async () => {
    const rx = await receiver();
    const s = await setup('ssrf-send', { NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'off', NOTIFY_WEBHOOK_RETRY_SCHEDULE: '10s' });
    // Stored while private targets were allowed (as if the name resolved to a public address then).
    const lenient = webhookApi(redis, s.prefix, testConfig());
    assert.equal((await lenient('PUT', '/v1/webhooks/rebind', put(`http://localhost:${rx.port}/hook`))).status, 201);
    await s.emit('acme', 'n1', 'sent');
    const [a] = await eventually(async () => {
      const r = (await s.api('GET', '/v1/webhooks/rebind/attempts')).body.attempts;
      return r.length ? r : undefined;
    }, 5_000, 'an attempt');
    assert.match(a.error, /refused address.*loopback/);
    assert.equal(a.status_code, null);
    assert.equal(rx.got.length, 0, 'never connected');
  });
});
