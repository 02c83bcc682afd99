// Pure logic of the per-user controls, with a fake clock: rate-limit rules and caps, quiet hours across time zones
// and DST, send_at checks, Idempotency-Key decisions, the actor's gate, coalescing windows and the shown status.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capsFor, parseBypass, parseDuration, parseRateLimits, type RateLimitPolicy } from '../src/domain/rate-limit.js';
import { quietUntil } from '../src/domain/quiet-hours.js';
import { checkSendAt, isDue } from '../src/domain/schedule.js';
import { canonicalJson, decideReservation, doneValue, fingerprint, inFlightValue } from '../src/domain/idempotency.js';
import { gateDelivery } from '../src/domain/gates.js';
import { DEFAULT_CONTROLS, type Controls } from '../src/domain/controls.js';
import { decodeWindow, digestParams, flushTasks } from '../src/domain/coalesce.js';
import { shownStatus } from '../src/domain/status.js';
import { parseReentry } from '../src/domain/reentry.js';
import type { UserRecord } from '../src/domain/user.js';
import type { DeliveryRecord } from '../src/domain/record.js';

const T = (iso: string) => Date.parse(iso);
const policy = (over: Partial<RateLimitPolicy> = {}): RateLimitPolicy => ({ ...DEFAULT_CONTROLS.rateLimit, ...over });

describe('rate-limit rules', () => {
  it('parses channel and category caps with durations, and rejects bad specs', () => {
    assert.deepEqual(parseRateLimits('push:5/1h, sms:3/1d,marketing.email:2/1d,sms:1/500ms'), [
      { channel: 'push', limit: 5, windowMs: 3_600_000 },
      { channel: 'sms', limit: 3, windowMs: 86_400_000 },
      { channel: 'email', category: 'marketing', limit: 2, windowMs: 86_400_000 },
      { channel: 'sms', limit: 1, windowMs: 500 },
    ]);
    assert.deepEqual(parseRateLimits(''), []);
    assert.equal(parseDuration('90'), 90_000);
    for (const bad of ['fax:1/1h', 'push:0/1h', 'push:5', 'push:5/1y', 'push:5/0s']) assert.throws(() => parseRateLimits(bad), /must be|duration/);
    assert.deepEqual(parseBypass('priority:high,category:transactional'), { bypassHighPriority: true, bypassCategories: ['transactional'] });
    assert.deepEqual(parseBypass('none'), { bypassHighPriority: false, bypassCategories: [] });
    assert.throws(() => parseBypass('vip'));
  });

  it('picks the caps of the channel and of the category, unless the delivery bypasses them', () => {
    const p = policy({ rules: parseRateLimits('push:5/1h,marketing.push:2/1d,sms:3/1d') });
    assert.deepEqual(capsFor(p, { channel: 'push', category: 'marketing', priority: 'normal' }).map((c) => [c.scope, c.limit, c.label]), [
      ['push', 5, '5 push per 1h'], ['marketing.push', 2, '2 marketing.push per 1d'],
    ]);
    assert.deepEqual(capsFor(p, { channel: 'push', category: 'news', priority: 'normal' }).map((c) => c.scope), ['push']);
    assert.deepEqual(capsFor(p, { channel: 'email', priority: 'normal' }), []);
    assert.deepEqual(capsFor(p, { channel: 'push', priority: 'high' }), [], 'high priority bypasses');
    assert.deepEqual(capsFor(p, { channel: 'sms', category: 'transactional', priority: 'normal' }), [], 'transactional bypasses');
    assert.equal(capsFor(policy({ ...p, bypassHighPriority: false }), { channel: 'push', priority: 'high' }).length, 1);
  });
});

describe('quiet hours', () => {
  const night = { start: '22:00', end: '07:00' };
  it('holds until the end of a window that wraps past midnight, in the user\'s zone', () => {
    assert.equal(quietUntil(T('2025-01-10T23:30:00Z'), night, 'UTC'), T('2025-01-11T07:00:00Z'));
    assert.equal(quietUntil(T('2025-01-11T06:59:59Z'), night, 'UTC'), T('2025-01-11T07:00:00Z'));
    assert.equal(quietUntil(T('2025-01-11T07:00:00Z'), night, 'UTC'), null);
    assert.equal(quietUntil(T('2025-01-10T12:00:00Z'), night, 'UTC'), null);
    // 23:30 in Paris (UTC+1 in winter) is 22:30Z; the window ends at 07:00 Paris = 06:00Z.
    assert.equal(quietUntil(T('2025-01-10T22:30:00Z'), night, 'Europe/Paris'), T('2025-01-11T06:00:00Z'));
    assert.equal(quietUntil(T('2025-01-10T20:30:00Z'), night, 'Asia/Kolkata'), T('2025-01-11T01:30:00Z'));
    assert.equal(quietUntil(T('2025-01-10T20:30:00Z'), night, 'America/New_York'), null, '15:30 in New York');
  });

  it('handles a window within one day, seconds, and DST changes', () => {
    assert.equal(quietUntil(T('2025-06-01T13:15:00Z'), { start: '13:00', end: '14:00:30' }, 'UTC'), T('2025-06-01T14:00:30Z'));
    // Spring forward in New York on 2025-03-09 (02:00 → 03:00): 07:00 that morning is 11:00Z, not 12:00Z.
    assert.equal(quietUntil(T('2025-03-09T04:00:00Z'), night, 'America/New_York'), T('2025-03-09T11:00:00Z'));
    // Fall back on 2025-11-02: 07:00 EST is 12:00Z.
    assert.equal(quietUntil(T('2025-11-02T04:00:00Z'), night, 'America/New_York'), T('2025-11-02T12:00:00Z'));
    // An end inside the skipped hour (02:30 on 2025-03-09) resolves to just after the jump, still in the future.
    const until = quietUntil(T('2025-03-09T05:00:00Z'), { start: '23:00', end: '02:30' }, 'America/New_York');
    assert.ok(until !== null && until > T('2025-03-09T05:00:00Z') && until <= T('2025-03-09T07:30:00Z'), String(until && new Date(until).toISOString()));
    assert.equal(quietUntil(T('2025-01-10T23:30:00Z'), { start: '10:00', end: '10:00' }), null);
  });
});

describe('send_at', () => {
  const now = T('2025-01-10T12:00:00Z');
  it('must be in the future and within the horizon', () => {
    assert.deepEqual(checkSendAt('2025-01-10T13:00:00+01:00', now, 86_400_000), { ok: false, message: 'send_at must be in the future' });
    assert.deepEqual(checkSendAt('2025-01-10T12:00:05Z', now, 86_400_000), { ok: true, at: now + 5000 });
    assert.equal(checkSendAt('2025-01-12T12:00:00Z', now, 86_400_000).ok, false);
    assert.equal(isDue(now + 400, now), true);
    assert.equal(isDue(now + 2000, now), false);
  });
});

describe('Idempotency-Key decisions', () => {
  it('fingerprints canonical JSON, ignoring key order and the key itself', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    assert.equal(fingerprint({ user_id: 'u', content: { body: 'x', title: 't' } }), fingerprint({ content: { title: 't', body: 'x' }, user_id: 'u', idempotency_key: 'k' }));
    assert.notEqual(fingerprint({ user_id: 'u' }), fingerprint({ user_id: 'v' }));
  });

  it('replays the same body, refuses another body, and reports a request still in flight', () => {
    const fp = fingerprint({ a: 1 });
    const response = { id: 'n1', status: 'accepted' };
    assert.deepEqual(decideReservation(null, fp), { kind: 'fresh' });
    assert.deepEqual(decideReservation(doneValue(fp, response), fp), { kind: 'replay', response });
    assert.deepEqual(decideReservation(doneValue(fp, response), fingerprint({ a: 2 })), { kind: 'reused' });
    assert.deepEqual(decideReservation(inFlightValue(fp), fp), { kind: 'in_flight' });
    assert.deepEqual(decideReservation(inFlightValue(fp), fingerprint({ a: 2 })), { kind: 'reused' });
  });
});

describe('the user actor\'s gate', () => {
  const user = (over: Partial<UserRecord['prefs']> = {}, timezone = 'Europe/Paris'): UserRecord => ({
    id: 'u', profile: { timezone, created_at: '', updated_at: '' }, prefs: { channels: {}, categories: {}, ...over }, devices: [],
  });
  const controls: Controls = { ...DEFAULT_CONTROLS, rateLimit: policy({ rules: parseRateLimits('sms:3/1d') }) };
  const at2330Paris = T('2025-01-10T22:30:00Z');

  it('holds non-urgent push and SMS in quiet hours, and lets email, high priority and daytime through', () => {
    const quiet = user({ quiet_hours: { start: '22:00', end: '07:00' } });
    assert.deepEqual(gateDelivery({ channel: 'sms', priority: 'normal' }, quiet, controls, at2330Paris), { kind: 'defer', until: T('2025-01-11T06:00:00Z'), reason: 'quiet_hours' });
    assert.equal(gateDelivery({ channel: 'push', priority: 'normal' }, quiet, controls, at2330Paris).kind, 'defer');
    assert.deepEqual(gateDelivery({ channel: 'email', priority: 'normal' }, quiet, controls, at2330Paris), { kind: 'send', caps: [] });
    const urgent = gateDelivery({ channel: 'sms', priority: 'high' }, quiet, controls, at2330Paris);
    assert.deepEqual(urgent, { kind: 'send', caps: [] }, 'high priority: no quiet hours, no cap');
    const day = gateDelivery({ channel: 'sms', priority: 'normal' }, quiet, controls, T('2025-01-10T12:00:00Z'));
    assert.equal(day.kind === 'send' && day.caps[0]?.scope, 'sms');
    assert.deepEqual(gateDelivery({ channel: 'sms', priority: 'normal' }, quiet, { ...controls, enabled: false }, at2330Paris), { kind: 'send', caps: [] });
  });
});

describe('coalescing windows', () => {
  const task = (channel: 'push' | 'sms', body: string) => ({
    nid: 'n1', dk: `u:${channel}`, tenant: 't', user_id: 'u', channel, lane: channel === 'push' ? 'apns' as const : 'sms' as const,
    to: 'x', content: { body }, priority: 'normal' as const, accepted_at: 1, attempt: 1, collapse_key: 'chat',
  });
  const hash = {
    owner: 'n1', n: '3', 'c:push': JSON.stringify({ body: 'third' }), 't:d:u:push': JSON.stringify(task('push', 'first')),
    't:d:u:sms': JSON.stringify(task('sms', 'first')), 'i:2': JSON.stringify({ id: 'n2', params: { from: 'Bo' } }),
    'i:1': JSON.stringify({ id: 'n1', params: { from: 'Al' } }), 'i:3': JSON.stringify({ id: 'n3', params: { from: 'Cy' } }), dt: 'digest',
  };

  it('sends the owner\'s deliveries with the digest, else the latest content, else its own', () => {
    const state = decodeWindow(hash)!;
    assert.equal(state.count, 3);
    assert.deepEqual(state.items.map((i) => i.id), ['n1', 'n2', 'n3']);
    assert.deepEqual(digestParams(state), { count: 3, notifications: state.items, latest: { from: 'Cy' } });
    assert.deepEqual(flushTasks(state).map(([f, t]) => [f, (t.content as { body: string }).body]), [['d:u:push', 'third'], ['d:u:sms', 'first']]);
    assert.deepEqual(flushTasks(state, { sms: { body: '3 new' } }).map(([, t]) => (t.content as { body: string }).body), ['third', '3 new']);
    assert.equal(decodeWindow({}), null);
  });

  it('sends every delivery a folded notification asked for, as the owner, with the latest one\'s priority and data', () => {
    const later = { ...task('push', 'third'), nid: 'n3', dk: 'u:push2', priority: 'high' as const, data: { v: 'n3' } };
    const state = decodeWindow({ ...hash, 't:d:u:push2': JSON.stringify(later) })!;
    const sent = flushTasks(state);
    assert.deepEqual(sent.map(([f, t]) => [f, t.nid]), [['d:u:push', 'n1'], ['d:u:push2', 'n1'], ['d:u:sms', 'n1']]);
    assert.deepEqual([sent[1]![1].priority, sent[1]![1].data, sent[1]![1].content], ['high', { v: 'n3' }, { body: 'third' }]);
  });
});

describe('shown status and internal entries', () => {
  const d = (status: DeliveryRecord['status']): DeliveryRecord => ({ user_id: 'u', channel: 'sms', provider: 'twilio', to: null, status, attempts: 0, updated_at: '' });
  it('is scheduled while held, cancelled once cancelled with nothing sent', () => {
    assert.equal(shownStatus({ deliveries: [], sendAt: 5 }), 'scheduled');
    assert.equal(shownStatus({ deliveries: [], sendAt: 5, cancelledAt: 1 }), 'cancelled');
    assert.equal(shownStatus({ deliveries: [d('cancelled')], cancelledAt: 1 }), 'cancelled');
    assert.equal(shownStatus({ deliveries: [d('sent'), d('cancelled')], cancelledAt: 1 }), 'sent');
    assert.equal(shownStatus({ deliveries: [d('deferred')] }), 'processing');
    assert.equal(shownStatus({ deliveries: [d('coalesced')] }), 'not_sent');
  });

  it('tells held deliveries and window ends from notifications, and rejects malformed ones', () => {
    assert.equal(parseReentry({ payload: '{}' }), null);
    assert.equal(parseReentry({ flush: '{"tenant":"t","user_id":"u","nid":"n","ck":"c"}' })?.ok, true);
    assert.equal(parseReentry({ task: '{"n":1}' })?.ok, false);
    assert.equal(parseReentry({ task: 'nope' })?.ok, false);
  });
});

describe('configuration of the controls', () => {
  it('reads caps, mode, bypass and the switch from the environment, and refuses a bad cap at start-up', async () => {
    const { loadConfig, ConfigError } = await import('../src/config.js');
    const c = loadConfig({ NOTIFY_SANDBOX: 'on', NOTIFY_RATE_LIMITS: 'push:5/1h', NOTIFY_RATE_LIMIT_MODE: 'drop', NOTIFY_RATE_LIMIT_BYPASS: 'none' }).controls;
    assert.deepEqual([c.enabled, c.rateLimit.rules, c.rateLimit.mode, c.rateLimit.bypassHighPriority], [true, [{ channel: 'push', limit: 5, windowMs: 3_600_000 }], 'drop', false]);
    assert.equal(loadConfig({ NOTIFY_SANDBOX: 'on', NOTIFY_CONTROLS: 'off' }).controls.enabled, false);
    assert.throws(() => loadConfig({ NOTIFY_SANDBOX: 'on', NOTIFY_RATE_LIMITS: 'push:5/hour' }), (err: unknown) => err instanceof ConfigError && /NOTIFY_RATE_LIMITS/.test(err.message));
  });
});
