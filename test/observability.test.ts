// One notification is one trace across processes (ingress here, worker in a child process); metrics move as work
// flows; no span attribute or log line carries an address, a token or a message body.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTracing } from '../src/telemetry/tracing.js';
import { eventually, serviceEnv, startHarness, type Harness } from './support/harness.js';
import { hasEvent, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { REDIS_URL } from './support/redis.js';

const EMAIL = 'secret.person@example.com';
const PHONE = '+14155550199';
const TOKEN = 'e'.repeat(64);
const BODY = 'Your very private message 8731';
let h: Harness;
let otlp: OtlpReceiver;
let worker: ServiceProcess | undefined;
let stopTracing: () => Promise<void>;

const metric = async (url: string, name: string, labels = ''): Promise<number> => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

before(async () => {
  otlp = await startOtlpReceiver();
  stopTracing = startTracing({ enabled: true, endpoint: otlp.url, sampleRatio: 1, serviceName: 'notify-ingress' });
  h = await startHarness('observability', { role: 'ingress' });
  await h.api('PUT', '/v1/users/o1', { email: EMAIL, phone: PHONE });
  await h.api('POST', '/v1/users/o1/devices', { platform: 'ios', token: TOKEN });
  await h.api('PUT', '/v1/templates/private', { email: { subject: 'Hello', text: `{{ secret }}` }, push: { body: '{{ secret }}' }, sms: { body: '{{ secret }}' } });
});
after(async () => {
  await worker?.stop();
  await stopTracing();
  await h.stop();
  await otlp.close();
});

const startWorker = async () => {
  worker = spawnService(['--role', 'worker'], serviceEnv(h.prefix, {
    NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'debug',
    NOTIFY_TRACING: 'on', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'notify-worker',
  }));
  const line = await worker.waitForLog((l) => l.msg === 'health and metrics listening');
  return `http://127.0.0.1:${line.port}`;
};

describe('metrics and tracing', () => {
  let workerUrl: string;
  let ids: string[];

  it('shows work waiting in the queue before a worker runs', async () => {
    const before = await metric(h.url, 'notify_notifications_accepted_total', 'tenant="acme"');
    // The providers' error texts quote the address, phone and token: they must be scrubbed before any span or log.
    const leaky = `mailbox ${EMAIL} (phone ${PHONE}, device ${TOKEN}) is unhappy`;
    h.fakes.behavior('ses', { failNext: 1, failWith: { status: 500, message: leaky } });
    h.fakes.behavior('twilio', { failNext: 1, failWith: { status: 503, message: leaky } });
    ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await h.api('POST', '/v1/notifications', { user_id: 'o1', template: 'private', params: { secret: BODY } })).body.id);
    }
    assert.equal(await metric(h.url, 'notify_notifications_accepted_total', 'tenant="acme"'), before + 3);
    await new Promise((r) => setTimeout(r, 1_100)); // the queue gauges are read at most once a second
    assert.equal(await metric(h.url, 'notify_stream_length', 'stream="ingest"'), 3);
  });

  it('drains it, counting sends and latencies, once a worker runs', async () => {
    workerUrl = await startWorker();
    for (const id of ids) {
      await eventually(async () => ((await h.api('GET', `/v1/notifications/${id}`)).body.status === 'sent' ? true : undefined), 10_000);
    }
    assert.equal(await metric(workerUrl, 'notify_deliveries_total', 'channel="email",provider="ses",status="sent"'), 3);
    assert.equal(await metric(workerUrl, 'notify_deliveries_total', 'channel="email",provider="ses",status="retrying"'), 1);
    assert.equal(await metric(workerUrl, 'notify_deliveries_total', 'channel="push",provider="apns",status="sent"'), 3);
    assert.ok((await metric(workerUrl, 'notify_accept_to_send_seconds_count', 'channel="email"')) >= 3);
    assert.ok((await metric(workerUrl, 'notify_provider_latency_seconds_count', 'provider="ses"')) >= 4);
    assert.equal(await metric(workerUrl, 'notify_provider_errors_total', 'provider="ses",class="retryable"'), 1);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(await metric(workerUrl, 'notify_stream_lag', 'stream="ingest"'), 0);
    assert.equal(await metric(workerUrl, 'notify_stream_pending', 'stream="email"'), 0);
    const ready = await fetch(`${workerUrl}/readyz`);
    assert.equal(ready.status, 200);
  });

  it('makes one connected trace per notification, from the request to each provider attempt', async () => {
    const id = ids[0]!;
    const spans = await eventually(async () => {
      const root = otlp.spans.find((s) => s.name === 'enqueue' && s.attributes['notify.notification_id'] === id);
      if (!root) return undefined;
      const trace = otlp.spans.filter((s) => s.traceId === root.traceId);
      return trace.filter((s) => s.name === 'ses send').length >= 1 && trace.some((s) => s.name === 'render') ? trace : undefined;
    }, 10_000, 'the trace');
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const one = (name: string): ReceivedSpan => {
      const found = byName(name);
      assert.ok(found.length >= 1, `a ${name} span`);
      return found[0]!;
    };
    const post = one('POST /v1/notifications');
    const enqueue = one('enqueue');
    const actor = one('user actor: plan');
    assert.equal(enqueue.parentSpanId, post.spanId);
    assert.equal(actor.parentSpanId, enqueue.spanId);
    assert.equal(actor.service, 'notify-worker', 'the actor ran in the worker process');
    const renders = byName('render');
    assert.ok(renders.every((r) => r.parentSpanId === actor.spanId && Number(r.attributes['thread.id']) > 0), 'render spans come from the worker thread');
    const delivers = spans.filter((s) => s.name.startsWith('deliver'));
    assert.ok(delivers.every((d) => d.parentSpanId === actor.spanId));
    const sends = spans.filter((s) => s.name.endsWith(' send'));
    assert.ok(sends.every((s) => delivers.some((d) => d.spanId === s.parentSpanId)), 'provider calls are children of their delivery');
    assert.ok(delivers.every((d) => d.attributes['notify.notification_id'] === id));
    assert.ok(hasEvent(actor, 'queued'), 'the actor records its decisions');
  });

  it('shows a retry as a second attempt span', async () => {
    const firstAttempt = otlp.spans.find((s) => s.name === 'deliver email via email' && hasEvent(s, 'retry scheduled'));
    assert.ok(firstAttempt, 'one email delivery was retried');
    const second = await eventually(async () => otlp.spans.find((s) => s.traceId === firstAttempt.traceId && s.name === 'deliver email via email' && s.attributes['notify.attempt'] === 2));
    assert.equal(second.attributes['notify.status'], 'sent');
    assert.ok(otlp.spans.some((s) => s.traceId === firstAttempt.traceId && s.name === 'ses send' && s.status === 2), 'the failed provider call is an error span');
  });

  it('continues the trace of a producer that XADDs with its own traceparent', async () => {
    const redis = new Redis(REDIS_URL);
    const traceId = 'abcdef0123456789abcdef0123456789';
    try {
      const entry = await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'o1', channels: ['email'], content: { subject: 'S', text: 'x' } }),
        'traceparent', `00-${traceId}-0123456789abcdef-01`);
      const actor = await eventually(async () => otlp.spans.find((s) => s.name === 'user actor: plan' && s.attributes['notify.notification_id'] === `x-${entry}`), 10_000);
      assert.equal(actor.traceId, traceId);
      assert.equal(actor.parentSpanId, '0123456789abcdef');
    } finally {
      redis.disconnect();
    }
  });

  it('never puts an address, a token or a message body into a span or a log line', async () => {
    const secrets = [EMAIL, PHONE, TOKEN, BODY];
    // The secrets did go through the pipeline: to the providers, and back in their error texts.
    assert.ok(h.fakes.received().some((m) => m.to === PHONE), 'an SMS went to the seeded phone');
    assert.ok(h.fakes.received().some((m) => m.to === EMAIL) && h.fakes.received().some((m) => m.to === TOKEN));
    const scrubbed = otlp.spans.filter((s) => /\[email\].*\[number\].*\[token\]/.test(s.statusMessage ?? ''));
    assert.deepEqual(new Set(scrubbed.map((s) => s.name)), new Set(['ses send', 'twilio send']), 'the providers\' texts arrive scrubbed');
    // Everything exported, as sent: attributes, events and their attributes, links, status messages, resources.
    assert.ok(otlp.bodies.length > 0);
    for (const body of otlp.bodies) for (const secret of secrets) assert.ok(!body.includes(secret), `an export leaks ${secret.slice(0, 6)}…`);
    const logs = [...h.logs, ...(worker?.logs ?? [])].map((l) => JSON.stringify(l));
    assert.ok(logs.length > 5, 'there are log lines to check');
    for (const line of [...logs, worker?.stderr() ?? '']) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a log line leaks ${secret.slice(0, 6)}…: ${line.slice(0, 200)}`);
    }
  });
});
