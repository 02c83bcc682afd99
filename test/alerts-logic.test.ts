// Alerts, the pure parts: windows fire once per window and resolve once (a fake clock), rule validation with the field
// named, tenants' rules see only their own facts, and the Slack (Block Kit) and webhook payloads carry no address or body.
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadAlertConfig } from '../src/alerts/config.js';
import { contribution, factOfDeadLetter, factOfEvent, type Fact } from '../src/alerts/facts.js';
import { slackMessage, webhookBody } from '../src/alerts/message.js';
import { parseSettings, type Rule } from '../src/alerts/rules.js';
import { conditionMet, decide, dueWindows, emptyCounts, MAX_CATCH_UP, type AlertMessage, type RuleState, type WindowCounts } from '../src/alerts/window.js';
import { decodeDeadLetter } from '../src/domain/dead-letter.js';
import type { HistoryEvent } from '../src/history/events.js';

const rule = (r: Record<string, unknown>): Rule => {
  const parsed = parseSettings({ destinations: [{ name: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' }], rules: [{ name: 'r', destinations: ['ops'], ...r }] }, 'operator');
  assert.ok('settings' in parsed, JSON.stringify(parsed));
  return parsed.settings.rules[0]!;
};
const counts = (matched: number, total = matched, extra: Partial<WindowCounts> = {}): WindowCounts => ({ ...emptyCounts(), matched, total, ...extra });

/** Runs a rule over windows on a fake clock: `perWindow[i]` are the counts of window i; returns each window's message. */
function run(r: Rule, perWindow: WindowCounts[]): (AlertMessage | undefined)[] {
  const w = r.window_ms;
  let state: RuleState = { firing: false };
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % w);
  // First look: the rule starts with the window then open.
  state = { ...state, next: dueWindows(r, state, t0).next };
  const out: (AlertMessage | undefined)[] = [];
  for (let i = 0; i < perWindow.length; i++) {
    // Ticks during the window decide nothing; the first after its end decides it, later ones nothing more.
    for (const at of [t0 + i * w + 1, t0 + i * w + w / 2]) assert.deepEqual(dueWindows(r, state, at).starts, i === 0 ? [] : [], `nothing due inside window ${i}`);
    const due = dueWindows(r, state, t0 + (i + 1) * w + 5);
    assert.deepEqual(due.starts, [t0 + i * w], `window ${i} is due once it ended`);
    const d = decide(r, null, state, due.starts[0]!, perWindow[i]!, t0 + (i + 1) * w + 5);
    state = { ...d.state, next: due.next };
    assert.deepEqual(dueWindows(r, state, t0 + (i + 1) * w + 10).starts, [], `window ${i} is decided once`);
    out.push(d.message);
  }
  return out;
}

describe('alerts: windows', () => {
  it('fires once per window with the counts, resolves once when a window ends clear, says nothing otherwise', () => {
    const r = rule({ kind: 'feedback', window_ms: 1000 });
    const msgs = run(r, [counts(0), counts(3, 3, { sample: 'n-1', breakdown: { 'bounce · ses/email': 2, 'complaint · ses/email': 1 } }), counts(1, 1, { sample: 'n-9' }), counts(0), counts(0)]);
    assert.equal(msgs[0], undefined, 'clear and not firing: nothing');
    assert.equal(msgs[1]?.state, 'firing');
    assert.equal(msgs[1]?.count, 3);
    assert.equal(msgs[1]?.sample_notification_id, 'n-1');
    assert.deepEqual(msgs[1]?.breakdown, [{ what: 'bounce · ses/email', count: 2 }, { what: 'complaint · ses/email', count: 1 }]);
    assert.equal(msgs[2]?.state, 'firing', 'still met in the next window: one message for that window');
    assert.equal(msgs[2]?.count, 1);
    assert.equal(msgs[3]?.state, 'resolved');
    assert.equal(msgs[3]?.sample_notification_id, undefined);
    assert.equal(msgs[4], undefined, 'resolved once');
  });

  it('a min_count, a failure rate, and the sampled kinds decide as their options say', () => {
    assert.equal(conditionMet(rule({ kind: 'dead_letter', min_count: 3 }), counts(2)), false);
    assert.equal(conditionMet(rule({ kind: 'dead_letter', min_count: 3 }), counts(3)), true);
    const fr = rule({ kind: 'failure_rate', threshold_percent: 50, min_deliveries: 4 });
    assert.equal(conditionMet(fr, counts(3, 3)), false, 'too few attempts');
    assert.equal(conditionMet(fr, counts(2, 4)), false, '50 % is not over 50 %');
    assert.equal(conditionMet(fr, counts(3, 4)), true);
    assert.equal(conditionMet(rule({ kind: 'circuit' }), counts(0, 5)), false);
    assert.equal(conditionMet(rule({ kind: 'circuit' }), counts(1, 5)), true);
  });

  it('after a long gap only the newest windows are decided', () => {
    const r = rule({ kind: 'feedback', window_ms: 100 });
    const due = dueWindows(r, { firing: false, next: 1000 }, 1000 + 100 * 50 + 1);
    assert.equal(due.starts.length, MAX_CATCH_UP);
    assert.equal(due.starts.at(-1), 1000 + 100 * 49);
    assert.equal(due.next, 1000 + 100 * 50);
  });
});

describe('alerts: rules', () => {
  const dest = [{ name: 'ops', type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' }];
  const problem = (input: unknown, scope: 'operator' | 'tenant' = 'tenant') => {
    const r = parseSettings(input, scope);
    assert.ok('problem' in r, `refused: ${JSON.stringify(input)}`);
    return r.problem;
  };

  it('accepts every kind for the operator, with defaults', () => {
    const r = parseSettings({
      destinations: [...dest, { name: 'hook', type: 'webhook', url: 'https://example.net/alerts' }],
      rules: [
        { name: 'fb', kind: 'feedback', destinations: ['ops'] },
        { name: 'dl', kind: 'dead_letter', reasons: ['attempts_exhausted'], destinations: ['ops', 'hook'] },
        { name: 'cb', kind: 'circuit', destinations: ['ops'] },
        { name: 'fr', kind: 'failure_rate', channel: 'sms', threshold_percent: 10, destinations: ['ops'] },
        { name: 'ql', kind: 'queue_lag', lag_entries: 1000, destinations: ['ops'] },
        { name: 'wh', kind: 'webhook_disabled', destinations: ['hook'] },
      ],
    }, 'operator');
    assert.ok('settings' in r, JSON.stringify(r));
    assert.deepEqual(r.settings.rules[0], { name: 'fb', kind: 'feedback', window_ms: 300_000, destinations: ['ops'], events: ['bounce', 'complaint', 'reject'], min_count: 1 });
  });

  it('refuses with the field named', () => {
    assert.equal(problem({ destinations: dest, rules: [{ name: 'cb', kind: 'circuit', destinations: ['ops'] }] }).field, 'rules.0.kind', 'service-wide kinds are the operator\'s');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'q', kind: 'queue_lag', lag_entries: 5, destinations: ['ops'] }] }).field, 'rules.0.kind');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'f', kind: 'feedback', destinations: ['nope'] }] }).field, 'rules.0.destinations.0');
    assert.equal(problem({ destinations: [...dest, ...dest] }).field, 'destinations.1.name');
    assert.equal(problem({ destinations: [{ name: 'x', type: 'slack', url: 'ftp://example.net/x' }] }).field, 'destinations.0.url');
    assert.equal(problem({ destinations: [{ name: 'x', type: 'slack', url: 'https://u:p@example.net/x' }] }).field, 'destinations.0.url');
    assert.equal(problem({ destinations: [{ name: 'x', type: 'sms', url: 'https://example.net/x' }] }).field, 'destinations.0.type');
    assert.equal(problem({ destinations: [{ name: 'bad name', type: 'slack', url: 'https://example.net/x' }] }).field, 'destinations.0.name');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'f', kind: 'feedback', events: ['open'], destinations: ['ops'] }] }).field, 'rules.0.events.0');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'f', kind: 'feedback', destinations: ['ops'], window_ms: 5 }] }).field, 'rules.0.window_ms');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'f', kind: 'failure_rate', destinations: ['ops'] }] }).field, 'rules.0.threshold_percent');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'f', kind: 'dead_letter', destinations: ['ops'], extra: 1 }] }).field, 'rules.0.extra');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'q', kind: 'queue_lag', destinations: ['ops'] }] }, 'operator').field, 'rules.0.oldest_pending_ms');
    assert.equal(problem({ destinations: dest, rules: Array.from({ length: 51 }, (_, i) => ({ name: `r${i}`, kind: 'feedback', destinations: ['ops'] })) }).field, 'rules');
    assert.equal(problem({ destinations: dest, rules: [{ name: 'a', kind: 'feedback', destinations: ['ops'] }, { name: 'a', kind: 'dead_letter', destinations: ['ops'] }] }).field, 'rules.1.name');
  });

  it('NOTIFY_ALERT_RULES is checked at start-up, naming the field', () => {
    assert.throws(() => loadAlertConfig({ NOTIFY_ALERT_RULES: '{"rules":[{"name":"x","kind":"feedback","destinations":["none"]}]}' }), /NOTIFY_ALERT_RULES: rules\.0\.destinations\.0/);
    assert.throws(() => loadAlertConfig({ NOTIFY_ALERT_RULES: 'nope' }), /NOTIFY_ALERT_RULES: not JSON/);
    assert.throws(() => loadAlertConfig({ NOTIFY_ALERT_TICK_MS: 'x' }), /NOTIFY_ALERT_TICK_MS/);
    const c = loadAlertConfig({});
    assert.deepEqual([c.enabled, c.allowPrivate, c.tickMs, c.destinationPerMinute, c.rules], [true, false, 5000, 10, undefined]);
  });
});

const delivery = (tenant: string, status: string, extra: Record<string, unknown> = {}): HistoryEvent => ({
  id: '1700000000000-0', kind: 'delivery', tenant, notificationId: `n-${tenant}`, createdAt: 0, key: 'jane:sms',
  data: { user_id: 'jane', channel: 'sms', provider: 'twilio', to: '+1415***0100', status, attempts: 1, updated_at: '', ...extra } as never,
});

describe('alerts: facts', () => {
  it('a tenant\'s rule counts only its own tenant\'s facts; the operator\'s counts every tenant\'s', () => {
    const fr = rule({ kind: 'failure_rate', threshold_percent: 1 });
    const fact = factOfEvent(delivery('acme', 'failed'))!;
    assert.deepEqual(contribution(fr, 'acme', fact), { matched: 1, total: 1, what: ['twilio/sms'], sample: 'n-acme' });
    assert.equal(contribution(fr, 'other', fact), undefined);
    assert.equal(contribution(fr, undefined, fact)?.matched, 1);
    assert.deepEqual(contribution(fr, 'acme', factOfEvent(delivery('acme', 'sent'))!), { matched: 0, total: 1, what: [] });
    assert.equal(factOfEvent(delivery('acme', 'queued')), undefined, 'not an attempt');
    const circuit: Fact = { kind: 'circuit', open: ['ses'] };
    assert.equal(contribution(rule({ kind: 'circuit' }), 'acme', circuit), undefined, 'no tenant sees service-wide samples');
    assert.equal(contribution(rule({ kind: 'circuit', providers: ['twilio'] }), undefined, circuit)?.matched, 0);
  });

  it('feedback and dead letters are counted by the events and reasons a rule names', () => {
    const fb: HistoryEvent = { id: '1-0', kind: 'feedback', tenant: 'acme', notificationId: 'n1', createdAt: 0, key: 'k', data: { event: 'bounce', at: '', rank: 2, detail: 'jane@example.com does not exist' } };
    const f = factOfEvent(fb, { provider: 'ses', channel: 'email' })!;
    assert.deepEqual(contribution(rule({ kind: 'feedback' }), 'acme', f), { matched: 1, total: 1, what: ['bounce · ses/email'], sample: 'n1' });
    assert.equal(contribution(rule({ kind: 'feedback', events: ['complaint'] }), 'acme', f), undefined);
    const dl = factOfDeadLetter(decodeDeadLetter('2-0', { kind: 'delivery', lane: 'sms', reason: 'attempts_exhausted', payload: JSON.stringify({ tenant: 'acme', nid: 'n2', lane: 'sms', user_id: 'jane', attempt: 5 }) }));
    assert.deepEqual(contribution(rule({ kind: 'dead_letter' }), 'acme', dl), { matched: 1, total: 1, what: ['attempts_exhausted · sms'], sample: 'n2' });
    assert.equal(contribution(rule({ kind: 'dead_letter', reasons: ['poison'] }), 'acme', dl), undefined);
  });
});

describe('alerts: payloads', () => {
  it('the Block Kit message and the webhook body say what, how many, which provider, a sample id — no address or body', () => {
    const fb: HistoryEvent = { id: '1-0', kind: 'feedback', tenant: 'acme', notificationId: 'n-77', createdAt: 0, key: 'jane:email', data: { event: 'complaint', at: '', rank: 3, detail: 'jane.doe@example.com: Your secret code is 1234' } };
    const c = contribution(rule({ kind: 'feedback' }), undefined, factOfEvent(fb, { provider: 'ses', channel: 'email' })!)!;
    const r = rule({ kind: 'feedback', window_ms: 1000 });
    const { message } = decide(r, null, { firing: false }, 0, { matched: c.matched, total: c.total, sample: c.sample!, breakdown: { [c.what[0]!]: 1 } }, 1000);
    const slack = slackMessage(message!);
    assert.match(slack.text, /^Firing: Bounces, complaints or rejects — rule r: 1/);
    assert.deepEqual(slack.blocks.map((b) => b.type), ['header', 'section', 'section', 'context']);
    const text = JSON.stringify(slack);
    for (const s of [text, JSON.stringify(webhookBody(message!, 1000))]) {
      assert.match(s, /n-77/, 'the sample notification id');
      assert.match(s, /complaint · ses\/email/, 'what and which provider/channel');
      assert.doesNotMatch(s, /@|example\.com|secret code|jane/, 'no address, detail or body');
    }
  });
});

describe('alerts: the README example', () => {
  it('is valid operator settings, and refused for a tenant only for its operator-only kinds', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /For example, `NOTIFY_ALERT_RULES`[^\n]*\n\n```json\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the README has the example');
    const example = JSON.parse(block) as { rules: { kind: string }[] };
    const operator = parseSettings(example, 'operator');
    assert.ok('settings' in operator, JSON.stringify(operator));
    assert.equal(operator.settings.rules.length, 5);
    const tenant = parseSettings(example, 'tenant');
    assert.deepEqual('problem' in tenant && tenant.problem.field, 'rules.3.kind');
    const own = { ...example, rules: example.rules.filter((r) => r.kind !== 'circuit' && r.kind !== 'queue_lag') };
    assert.ok('settings' in parseSettings(own, 'tenant'));
  });
});
