// The webhooks' pure parts: event mapping, retry schedule and Retry-After, auto-disable, address classification,
// signatures (verified with the standardwebhooks library), settings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import type { HistoryEvent } from '../src/history/events.js';
import type { DeliveryRecord } from '../src/domain/record.js';
import { loadWebhookConfig } from '../src/webhooks/config.js';
import { webhookEvent } from '../src/webhooks/events.js';
import { classifyAddress, refusal } from '../src/webhooks/ip.js';
import { parseRetryAfter, parseSchedule, retryDelay, shouldDisable } from '../src/webhooks/schedule.js';
import { newSecret, signatureHeaders } from '../src/webhooks/sign.js';
import { parseTarget, UrlRefused } from '../src/webhooks/ssrf.js';

const rec: DeliveryRecord = {
  user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status: 'sent', attempts: 1,
  provider_message_id: 'pm-1', updated_at: '2026-12-01T09:00:00.000Z',
};
const base = { id: '1764579600000-0', tenant: 'acme', notificationId: 'n1', createdAt: 1764579600000 };

describe('webhook events from status events', () => {
  it('delivery sent / failed, with only the listed fields (no address)', () => {
    const sent = webhookEvent({ ...base, kind: 'delivery', key: 'jane:email', data: rec } as HistoryEvent)!;
    assert.deepEqual(sent, {
      type: 'delivery.sent', timestamp: '2025-12-01T09:00:00.000Z',
      data: { notification_id: 'n1', delivery_key: 'jane:email', user_id: 'jane', channel: 'email', provider: 'ses', status: 'sent', provider_message_id: 'pm-1' },
    });
    assert.ok(!JSON.stringify(sent).includes('example.com'));
    const failed = webhookEvent({ ...base, kind: 'delivery', key: 'jane:email', data: { ...rec, status: 'failed', last_error: 'attempts_exhausted: x' } } as HistoryEvent)!;
    assert.equal(failed.type, 'delivery.failed');
    assert.equal(failed.data.error, 'attempts_exhausted: x');
    for (const status of ['queued', 'retrying', 'suppressed'] as const) {
      assert.equal(webhookEvent({ ...base, kind: 'delivery', key: 'k', data: { ...rec, status } } as HistoryEvent), undefined);
    }
  });

  it('feedback: provider statuses, and opens / clicks; user, channel, provider from the record', () => {
    const fb = (data: object) => webhookEvent({ ...base, kind: 'feedback', key: 'jane:email', data: { at: 'x', rank: 1, ...data } } as HistoryEvent, rec);
    for (const s of ['delivered', 'bounced', 'complained', 'undelivered']) assert.equal(fb({ event: 'x', status: s })!.type, `delivery.${s}`);
    assert.equal(fb({ event: 'bounce', status: 'bounced', detail: 'Permanent' })!.data.error, 'Permanent');
    assert.equal(fb({ event: 'open' })!.type, 'delivery.opened');
    assert.equal(fb({ event: 'click' })!.type, 'delivery.clicked');
    assert.equal(fb({ event: 'send' }), undefined);
    assert.equal(fb({ event: 'open' })!.data.user_id, 'jane');
    const noRecord = webhookEvent({ ...base, kind: 'feedback', key: 'jane:email', data: { event: 'x', status: 'delivered', at: 'x', rank: 3 } } as HistoryEvent);
    assert.equal(noRecord!.data.user_id, null);
  });

  it('engagement and cancellation; other kinds none', () => {
    const e = webhookEvent({ ...base, kind: 'engagement', data: { type: 'clicked', channel: 'push', at: 1 } } as HistoryEvent)!;
    assert.equal(e.type, 'delivery.clicked');
    assert.equal(e.data.channel, 'push');
    assert.equal(e.data.delivery_key, null);
    assert.equal(webhookEvent({ ...base, kind: 'cancelled', data: { cancelled_at: 1 } } as HistoryEvent)!.type, 'notification.cancelled');
    assert.equal(webhookEvent({ ...base, kind: 'accepted', data: { tenant: 'acme', created_at: 1 } } as HistoryEvent), undefined);
  });
});

describe('retry schedule', () => {
  it('parses durations', () => {
    assert.deepEqual(parseSchedule('5s, 30s,2m,1h,250ms,100'), [5_000, 30_000, 120_000, 3_600_000, 250, 100]);
    assert.throws(() => parseSchedule('5s,soon'), /soon/);
  });
  it('jitters ±20 %, honours a longer Retry-After (capped), and ends', () => {
    const s = [1_000, 10_000];
    assert.equal(retryDelay(1, s, undefined, 60_000, 0), 800);
    assert.equal(retryDelay(1, s, undefined, 60_000, 0.999999), 1_200);
    assert.equal(retryDelay(2, s, 30_000, 60_000, 0.5), 30_000);
    assert.equal(retryDelay(2, s, 3_600_000, 60_000, 0.5), 60_000);
    assert.equal(retryDelay(2, s, 100, 60_000, 0.5), 10_000); // a shorter Retry-After does not hurry the schedule
    assert.equal(retryDelay(3, s, undefined, 60_000, 0.5), undefined);
  });
  it('reads Retry-After as seconds or a date', () => {
    const now = Date.parse('2026-12-01T09:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7_000);
    assert.equal(parseRetryAfter('Tue, 01 Dec 2026 09:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
  it('disables after N failures spanning T', () => {
    const o = { disableAfterFailures: 3, disableAfterMs: 1_000 };
    assert.equal(shouldDisable(3, 0, 1_000, o), true);
    assert.equal(shouldDisable(2, 0, 5_000, o), false);
    assert.equal(shouldDisable(5, 0, 999, o), false);
  });
});

describe('address classification (SSRF)', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['10.1.2.3', 'private'], ['172.20.0.1', 'private'], ['192.168.1.1', 'private'],
    ['fd12::1', 'private'], ['169.254.1.1', 'link_local'], ['fe80::1', 'link_local'], ['100.64.0.1', 'cgnat'], ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'], ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['100.100.100.200', 'metadata'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'metadata'], ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'], ['8.8.8.8', undefined], ['2606:4700::1111', undefined], ['172.32.0.1', undefined],
  ];
  for (const [ip, kind] of cases) it(`${ip} → ${kind ?? 'public'}`, () => assert.equal(classifyAddress(ip), kind));
  it('allowPrivate lifts loopback / private / link-local / CGNAT, never metadata or unspecified', () => {
    assert.match(refusal('127.0.0.1', false)!, /loopback.*NOTIFY_WEBHOOK_ALLOW_PRIVATE/);
    assert.equal(refusal('127.0.0.1', true), undefined);
    assert.equal(refusal('10.0.0.1', true), undefined);
    assert.match(refusal('169.254.169.254', true)!, /metadata/);
    assert.match(refusal('0.0.0.0', true)!, /unspecified/);
    assert.equal(refusal('8.8.8.8', false), undefined);
  });
  it('only http(s) URLs without credentials', () => {
    assert.throws(() => parseTarget('ftp://example.com/x'), UrlRefused);
    assert.throws(() => parseTarget('file:///etc/passwd'), /only http and https/);
    assert.throws(() => parseTarget('https://u:p@example.com/'), /credentials/);
    assert.throws(() => parseTarget('example.com/hook'), /absolute/);
    assert.equal(parseTarget('https://example.com/hook').hostname, 'example.com');
  });
});

describe('signatures', () => {
  it('verify with the standardwebhooks library, with either secret during a rotation', () => {
    const [a, b] = [newSecret(), newSecret()];
    assert.match(a, /^whsec_[A-Za-z0-9+/=]+$/);
    const body = JSON.stringify({ type: 'delivery.sent' });
    const headers = signatureHeaders([a, b], '1764579600000-0_orders', new Date(), body);
    assert.equal(headers['webhook-signature']!.split(' ').length, 2);
    for (const s of [a, b]) assert.deepEqual(new Webhook(s).verify(body, headers), { type: 'delivery.sent' });
    assert.throws(() => new Webhook(newSecret()).verify(body, headers), /No matching signature/);
    assert.throws(() => new Webhook(a).verify(body + ' ', headers));
  });
});

describe('settings', () => {
  it('defaults, and a malformed one named', () => {
    const c = loadWebhookConfig({});
    assert.equal(c.allowPrivate, false);
    assert.equal(c.timeoutMs, 10_000);
    assert.equal(c.retrySchedule.length, 10);
    assert.ok(c.retrySchedule.reduce((x, y) => x + y) > 20 * 3_600_000);
    assert.equal(loadWebhookConfig({ NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'on' }).allowPrivate, true);
    assert.throws(() => loadWebhookConfig({ NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'yes' }), /NOTIFY_WEBHOOK_ALLOW_PRIVATE/);
    assert.throws(() => loadWebhookConfig({ NOTIFY_WEBHOOK_RETRY_SCHEDULE: '1s,x' }), /NOTIFY_WEBHOOK_RETRY_SCHEDULE/);
  });
});
