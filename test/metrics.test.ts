// /metrics moves as work flows: the queue waits before a worker runs (length, lag), drains once one does (sends,
// latencies, errors), shows pending work and its age during a slow send, actors while a user's work is in hand, and
// counts dead letters, duplicates, rate-limited deliveries and an opened circuit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { metric } from './support/metrics.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import type { Service } from '../src/service.js';

let h: Harness;
let worker: Service;
let workerUrl: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const deliveries = (status: string, channel = 'email', provider = 'ses') =>
  metric(workerUrl, 'notify_deliveries_total', `channel="${channel}",provider="${provider}",status="${status}"`);
const post = async (body: Record<string, unknown>): Promise<string> => {
  const r = await h.api('POST', '/v1/notifications', body);
  assert.equal(r.status, 202);
  return r.body.id;
};
const finished = (id: string) => eventually(async () => {
  const n = (await h.api('GET', `/v1/notifications/${id}`)).body;
  return n && !['accepted', 'processing', 'scheduled'].includes(n.status) ? n : undefined;
}, 15_000, `${id} to finish`);

before(async () => {
  h = await startHarness('metrics', { role: 'ingress' });
  for (const u of ['m1', 'm2', 'm3', 'm4', 'm5']) await h.api('PUT', `/v1/users/${u}`, { email: `${u}@example.com`, phone: `+1415555013${u[1]}` });
  await h.api('PUT', '/v1/templates/slow', { email: { subject: 'S', text: '{% for i in range(0, 1000) %}{% for j in range(0, 1000) %}{% endfor %}{% endfor %}done' } });
});
after(async () => {
  await h.stop();
});

describe('metrics', () => {
  it('shows work waiting before a worker runs', async () => {
    const accepted = await metric(h.url, 'notify_notifications_accepted_total', 'tenant="acme"').catch(() => 0);
    h.fakes.behavior('ses', { failNext: 1, failWith: { status: 500 } });
    for (let i = 0; i < 3; i++) await post({ user_id: 'm1', channels: ['email'], content: { subject: 'S', text: `n${i}` } });
    assert.equal(await metric(h.url, 'notify_notifications_accepted_total', 'tenant="acme"'), accepted + 3);
    await sleep(1_100); // the queue gauges are read at most once a second
    assert.equal(await metric(h.url, 'notify_stream_length', 'stream="ingest"'), 3);
    assert.equal(await metric(h.url, 'notify_stream_lag', 'stream="ingest"'), 3, 'no worker has read them');
    assert.equal(await metric(h.url, 'notify_redis_up'), 1);
  });

  it('drains it once a worker runs, counting sends, retries, latencies and errors', async () => {
    worker = await h.startWorker({
      NOTIFY_RETRY_MAX_ATTEMPTS: '2', NOTIFY_BREAKER_THRESHOLD: '3', NOTIFY_RENDER_TIMEOUT_MS: '30000', NOTIFY_RATE_LIMITS: 'marketing.email:1/1h', NOTIFY_RATE_LIMIT_MODE: 'drop',
    });
    workerUrl = `http://127.0.0.1:${worker.port}`;
    await eventually(async () => ((await deliveries('sent')) === 3 ? true : undefined), 15_000, 'three emails sent');
    assert.equal(await deliveries('queued'), 3);
    assert.equal(await deliveries('retrying'), 1);
    assert.equal(await metric(workerUrl, 'notify_accept_to_send_seconds_count', 'channel="email"'), 3);
    assert.equal(await metric(workerUrl, 'notify_provider_latency_seconds_count', 'provider="ses"'), 4);
    assert.equal(await metric(workerUrl, 'notify_provider_errors_total', 'provider="ses",class="retryable"'), 1);
    assert.equal(await metric(workerUrl, 'notify_intake_entries_total', 'result="read"'), 3);
    assert.equal(await metric(workerUrl, 'notify_circuit_state', 'provider="twilio"'), 0);
    assert.equal(await metric(workerUrl, 'notify_user_actors'), 0);
    await sleep(1_100);
    assert.equal(await metric(workerUrl, 'notify_stream_lag', 'stream="ingest"'), 0);
    assert.equal(await metric(workerUrl, 'notify_stream_pending', 'stream="email"'), 0);
    assert.equal(await metric(workerUrl, 'notify_dead_letters'), 0);
    assert.equal((await fetch(`${workerUrl}/readyz`)).status, 200);
  });

  it('shows a slow send as pending, with an age, and in flight', async () => {
    h.fakes.behavior('ses', { latencyMs: 2_500, onlyTo: 'm2@example.com' });
    const id = await post({ user_id: 'm2', channels: ['email'], content: { subject: 'S', text: 'slow' } });
    await eventually(async () => {
      const [pending, age, inflight] = await Promise.all([
        metric(workerUrl, 'notify_stream_pending', 'stream="email"'),
        metric(workerUrl, 'notify_stream_oldest_pending_age_seconds', 'stream="email"'),
        metric(workerUrl, 'notify_inflight', 'stage="email"'),
      ]);
      return pending === 1 && age > 0 && inflight === 1 ? true : undefined;
    }, 5_000, 'the slow send pending');
    assert.equal((await finished(id)).status, 'sent');
    h.fakes.resetBehavior('ses');
  });

  it('counts a user actor while its work is in hand', async () => {
    const id = await post({ user_id: 'm3', channels: ['email'], template: 'slow' });
    await eventually(async () => ((await metric(workerUrl, 'notify_user_actors')) === 1 ? true : undefined), 10_000, 'an actor alive while it renders');
    assert.equal((await finished(id)).status, 'sent');
    assert.equal(await metric(workerUrl, 'notify_user_actors'), 0);
  });

  it('counts dead letters, duplicates and rate-limited deliveries', async () => {
    h.fakes.behavior('ses', { failWith: { status: 500 }, onlyTo: 'm4@example.com' });
    const dead = await post({ user_id: 'm4', channels: ['email'], content: { subject: 'S', text: 'doomed' } });
    assert.equal((await finished(dead)).status, 'failed');
    h.fakes.resetBehavior('ses');
    assert.equal(await deliveries('dead_lettered'), 1);
    await sleep(1_100);
    assert.equal(await metric(workerUrl, 'notify_dead_letters'), 1);

    const first = await post({ user_id: 'm5', channels: ['email'], content: { subject: 'S', text: 'once' }, event_id: 'evt-m5' });
    await finished(first);
    await finished(await post({ user_id: 'm5', channels: ['email'], content: { subject: 'S', text: 'twice' }, event_id: 'evt-m5' }));
    assert.equal(await deliveries('deduplicated'), 1);

    await finished(await post({ user_id: 'm5', channels: ['email'], content: { subject: 'S', text: 'ad 1' }, category: 'marketing' }));
    await finished(await post({ user_id: 'm5', channels: ['email'], content: { subject: 'S', text: 'ad 2' }, category: 'marketing' }));
    assert.equal(await deliveries('rate_limited'), 1);
  });

  it('shows a provider\'s circuit opening', async () => {
    h.fakes.behavior('twilio', { failWith: { status: 503 } });
    const ids = await Promise.all([1, 2, 3].map((i) => post({ user_id: 'm5', channels: ['sms'], content: { body: `sms ${i}` } })));
    for (const id of ids) assert.equal((await finished(id)).status, 'sent', 'failed over to SNS');
    h.fakes.resetBehavior('twilio');
    assert.equal(await metric(workerUrl, 'notify_circuit_state', 'provider="twilio"'), 2);
    assert.equal(await metric(workerUrl, 'notify_provider_errors_total', 'provider="twilio",class="retryable"'), 3);
    assert.equal(await deliveries('sent', 'sms', 'sns'), 3);
  });
});
