// Alerts against real Redis and real HTTP receivers on 127.0.0.1 (the fakes' Slack, a JSON receiver): each rule kind
// fires once per window and resolves, fed as the service feeds it (status events, dead letters, a webhook endpoint the
// real webhooks sender disables, circuit states, a queue's pending entries); the per-destination rate limit; a
// destination that fails is retried, then dropped and counted; Slack messages through @slack/webhook carry no PII;
// tenant A's rules never see tenant B's facts.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { loadAlertConfig, startAlertWorker, type AlertConfig } from '../src/alerts/index.js';
import { alertKeys } from '../src/alerts/keys.js';
import { parseSettings, type Settings } from '../src/alerts/rules.js';
import { AlertStore } from '../src/alerts/store.js';
import { CircuitBreaker } from '../src/domain/circuit-breaker.js';
import type { DeliveryRecord } from '../src/domain/record.js';
import { startFakes, type Fakes } from '../src/fakes/index.js';
import { eventFields } from '../src/history/events.js';
import { createLogger } from '../src/log.js';
import { makeKeys } from '../src/streams/keys.js';
import { defineScripts } from '../src/streams/scripts.js';
import { startWebhookWorker } from '../src/webhooks/index.js';
import { WebhookStore } from '../src/webhooks/store.js';
import { webhookKeys } from '../src/webhooks/keys.js';
import { eventually } from './support/harness.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';
import { startReceiver, testConfig as webhookTestConfig, type Receiver } from './support/webhooks.js';

const WINDOW = 400;
const redis = new Redis(REDIS_URL);
defineScripts(redis);
let fakes: Fakes;
const cleanup: (() => Promise<void>)[] = [];
before(async () => {
  fakes = await startFakes();
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  fakes.clearSlack();
});
after(async () => {
  await fakes.close();
  redis.disconnect();
});

const settings = (input: unknown, scope: 'operator' | 'tenant' = 'operator'): Settings => {
  const r = parseSettings(input, scope);
  assert.ok('settings' in r, JSON.stringify(r));
  return r.settings;
};

interface Setup {
  prefix: string;
  keys: ReturnType<typeof makeKeys>;
  worker: Awaited<ReturnType<typeof startAlertWorker>>;
  failed: string[];
  logs: string[];
  breaker: CircuitBreaker;
}

async function setup(name: string, operator: Settings, opts: { env?: Record<string, string>; rateWindowMs?: number; beforeStart?: (prefix: string) => Promise<void> } = {}): Promise<Setup> {
  const prefix = testPrefix(`al-${name}`);
  cleanup.push(() => dropPrefix(prefix));
  const config: AlertConfig & { rateWindowMs?: number } = {
    ...loadAlertConfig({
      NOTIFY_ALERT_ALLOW_PRIVATE: 'on', NOTIFY_ALERT_TICK_MS: '50', NOTIFY_ALERT_BLOCK_MS: '50', NOTIFY_ALERT_RETRY_SCHEDULE: '50ms,50ms',
      NOTIFY_ALERT_TIMEOUT_MS: '1000', NOTIFY_ALERT_LEASE_MS: '3000', ...opts.env,
    }),
    ...(opts.rateWindowMs !== undefined && { rateWindowMs: opts.rateWindowMs }),
  };
  const keys = makeKeys(prefix);
  await opts.beforeStart?.(prefix);
  const failed: string[] = [];
  const logs: string[] = [];
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 60_000 });
  const log = createLogger('warn', { write: (line: string) => { logs.push(line); return true; } } as never);
  const worker = await startAlertWorker({
    redis, blocking: new Redis(REDIS_URL, { lazyConnect: true }), keys, prefix, config, operator, consumer: 'test-worker',
    queues: [{ name: 'ingest', key: keys.ingest, group: 'intake' }], circuits: () => [['ses', breaker.state(Date.now())]],
    log, counters: { failed: (type) => failed.push(type) },
  });
  cleanup.push(() => worker.stop());
  return { prefix, keys, worker, failed, logs, breaker };
}

let seq = 0;
async function emitDelivery(keys: Setup['keys'], tenant: string, nid: string, status: DeliveryRecord['status'], channel: DeliveryRecord['channel'] = 'sms'): Promise<void> {
  const data: DeliveryRecord = { user_id: 'jane', channel, provider: channel === 'sms' ? 'twilio' : 'ses', to: '+1415***0100', status, attempts: 1, updated_at: new Date().toISOString() };
  await redis.xadd(keys.events, '*', ...eventFields({ kind: 'delivery', tenant, notificationId: nid, createdAt: Date.now(), key: `jane:${channel}:${seq++}`, data }));
}

/** A feedback event as feedback.lua writes it, beside the delivery record it names. */
async function emitFeedback(keys: Setup['keys'], tenant: string, nid: string, event: string, detail: string): Promise<void> {
  const key = `jane:email:${seq++}`;
  const record: DeliveryRecord = { user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status: 'sent', attempts: 1, updated_at: new Date().toISOString() };
  await redis.hset(keys.notification(tenant, nid), `d:${key}`, JSON.stringify(record));
  await redis.xadd(keys.events, '*', ...eventFields({ kind: 'feedback', tenant, notificationId: nid, createdAt: Date.now(), key, data: { event, at: new Date().toISOString(), status: 'bounced', detail, rank: 2 } }));
}

async function emitDeadLetter(keys: Setup['keys'], tenant: string, nid: string, reason: string): Promise<void> {
  const task = { tenant, nid, lane: 'email', user_id: 'jane', dk: 'jane:email', attempt: 5, to: 'jane.doe@example.com', content: { subject: 'Your code 4321' } };
  await redis.xadd(keys.dead, '*', 'kind', 'delivery', 'lane', 'email', 'reason', reason, 'payload', JSON.stringify(task));
}

/** Waits for the start of a window, with time left in it to emit (so all of a test's facts land in one window). */
async function windowStart(): Promise<void> {
  const into = Date.now() % WINDOW;
  await new Promise((r) => setTimeout(r, WINDOW - into + 20));
}

const slackOf = (rule: string) => fakes.slack().map((g) => g.message as { text: string; blocks: any[] }).filter((m) => m.text.includes(`rule ${rule}`));
const states = (rule: string) => slackOf(rule).map((m) => (m.text.startsWith('Firing') ? 'firing' : 'resolved'));

/** The messages of a rule once it has fired and resolved, and stayed quiet for two more windows. */
async function firedAndResolved(rule: string, count = (rule: string) => states(rule)): Promise<string[]> {
  await eventually(async () => (count(rule).includes('resolved') ? true : undefined), 5_000, `${rule} to fire and resolve`);
  await new Promise((r) => setTimeout(r, 2 * WINDOW + 100));
  return count(rule);
}

const slackDest = () => ({ name: 'slack', type: 'slack', url: fakes.slackUrl('services/T1/B1/ops') });
const oneRule = (rule: Record<string, unknown>) => settings({ destinations: [slackDest()], rules: [{ window_ms: WINDOW, destinations: ['slack'], ...rule }] });

describe('alerts: each rule kind fires once per window and resolves', () => {
  it('feedback (bounce, complaint, reject): one firing message with counts, provider/channel and a sample id; no PII', async () => {
    const s = await setup('feedback', oneRule({ name: 'fb', kind: 'feedback' }));
    await windowStart();
    await emitFeedback(s.keys, 'acme', 'n-fb-1', 'bounce', 'jane.doe@example.com: mailbox does not exist');
    await emitFeedback(s.keys, 'acme', 'n-fb-2', 'bounce', 'jane.doe@example.com: mailbox does not exist');
    await emitFeedback(s.keys, 'other', 'n-fb-3', 'complaint', 'abuse report for jane.doe@example.com');
    await emitFeedback(s.keys, 'acme', 'n-fb-4', 'delivery', 'delivered'); // not counted
    assert.deepEqual(await firedAndResolved('fb'), ['firing', 'resolved']);
    const [firing] = slackOf('fb');
    assert.match(firing!.text, /rule fb: 3 in the window/);
    const all = JSON.stringify(firing);
    assert.match(all, /bounce · ses\/email: 2/);
    assert.match(all, /complaint · ses\/email: 1/);
    assert.match(all, /n-fb-1/, 'the first notification as the sample');
    assert.doesNotMatch(JSON.stringify(fakes.slack()), /@|example\.com|mailbox|abuse|\+1415/, 'no address or detail reached Slack');
    assert.deepEqual(firing!.blocks.map((b) => b.type), ['header', 'section', 'section', 'context'], 'Block Kit');
  });

  it('dead letters, by reason (others not counted)', async () => {
    const s = await setup('dead', oneRule({ name: 'dl', kind: 'dead_letter', reasons: ['attempts_exhausted'] }));
    await new Promise((r) => setTimeout(r, 150)); // the cursor starts at the stream's end
    await windowStart();
    await emitDeadLetter(s.keys, 'acme', 'n-dl-1', 'attempts_exhausted');
    await emitDeadLetter(s.keys, 'acme', 'n-dl-2', 'poison');
    assert.deepEqual(await firedAndResolved('dl'), ['firing', 'resolved']);
    const text = JSON.stringify(slackOf('dl')[0]);
    assert.match(text, /attempts_exhausted · email: 1/);
    assert.match(slackOf('dl')[0]!.text, /rule dl: 1 in the window/);
    assert.doesNotMatch(text, /poison|example\.com|4321/);
  });

  it('a channel\'s failure rate over the threshold (another channel\'s failures not counted)', async () => {
    const s = await setup('rate', oneRule({ name: 'fr', kind: 'failure_rate', channel: 'sms', threshold_percent: 50, min_deliveries: 4 }));
    await windowStart();
    for (const st of ['failed', 'retrying', 'failed', 'sent'] as const) await emitDelivery(s.keys, 'acme', 'n-fr', st);
    for (let i = 0; i < 5; i++) await emitDelivery(s.keys, 'acme', 'n-fr-email', 'failed', 'email');
    assert.deepEqual(await firedAndResolved('fr'), ['firing', 'resolved']);
    assert.match(slackOf('fr')[0]!.text, /rule fr: 3 \(75 % of 4\)/);
    assert.match(JSON.stringify(slackOf('fr')[0]), /twilio\/sms: 3/);
  });

  it('a provider\'s circuit opening (firing while open) and closing (resolved)', async () => {
    const s = await setup('circuit', oneRule({ name: 'cb', kind: 'circuit' }));
    s.breaker.onProviderFailure(Date.now());
    s.breaker.onProviderFailure(Date.now());
    assert.equal(s.breaker.state(Date.now()), 'open');
    await eventually(async () => (states('cb').includes('firing') ? true : undefined), 5_000, 'the circuit alert');
    assert.match(JSON.stringify(slackOf('cb')[0]), /• ses: \d+/);
    s.breaker.onAnswer(); // closed
    const got = await firedAndResolved('cb');
    assert.equal(got.at(-1), 'resolved');
    assert.ok(got.slice(0, -1).every((x) => x === 'firing'), 'firing once per window while open, then resolved once');
  });

  it('queue lag: the oldest pending entry older than the threshold, then acknowledged', async () => {
    const s = await setup('lag', oneRule({ name: 'ql', kind: 'queue_lag', oldest_pending_ms: 150 }));
    await redis.xgroup('CREATE', s.keys.ingest, 'intake', '$', 'MKSTREAM');
    const id = (await redis.xadd(s.keys.ingest, '*', 'payload', '{}'))!;
    await redis.xreadgroup('GROUP', 'intake', 'stuck', 'COUNT', 1, 'STREAMS', s.keys.ingest, '>');
    await eventually(async () => (states('ql').includes('firing') ? true : undefined), 5_000, 'the lag alert');
    await redis.xack(s.keys.ingest, 'intake', id);
    const got = await firedAndResolved('ql');
    assert.equal(got.at(-1), 'resolved');
    assert.match(JSON.stringify(slackOf('ql')[0]), /• ingest: \d+/);
  });

  it('a webhook endpoint the webhooks sender disables after persistent failure', async () => {
    let prefix = '';
    const s = await setup('whdisabled', oneRule({ name: 'wh', kind: 'webhook_disabled' }), { beforeStart: async (p) => { prefix = p; } });
    const rx = await startReceiver();
    cleanup.push(() => rx.close());
    rx.answer = () => ({ status: 500 });
    const wcfg = webhookTestConfig({ NOTIFY_WEBHOOK_DISABLE_AFTER_FAILURES: '2', NOTIFY_WEBHOOK_DISABLE_AFTER_MS: '0' });
    await new WebhookStore(redis, webhookKeys(prefix)).put('acme', 'orders', { url: rx.url, events: ['delivery.sent'], enabled: true });
    const webhooks = await startWebhookWorker({
      redis, blocking: new Redis(REDIS_URL, { lazyConnect: true }), keys: s.keys, prefix, config: wcfg, log: createLogger('silent'),
      onDisabled: (t, n) => s.worker.webhookDisabled(t, n),
    });
    cleanup.push(() => webhooks.stop());
    await windowStart();
    await emitDelivery(s.keys, 'acme', 'n-wh', 'sent');
    assert.deepEqual(await firedAndResolved('wh'), ['firing', 'resolved']);
    assert.match(JSON.stringify(slackOf('wh')[0]), /endpoint orders: 1/);
    assert.equal((await new WebhookStore(redis, webhookKeys(prefix)).get('acme', 'orders'))?.enabled, false);
  });
});

describe('alerts: destinations', () => {
  it('the generic JSON webhook gets {type, summary, alert} for firing and resolved', async () => {
    const rx = await startReceiver();
    cleanup.push(() => rx.close());
    const s = await setup('json', settings({ destinations: [{ name: 'hook', type: 'webhook', url: rx.url }], rules: [{ name: 'dl', kind: 'dead_letter', window_ms: WINDOW, destinations: ['hook'] }] }));
    await new Promise((r) => setTimeout(r, 150));
    await windowStart();
    await emitDeadLetter(s.keys, 'acme', 'n-j', 'attempts_exhausted');
    await eventually(async () => (rx.got.length >= 2 ? true : undefined), 5_000, 'two webhook alerts');
    assert.deepEqual(rx.got.map((g) => g.json.type), ['alert.firing', 'alert.resolved']);
    assert.equal(rx.got[0]!.json.alert.count, 1);
    assert.equal(rx.got[0]!.json.alert.sample_notification_id, 'n-j');
    assert.equal(rx.got[0]!.json.alert.tenant, null, 'an operator rule');
    assert.doesNotMatch(rx.got[0]!.body, /example\.com|4321/);
  });

  it('per-destination rate limit: at most N requests in a rate window; the rest wait for the next', async () => {
    const rules = ['a', 'b', 'c', 'd'].map((n) => ({ name: `dl-${n}`, kind: 'dead_letter', window_ms: WINDOW, destinations: ['slack'] }));
    const s = await setup('ratelimit', settings({ destinations: [slackDest()], rules }), { env: { NOTIFY_ALERT_DESTINATION_PER_MINUTE: '2' }, rateWindowMs: 3_000 });
    await new Promise((r) => setTimeout(r, 150));
    // Start right after a rate window begins, so the whole test is inside one.
    await new Promise((r) => setTimeout(r, 3_000 - (Date.now() % 3_000) + 10));
    await emitDeadLetter(s.keys, 'acme', 'n-rl', 'attempts_exhausted');
    await eventually(async () => (fakes.slack().length >= 2 ? true : undefined), 2_000, 'two alerts');
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(fakes.slack().length, 2, 'no more than 2 in the rate window');
    assert.ok(await redis.xlen(alertKeys(s.prefix).outbox('*', 'slack')) >= 2, 'the rest wait in the outbox');
    await eventually(async () => (fakes.slack().length >= 4 ? true : undefined), 4_000, 'the rest in the next rate window');
  });

  it('a destination that fails is retried (then succeeds), and one that keeps failing is dropped, logged and counted', async () => {
    const s = await setup('retry', oneRule({ name: 'dl', kind: 'dead_letter' }));
    await new Promise((r) => setTimeout(r, 150));
    fakes.failSlack(1, 503);
    await windowStart();
    await emitDeadLetter(s.keys, 'acme', 'n-r1', 'attempts_exhausted');
    await eventually(async () => (states('dl').includes('firing') ? true : undefined), 5_000, 'the alert after a retry');
    assert.deepEqual(fakes.slack(true).slice(0, 2).map((g) => g.status), [503, 200], 'failed once, then sent');
    assert.deepEqual(s.failed, []);
    // The resolve message meets a Slack that keeps failing: 3 attempts (the first + 2 retries), then dropped.
    fakes.failSlack(100, 500);
    await eventually(async () => (s.failed.length > 0 ? true : undefined), 5_000, 'the failure counted');
    assert.deepEqual(s.failed, ['slack']);
    assert.equal(fakes.slack(true).filter((g) => g.status === 500).length, 3);
    assert.ok(s.logs.some((l) => l.includes('could not be sent and is dropped')), 'logged');
    assert.equal(await redis.xlen(alertKeys(s.prefix).outbox('*', 'slack')), 0);
    fakes.failSlack(0);
  });
});

describe('alerts: tenants', () => {
  it('tenant A\'s rules never see tenant B\'s facts; the operator\'s see both', async () => {
    const rxA = await startReceiver();
    cleanup.push(() => rxA.close());
    const s = await setup('tenants', settings({ destinations: [slackDest()], rules: [{ name: 'all-fb', kind: 'feedback', window_ms: WINDOW, destinations: ['slack'] }] }));
    await new AlertStore(redis, alertKeys(s.prefix)).put('acme', settings({
      destinations: [{ name: 'mine', type: 'webhook', url: rxA.url }],
      rules: [{ name: 'fb', kind: 'feedback', window_ms: WINDOW, destinations: ['mine'] }, { name: 'fr', kind: 'failure_rate', threshold_percent: 0, min_deliveries: 1, window_ms: WINDOW, destinations: ['mine'] }],
    }, 'tenant'));
    await windowStart();
    await emitFeedback(s.keys, 'other', 'n-other-1', 'bounce', 'x');
    await emitDelivery(s.keys, 'other', 'n-other-2', 'failed');
    await eventually(async () => (states('all-fb').includes('firing') ? true : undefined), 5_000, 'the operator\'s alert');
    await new Promise((r) => setTimeout(r, 2 * WINDOW));
    assert.equal(rxA.got.length, 0, 'nothing for acme from other\'s facts');
    await windowStart();
    await emitFeedback(s.keys, 'acme', 'n-acme-1', 'bounce', 'x');
    await eventually(async () => (rxA.got.length >= 1 ? true : undefined), 5_000, 'acme\'s alert');
    assert.equal(rxA.got[0]!.json.alert.rule, 'fb');
    assert.equal(rxA.got[0]!.json.alert.tenant, 'acme');
    assert.equal(rxA.got[0]!.json.alert.sample_notification_id, 'n-acme-1');
    assert.ok(!rxA.got.some((g) => g.body.includes('n-other')), 'no other-tenant notification ids');
  });
});
