// One notification is one trace across processes (ingress here, worker in a child process), a retried delivery
// included; no exported span data or log line carries an address, a token or a message body. (Metrics: metrics.test.ts.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { contextOf, startSpan, startTracing, traceparentOf } from '../src/telemetry/tracing.js';
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
const ids: string[] = [];

before(async () => {
  otlp = await startOtlpReceiver();
  stopTracing = startTracing({ enabled: true, endpoint: otlp.url, sampleRatio: 1, serviceName: 'notify-ingress' });
  h = await startHarness('observability', { role: 'ingress' });
  await h.api('PUT', '/v1/users/o1', { email: EMAIL, phone: PHONE });
  await h.api('POST', '/v1/users/o1/devices', { platform: 'ios', token: TOKEN });
  await h.api('PUT', '/v1/templates/private', { email: { subject: 'Hello', text: `{{ secret }}` }, push: { body: '{{ secret }}' }, sms: { body: '{{ secret }}' } });
  // The providers' error texts quote the address, phone and token: they must be scrubbed before any span or log.
  const leaky = `mailbox ${EMAIL} (phone ${PHONE}, device ${TOKEN}) is unhappy`;
  h.fakes.behavior('ses', { failNext: 1, failWith: { status: 500, message: leaky } });
  h.fakes.behavior('twilio', { failNext: 1, failWith: { status: 503, message: leaky } });
  for (let i = 0; i < 3; i++) {
    ids.push((await h.api('POST', '/v1/notifications', { user_id: 'o1', template: 'private', params: { secret: BODY } })).body.id);
  }
  worker = spawnService(['--role', 'worker'], serviceEnv(h.prefix, {
    NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'debug',
    NOTIFY_TRACING: 'on', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'notify-worker',
  }));
  await worker.waitForLog((l) => l.msg === 'health and metrics listening');
  for (const id of ids) {
    await eventually(async () => ((await h.api('GET', `/v1/notifications/${id}`)).body.status === 'sent' ? true : undefined), 15_000, `${id} sent`);
  }
});
after(async () => {
  await worker?.stop();
  await stopTracing();
  await h.stop();
  await otlp.close();
});

/** Every span but the request's has its parent in the same trace. */
function assertConnected(trace: ReceivedSpan[]): void {
  const byId = new Set(trace.map((s) => s.spanId));
  for (const s of trace) {
    if (s.name.startsWith('POST ')) assert.equal(s.parentSpanId, undefined, 'the request is the root');
    else assert.ok(s.parentSpanId && byId.has(s.parentSpanId), `span ${s.name} has its parent in the trace`);
  }
}

describe('tracing', () => {
  it('makes one connected trace of the retried notification: request, plan, render, both attempts, provider calls', async () => {
    const first = await eventually(async () => otlp.spans.find((s) => s.name === 'deliver email via email' && hasEvent(s, 'retry scheduled')), 10_000, 'the retried attempt');
    const trace = await eventually(async () => {
      const t = otlp.spans.filter((s) => s.traceId === first.traceId);
      return t.filter((s) => s.name === 'deliver email via email').length === 2 && t.filter((s) => s.name === 'ses send').length === 2 ? t : undefined;
    }, 10_000, 'the second attempt in the same trace');
    const named = (name: string) => trace.filter((s) => s.name === name);
    const one = (name: string): ReceivedSpan => {
      assert.equal(named(name).length, 1, `one ${name} span`);
      return named(name)[0]!;
    };
    const post = one('POST /v1/notifications');
    const enqueue = one('enqueue');
    const plan = one('user actor: plan');
    const id = String(enqueue.attributes['notify.notification_id']);
    assert.ok(ids.includes(id));
    assert.equal(enqueue.parentSpanId, post.spanId);
    assert.equal(plan.parentSpanId, enqueue.spanId);
    assert.equal(plan.service, 'notify-worker', 'the actor ran in the worker process');
    assert.ok(hasEvent(plan, 'queued'), 'the actor records its decisions');

    const renders = named('render');
    assert.equal(renders.length, 3, 'one render per channel');
    assert.ok(renders.every((r) => r.parentSpanId === plan.spanId && Number(r.attributes['thread.id']) > 0), 'render spans come from the worker thread');

    const [a1, a2] = named('deliver email via email').sort((x, y) => Number(x.attributes['notify.attempt']) - Number(y.attributes['notify.attempt']));
    assert.deepEqual([a1!.attributes['notify.attempt'], a2!.attributes['notify.attempt']], [1, 2]);
    assert.ok(hasEvent(a1!, 'retry scheduled') && a1!.attributes['notify.status'] === 'retrying');
    assert.equal(a2!.attributes['notify.status'], 'sent');
    const sesCalls = named('ses send');
    assert.equal(sesCalls.find((s) => s.parentSpanId === a1!.spanId)?.status, 2, 'the failed provider call is an error span');
    assert.ok(sesCalls.some((s) => s.parentSpanId === a2!.spanId && s.status !== 2), 'the second attempt\'s call succeeded');

    const delivers = trace.filter((s) => s.name.startsWith('deliver '));
    assert.ok(delivers.every((d) => d.parentSpanId === plan.spanId && d.attributes['notify.notification_id'] === id));
    assert.ok(trace.some((s) => s.name === 'apns send'), 'the push went out in the same trace');
    assertConnected(trace);
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

  it('builds no span under a sampled-out parent, yet hands its trace on; under a sampled one it records', () => {
    const parent = (flags: string) => contextOf(`00-33333333333333333333333333333333-0123456789abcdef-${flags}`);
    const out = startSpan('child', parent('00'));
    assert.equal(out.isRecording(), false);
    assert.equal(traceparentOf(out), '00-33333333333333333333333333333333-0123456789abcdef-00');
    const kept = startSpan('child', parent('01'));
    assert.equal(kept.isRecording(), true);
    assert.match(traceparentOf(kept) ?? '', /^00-33333333333333333333333333333333-(?!0123456789abcdef)[0-9a-f]{16}-01$/);
    kept.end();
  });

  it('follows a producer\'s "not sampled": nothing of its trace is exported, and its trace id still travels to the delivery', async () => {
    const redis = new Redis(REDIS_URL);
    const outTrace = '11111111111111111111111111111111';
    const markTrace = '22222222222222222222222222222222';
    const xadd = (traceId: string, flags: string) => redis.xadd(`${h.prefix}:in`, '*', 'payload',
      JSON.stringify({ tenant: 'acme', user_id: 'o1', channels: ['email'], content: { subject: 'S', text: 'x' } }), 'traceparent', `00-${traceId}-0123456789abcdef-${flags}`);
    try {
      const skipped = `x-${await xadd(outTrace, '00')}`;
      const delivery = await eventually(async () => {
        const fields = await redis.hgetall(`${h.prefix}:n:acme:${skipped}`);
        const d = Object.entries(fields).find(([k]) => k.startsWith('d:'));
        const rec = d && (JSON.parse(d[1]) as { status: string; tp?: string });
        return rec?.status === 'sent' ? rec : undefined;
      }, 10_000, 'the not-sampled notification sent');
      // A sampled one sent after it: once its provider call is exported, any span of the other would have been too.
      await xadd(markTrace, '01');
      await eventually(async () => otlp.spans.find((s) => s.traceId === markTrace && s.name === 'ses send'), 10_000, 'the sampled trace');
      assert.equal(otlp.spans.filter((s) => s.traceId === outTrace).length, 0, 'no span of the not-sampled trace is exported');
      assert.match(delivery.tp ?? '', new RegExp(`^00-${outTrace}-[0-9a-f]{16}-00$`), 'the delivery keeps the trace id, not sampled');
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
