// /v1/alerts in the service (NOTIFY_ALERTS=on): GET and PUT per tenant, 422s naming the field, SSRF-refused URLs; not
// served with NOTIFY_ALERTS=off; and the sandbox's operator rules to the fake Slack, shown at GET /v1/sandbox/alerts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { deliver } from '../src/alerts/deliver.js';
import { alertKeys } from '../src/alerts/keys.js';
import { decide } from '../src/alerts/window.js';
import { sandboxAlertRules } from '../src/alerts/config.js';
import { eventually, OTHER_TENANT_KEY, startHarness, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';

let h: Harness;
before(async () => {
  h = await startHarness('alerts-routes', { env: { NOTIFY_ALERTS: 'on', NOTIFY_ALERT_TICK_MS: '100' } });
});
after(async () => {
  await h.stop();
});

const good = {
  destinations: [{ name: 'ops', type: 'slack', url: 'https://1.1.1.1/services/T/B/x' }, { name: 'hook', type: 'webhook', url: 'https://1.1.1.1/alerts' }],
  rules: [
    { name: 'bounces', kind: 'feedback', events: ['bounce'], window_ms: 60_000, destinations: ['ops'] },
    { name: 'sms-failing', kind: 'failure_rate', channel: 'sms', threshold_percent: 20, destinations: ['ops', 'hook'] },
  ],
};

describe('/v1/alerts', () => {
  it('PUT replaces a tenant\'s settings; GET shows them with each rule\'s state; another tenant sees its own', async () => {
    assert.deepEqual((await h.api('GET', '/v1/alerts')).body, { destinations: [], rules: [], state: [] });
    const put = await h.api('PUT', '/v1/alerts', good);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const got = (await h.api('GET', '/v1/alerts')).body;
    assert.deepEqual(got.destinations, good.destinations);
    assert.deepEqual(got.rules.map((r: any) => [r.name, r.kind, r.window_ms]), [['bounces', 'feedback', 60_000], ['sms-failing', 'failure_rate', 300_000]]);
    assert.equal(got.rules[1].min_deliveries, 10, 'defaults filled in');
    assert.deepEqual(got.state.map((s: any) => [s.rule, s.state, s.last_sent_at, s.current_window_count]), [['bounces', 'clear', null, 0], ['sms-failing', 'clear', null, 0]]);
    const other = await h.api('GET', '/v1/alerts', undefined, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.deepEqual(other.body.rules, [], 'tenants apart');
    assert.equal((await h.api('PUT', '/v1/alerts', { destinations: [], rules: [] })).status, 200);
    assert.deepEqual((await h.api('GET', '/v1/alerts')).body.rules, []);
  });

  it('422 with the field: service-wide kinds, unknown destinations, bad names, unknown keys; 400 for bad JSON', async () => {
    const cases: [unknown, string][] = [
      [{ ...good, rules: [{ name: 'c', kind: 'circuit', destinations: ['ops'] }] }, 'rules.0.kind'],
      [{ ...good, rules: [{ name: 'q', kind: 'queue_lag', lag_entries: 10, destinations: ['ops'] }] }, 'rules.0.kind'],
      [{ ...good, rules: [{ name: 'f', kind: 'feedback', destinations: ['nobody'] }] }, 'rules.0.destinations.0'],
      [{ ...good, rules: [{ name: 'f', kind: 'nonsense', destinations: ['ops'] }] }, 'rules.0.kind'],
      [{ destinations: [{ name: 'x y', type: 'slack', url: 'https://1.1.1.1/x' }] }, 'destinations.0.name'],
      [{ destinations: [{ name: 'x', type: 'slack', url: 'https://1.1.1.1/x', trusted: true }] }, 'destinations.0.trusted'],
      [{ ...good, extra: 1 }, 'extra'],
    ];
    for (const [body, field] of cases) {
      const r = await h.api('PUT', '/v1/alerts', body);
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.equal(r.body.error.code, 'validation_failed');
      assert.equal(r.body.error.field, field, r.body.error.message);
    }
    assert.equal((await h.api('PUT', '/v1/alerts', '{nope')).status, 400);
  });

  it('refuses destinations on loopback, private and metadata addresses (SSRF), naming the URL', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://10.0.0.5/x', 'http://169.254.169.254/latest', 'http://localhost:9/x', 'http://[::1]/x']) {
      const r = await h.api('PUT', '/v1/alerts', { destinations: [{ name: 'ops', type: 'webhook', url }], rules: [] });
      assert.equal(r.status, 422, url);
      assert.equal(r.body.error.field, 'destinations.0.url');
      assert.match(r.body.error.message, /refused address|NOTIFY_ALERT_ALLOW_PRIVATE/);
    }
    assert.deepEqual((await h.api('GET', '/v1/alerts')).body.destinations, [], 'nothing stored');
  });

  it('is not served with NOTIFY_ALERTS=off (the harness default)', async () => {
    const off = await startHarness('alerts-routes-off');
    try {
      assert.equal((await off.api('GET', '/v1/alerts')).status, 404);
    } finally {
      await off.stop();
    }
  });
});

describe('the sandbox\'s alerts', () => {
  it('operator rules to the fake Slack are evaluated, and GET /v1/sandbox/alerts lists what it received', async () => {
    const sb = await startHarness('alerts-sandbox', { env: { NOTIFY_ALERTS: 'on', NOTIFY_SANDBOX: 'on', NOTIFY_ALERT_TICK_MS: '50' } });
    const redis = new Redis(REDIS_URL);
    try {
      // The sandbox's default rules are watched (their state appears) with NOTIFY_ALERT_RULES unset.
      await eventually(async () => ((await redis.exists(alertKeys(sb.prefix).state('*', 'dead-letters'))) === 1 ? true : undefined), 5_000, 'the sandbox rules');
      assert.deepEqual((await sb.api('GET', '/v1/sandbox/alerts')).body, { alerts: [] });
      const res = await fetch(sb.fakes.slackUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Firing: test' }) });
      assert.deepEqual([res.status, await res.text()], [200, 'ok'], 'answers as Slack does');
      const listed = (await sb.api('GET', '/v1/sandbox/alerts')).body.alerts;
      assert.equal(listed.length, 1);
      assert.deepEqual(listed[0].message, { text: 'Firing: test' });
      assert.equal((await sb.api('GET', '/v1/sandbox/alerts?limit=0')).status, 422);
      // The sandbox's own destination (the fake Slack on loopback) is sent to with private targets refused; a tenant's is not.
      const rule = sandboxAlertRules(sb.fakes.slackUrl()).rules[1]!;
      const { message } = decide(rule, null, { firing: false }, 0, { matched: 1, total: 1, breakdown: { 'poison · email': 1 } }, 1);
      const opts = { timeoutMs: 1000, allowPrivate: false };
      assert.deepEqual(await deliver({ type: 'slack', url: sb.fakes.slackUrl(), trusted: true }, message!, opts), { ok: true });
      const refused = await deliver({ type: 'slack', url: sb.fakes.slackUrl() }, message!, opts);
      assert.equal(refused.ok, false);
      assert.match((refused as { error: string }).error, /loopback/);
      assert.match(JSON.stringify((await sb.api('GET', '/v1/sandbox/alerts')).body.alerts[1].message), /poison · email: 1/);
    } finally {
      redis.disconnect();
      await sb.stop();
    }
  });
});
