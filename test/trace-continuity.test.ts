// Work that waits in Redis and comes back later stays in its notification's trace: a send_at notification, and a
// coalescing window's end (both come back through the delayed set as new ingest entries).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTracing } from '../src/telemetry/tracing.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

let h: Harness;
let otlp: OtlpReceiver;
let stopTracing: () => Promise<void>;

before(async () => {
  otlp = await startOtlpReceiver();
  stopTracing = startTracing({ enabled: true, endpoint: otlp.url, sampleRatio: 1, serviceName: 'notify-test' });
  h = await startHarness('trace-continuity', { env: { NOTIFY_COLLAPSE_WINDOW_MS: '300' } });
  await h.api('PUT', '/v1/users/tc', { email: 'tc@example.com' });
});
after(async () => {
  await stopTracing();
  await h.stop();
  await otlp.close();
});

const sent = (id: string) => eventually(async () => ((await h.api('GET', `/v1/notifications/${id}`)).body.status === 'sent' ? true : undefined), 10_000, `${id} sent`);

/** The trace that the notification's enqueue span opened, once it holds the named spans. */
const traceOf = (id: string, names: string[]) => eventually(async () => {
  const root = otlp.spans.find((s) => s.name === 'enqueue' && s.attributes['notify.notification_id'] === id);
  if (!root) return undefined;
  const trace = otlp.spans.filter((s) => s.traceId === root.traceId);
  return names.every((n) => trace.some((s) => s.name === n)) ? trace : undefined;
}, 10_000, `the trace of ${id} with ${names.join(', ')}`);

/** Every span but the request's names a parent that is in the same trace. */
function assertConnected(trace: ReceivedSpan[]): void {
  const ids = new Set(trace.map((s) => s.spanId));
  for (const s of trace) {
    if (s.name.startsWith('POST ')) continue;
    assert.ok(s.parentSpanId && ids.has(s.parentSpanId), `span ${s.name} has its parent in the trace`);
  }
}

describe('trace continuity across held work', () => {
  it('keeps a send_at notification in one trace, from the request to the provider call', async () => {
    const r = await h.api('POST', '/v1/notifications', {
      user_id: 'tc', channels: ['email'], content: { subject: 'S', text: 'later' }, send_at: new Date(Date.now() + 1_200).toISOString(),
    });
    assert.equal(r.body.status, 'scheduled');
    await sent(r.body.id);
    const trace = await traceOf(r.body.id, ['hold until send_at', 'user actor: plan', 'deliver email via email', 'ses send']);
    const plans = otlp.spans.filter((s) => s.name === 'user actor: plan' && s.attributes['notify.notification_id'] === r.body.id);
    assert.equal(plans.length, 1);
    assert.equal(plans[0]!.traceId, trace[0]!.traceId, 'the plan after the wait is in the request\'s trace');
    assertConnected(trace);
  });

  it('puts a coalescing window\'s end into the trace of the window\'s owner', async () => {
    const r = await h.api('POST', '/v1/notifications', { user_id: 'tc', channels: ['email'], content: { subject: 'S', text: 'folded' }, collapse_key: 'k1' });
    await sent(r.body.id);
    const trace = await traceOf(r.body.id, ['user actor: plan', 'user actor: flush', 'ses send']);
    const flush = trace.find((s) => s.name === 'user actor: flush')!;
    assert.equal(flush.attributes['notify.notification_id'], r.body.id);
    assert.equal(flush.parentSpanId, trace.find((s) => s.name === 'user actor: plan')!.spanId);
    assertConnected(trace);
  });
});
