// The provider span and latency cover the provider call only: a send this process's own gate holds back (rate limit)
// is counted as a local throttle, never as a provider error, a provider span or a provider latency sample.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTracing } from '../src/telemetry/tracing.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { metric } from './support/metrics.js';
import { hasEvent, startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';

let h: Harness;
let otlp: OtlpReceiver;
let stopTracing: () => Promise<void>;

before(async () => {
  otlp = await startOtlpReceiver();
  stopTracing = startTracing({ enabled: true, endpoint: otlp.url, sampleRatio: 1, serviceName: 'notify-test' });
  // One SES send per second, and no waiting for a turn: the second and third emails are throttled here.
  h = await startHarness('provider-calls', { env: { NOTIFY_PROVIDER_RATES: 'ses:1', NOTIFY_THROTTLE_MAX_WAIT_MS: '0' } });
  await h.api('PUT', '/v1/users/pc', { email: 'pc@example.com' });
});
after(async () => {
  await stopTracing();
  await h.stop();
  await otlp.close();
});


describe('provider calls', () => {
  it('times and traces only the calls that reached the provider', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await h.api('POST', '/v1/notifications', { user_id: 'pc', channels: ['email'], content: { subject: 'S', text: `n${i}` } })).body.id);
    }
    for (const id of ids) {
      await eventually(async () => ((await h.api('GET', `/v1/notifications/${id}`)).body.status === 'sent' ? true : undefined), 15_000, `${id} sent`);
    }
    const calls = h.fakes.received('ses').length;
    assert.equal(calls, 3, 'each email reached SES once');
    assert.ok(await metric(h.url, 'notify_local_throttles_total', 'provider="ses"') >= 1, 'the gate held some back');
    assert.equal(await metric(h.url, 'notify_provider_latency_seconds_count', 'provider="ses"'), calls);
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.ok(!/notify_provider_errors_total\{[^}]*provider="ses"/.test(text), 'a local throttle is not a provider error');

    const sends = await eventually(async () => {
      const s = otlp.spans.filter((x) => x.name === 'ses send');
      return s.length >= calls ? s : undefined;
    }, 5_000, 'the provider spans');
    assert.equal(sends.length, calls);
    assert.ok(sends.every((s) => s.status !== 2), 'no provider span is an error');
    const throttled = otlp.spans.filter((s) => s.name === 'deliver email via email' && hasEvent(s, 'throttled locally'));
    assert.ok(throttled.length >= 1, 'the delivery span says it was throttled here');
    // The try after a throttle is the same attempt, told apart by its throttle count.
    const tries = otlp.spans.filter((s) => s.name === 'deliver email via email' && s.attributes['notify.notification_id'] === throttled[0]!.attributes['notify.notification_id']);
    assert.ok(tries.length >= 2 && tries.every((s) => s.attributes['notify.attempt'] === 1));
    assert.equal(new Set(tries.map((s) => s.attributes['notify.throttled'])).size, tries.length);
  });
});
