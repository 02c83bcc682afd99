import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_RETRY, mayRetry } from '../src/domain/retry.js';
import { decideOutcome } from '../src/domain/outcome.js';
import { classifyApns, classifyFcm, classifySes, classifyTwilio } from '../src/providers/classify.js';
import { parseEntry, idForEntry } from '../src/domain/entry.js';
import { notificationStatus, type DeliveryRecord } from '../src/domain/record.js';
import { maskAddress } from '../src/domain/mask.js';
import { EMAIL_MAX_BYTES, limitProblem, PUSH_MAX_BYTES, pushPayloadBytes, SMS_MAX_CHARS } from '../src/domain/limits.js';
import type { DeliveryTask } from '../src/domain/task.js';

const task: DeliveryTask = {
  nid: 'n1', dk: 'u1:sms', tenant: 't', user_id: 'u1', channel: 'sms', lane: 'sms', to: '+14155550100',
  content: { body: 'hi' }, priority: 'normal', accepted_at: 1_000, attempt: 1,
};
const fail = (retryable: boolean, retryAfterMs?: number) =>
  ({ ok: false, retryable, providerSide: retryable, code: retryable ? '20429' : '21211', message: 'x', ...(retryAfterMs && { retryAfterMs }) }) as const;

describe('backoff', () => {
  it('grows exponentially under full jitter, capped', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 1000, maxDelayMs: 10_000 };
    assert.equal(backoffDelay(p, 1, () => 0.999), 999);
    assert.equal(backoffDelay(p, 3, () => 0.5), 2000);
    assert.equal(backoffDelay(p, 10, () => 0.999), 9990);
    assert.equal(backoffDelay(p, 3, () => 0), 0);
  });
  it('never comes back before Retry-After, even one longer than the backoff cap', () => {
    assert.equal(backoffDelay(DEFAULT_RETRY, 1, () => 0, 30_000), 30_000);
    assert.equal(backoffDelay({ ...DEFAULT_RETRY, maxDelayMs: 10_000 }, 1, () => 0.5, 60_000), 60_000);
  });
  it('gives up rather than retry sooner than a Retry-After that would outlive the maximum age', () => {
    const policy = { ...DEFAULT_RETRY, maxDelayMs: 10_000, maxAgeMs: 30_000 };
    const o = decideOutcome(task, 'twilio', fail(true, 60_000), policy, 5_000, () => 0);
    assert.equal(o.kind, 'failed');
    assert.equal(o.kind === 'failed' && o.deadLetter?.reason, 'max_age_exceeded');
    const ok = decideOutcome(task, 'twilio', fail(true, 20_000), policy, 5_000, () => 0);
    assert.equal(ok.kind === 'retry' && ok.dueAt, 25_000);
  });
  it('stops at the attempt limit and the maximum age', () => {
    assert.equal(mayRetry({ ...DEFAULT_RETRY, maxAttempts: 3 }, 3, 0, 0, 0), false);
    assert.equal(mayRetry({ ...DEFAULT_RETRY, maxAgeMs: 1000 }, 1, 0, 900, 200), false);
    assert.equal(mayRetry(DEFAULT_RETRY, 1, 0, 900, 200), true);
  });
});

describe('decideOutcome', () => {
  it('records a sent delivery with the provider message id and a masked address', () => {
    const o = decideOutcome(task, 'twilio', { ok: true, providerMessageId: 'SM1' }, DEFAULT_RETRY, 5_000, Math.random);
    assert.equal(o.kind, 'sent');
    assert.equal(o.record.provider_message_id, 'SM1');
    assert.equal(o.record.to, '+1******0100');
    assert.equal(o.record.attempts, 1);
  });
  it('fails a permanent error without retry or dead letter', () => {
    const o = decideOutcome(task, 'twilio', fail(false), DEFAULT_RETRY, 5_000, Math.random);
    assert.equal(o.kind, 'failed');
    assert.equal(o.kind === 'failed' && o.deadLetter, undefined);
  });
  it('dead-letters an account-level refusal (not the message\'s fault) with its history, so it can be redriven', () => {
    const refusals = [
      classifyApns({ status: 403, code: 'InvalidProviderToken' }), classifyTwilio({ status: 401, code: 20003 }),
      classifySes({ status: 400, code: 'AccountSuspendedException' }), classifyFcm({ status: 401, code: 'messaging/third-party-auth-error' }),
    ];
    for (const f of refusals) {
      const o = decideOutcome({ ...task, history: [{ at: 1, provider: 'twilio', code: '500', message: 'x' }] }, 'twilio', f, DEFAULT_RETRY, 5_000, Math.random);
      assert.equal(o.kind, 'failed', f.code);
      if (o.kind !== 'failed') continue;
      assert.equal(o.deadLetter?.reason, 'provider_refused', f.code);
      assert.deepEqual(o.deadLetter?.task.history?.map((n) => n.code), ['500', f.code]);
    }
    for (const own of [classifyTwilio({ status: 400, code: 21211 }), classifyApns({ status: 400, code: 'BadDeviceToken' }), classifySes({ status: 400, code: 'MessageRejected' })]) {
      const o = decideOutcome(task, 'twilio', own, DEFAULT_RETRY, 5_000, Math.random);
      assert.equal(o.kind === 'failed' && o.deadLetter, undefined, `${own.code}: the message's own fault stays plain failed`);
    }
  });
  it('schedules a retryable error with the next attempt and history', () => {
    const o = decideOutcome(task, 'twilio', fail(true, 2_000), DEFAULT_RETRY, 5_000, () => 0);
    assert.equal(o.kind, 'retry');
    if (o.kind !== 'retry') return;
    assert.equal(o.dueAt, 7_000);
    assert.equal(o.next.attempt, 2);
    assert.equal(o.next.history?.length, 1);
    assert.equal(o.record.status, 'retrying');
  });
  it('keeps real attempts in the history and only counts throttles, with the last one', () => {
    const throttle = (i: number) => ({ ok: false, retryable: true, providerSide: true, throttled: true, code: '20429', message: `slow down ${i}` }) as const;
    const real = { ok: false, retryable: true, providerSide: true, code: '30001', message: 'queue overflow' } as const;
    let t: DeliveryTask = task;
    for (let i = 0; i < 30; i++) {
      const o = decideOutcome(t, 'twilio', i % 10 === 5 ? real : throttle(i), DEFAULT_RETRY, 5_000 + i, () => 0);
      assert.equal(o.kind, 'retry');
      if (o.kind === 'retry') t = o.next;
    }
    assert.deepEqual(t.history?.map((n) => n.code), ['30001', '30001', '30001'], 'only the real failures');
    assert.equal(t.attempt, 4);
    assert.equal(t.throttled, 27);
    assert.equal(t.last_throttle?.message, 'slow down 29');
  });
  it('dead-letters after the last attempt with the whole history', () => {
    const last = { ...task, attempt: 5, history: [1, 2, 3, 4].map((i) => ({ at: i, provider: 'twilio' as const, code: '500', message: 'x' })) };
    const o = decideOutcome(last, 'sns', fail(true), DEFAULT_RETRY, 5_000, () => 0.5);
    assert.equal(o.kind, 'failed');
    if (o.kind !== 'failed') return;
    assert.equal(o.deadLetter?.reason, 'attempts_exhausted');
    assert.equal(o.deadLetter?.task.history?.length, 5);
    assert.equal(o.deadLetter?.task.history?.[4]?.provider, 'sns');
  });
});

describe('parseEntry', () => {
  const tenants = new Set(['acme']);
  it('accepts a direct producer entry and derives a stable id', () => {
    const p = parseEntry('1700000000000-0', { payload: JSON.stringify({ tenant: 'acme', to: [{ user_id: 'a' }, { user_id: 'b' }, { user_id: 'a' }], content: { body: 'x' } }) }, tenants);
    assert.ok(p.ok);
    if (!p.ok) return;
    assert.equal(p.nid, idForEntry('1700000000000-0'));
    assert.equal(p.acceptedAt, 1700000000000);
    assert.deepEqual(p.recipients, ['a', 'b']);
  });
  it('keeps a producer traceparent only in its W3C form', () => {
    const payload = JSON.stringify({ tenant: 'acme', user_id: 'a', content: { body: 'x' } });
    const tp = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    const good = parseEntry('1-0', { payload, traceparent: tp }, tenants);
    assert.ok(good.ok && good.traceparent === tp);
    const bad = parseEntry('1-0', { payload, traceparent: `${tp}\nsrc\napi` }, tenants);
    assert.ok(bad.ok && bad.traceparent === undefined, 'a malformed traceparent is dropped, the notification kept');
  });
  it('names why an entry cannot be used', () => {
    const reason = (fields: Record<string, string>) => {
      const p = parseEntry('1-0', fields, tenants);
      return p.ok ? 'ok' : p.reason;
    };
    assert.equal(reason({}), 'missing_payload');
    assert.equal(reason({ payload: '{nope' }), 'invalid_json');
    assert.equal(reason({ payload: JSON.stringify({ tenant: 'acme', user_id: 'u' }) }), 'invalid_entry');
    assert.equal(reason({ payload: JSON.stringify({ tenant: 'evil', user_id: 'u', content: { body: 'x' } }) }), 'unknown_tenant');
  });
  it('checks the shape of entries marked src=api (skipping only the full schema), and never throws', () => {
    const api = (payload: object) => {
      const p = parseEntry('1-0', { payload: JSON.stringify(payload), src: 'api' }, tenants);
      return p.ok ? 'ok' : `${p.reason}: ${p.error}`;
    };
    const good = { tenant: 'acme', user_id: 'u', content: { body: 'x' } };
    assert.equal(api(good), 'ok');
    assert.equal(api({ tenant: 'acme', to: [{ user_id: 'a' }], template: 't', params: {}, channels: ['sms'], data: { k: 'v' } }), 'ok');
    const bad: [object, RegExp][] = [
      [{ tenant: 'acme' }, /user_id or a non-empty to/],
      [{ ...good, tenant: 7 }, /tenant must be a string/],
      [{ tenant: 'acme', to: [null], content: { body: 'x' } }, /every to\[\] item/],
      [{ ...good, content: null }, /content must be an object/],
      [{ ...good, content: { body: 5 } }, /content.body must be a string/],
      [{ ...good, data: null }, /data must be an object/],
      [{ ...good, channels: 'sms' }, /channels must be a non-empty list/],
      [{ ...good, channels: [] }, /channels must be a non-empty list/],
      [{ ...good, params: JSON.parse(`${'{"a":'.repeat(40)}{}${'}'.repeat(40)}`) }, /params must be nested at most 32 levels/],
      [{ ...good, params: { s: 'x'.repeat(20_000) } }, /params must be nested at most 32 levels and at most 16384 bytes/],
      [{ ...good, collapse_key: 5 }, /collapse_key must be a string/],
      [{ ...good, send_at: 'soon' }, /send_at must be a date/],
      [{ tenant: 'acme', user_id: 'u' }, /one of template or content/],
    ];
    for (const [payload, why] of bad) assert.match(api(payload), new RegExp(`^invalid_entry: src=api entry: .*${why.source}`), JSON.stringify(payload));
    assert.equal(api([1, 2] as unknown as object).split(':')[0], 'invalid_entry');
  });
});

describe('notificationStatus', () => {
  const d = (status: DeliveryRecord['status']): DeliveryRecord => ({ user_id: 'u', channel: 'sms', provider: null, to: null, status, attempts: 0, updated_at: '' });
  it('derives the overall status from the deliveries', () => {
    assert.equal(notificationStatus([]), 'accepted');
    assert.equal(notificationStatus([d('sent'), d('queued')]), 'processing');
    assert.equal(notificationStatus([d('sent'), d('opted_out')]), 'sent');
    assert.equal(notificationStatus([d('sent'), d('failed')]), 'partially_sent');
    assert.equal(notificationStatus([d('failed'), d('no_address')]), 'failed');
    assert.equal(notificationStatus([d('opted_out')]), 'not_sent');
  });
});

describe('maskAddress', () => {
  it('never shows a whole address', () => {
    assert.equal(maskAddress('jane.doe@example.com'), 'j***@example.com');
    assert.equal(maskAddress('+14155550123'), '+1******0123');
    assert.equal(maskAddress('a'.repeat(60) + 'wxyz'), 'aaaa…wxyz');
  });
});

describe('limitProblem', () => {
  it('holds each channel to its provider\'s size limit', () => {
    assert.equal(limitProblem('sms', { body: 'x'.repeat(SMS_MAX_CHARS) }), undefined);
    assert.match(limitProblem('sms', { body: 'x'.repeat(SMS_MAX_CHARS + 1) })!, /1601 characters/);
    const wrapper = pushPayloadBytes({ body: '' });
    assert.equal(limitProblem('push', { body: 'x'.repeat(PUSH_MAX_BYTES - wrapper) }), undefined);
    assert.match(limitProblem('push', { body: 'x'.repeat(PUSH_MAX_BYTES - wrapper) }, { n: 1 })!, /over the APNs\/FCM limit of 4096/);
    assert.equal(pushPayloadBytes({ title: 'é', body: 'b' }, { n: 42 }), Buffer.byteLength('{"n":"42","aps":{"alert":{"title":"é","body":"b"}}}'));
    // Short in characters, long in JSON: 700 control characters are escaped to 6 bytes each.
    assert.match(limitProblem('push', { body: '\u0001'.repeat(700) })!, /over the APNs\/FCM limit/);
    assert.match(limitProblem('push', { body: '€'.repeat(1400) })!, /over the APNs\/FCM limit/, '3 bytes of UTF-8 each');
    assert.equal(limitProblem('email', { subject: 's', html: 'x'.repeat(EMAIL_MAX_BYTES - 1) }), undefined);
    assert.match(limitProblem('email', { subject: 's', text: 'x'.repeat(EMAIL_MAX_BYTES) })!, /over the email limit/);
  });
});
