import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planDeliveries, optedOut } from '../src/domain/plan.js';
import { contentChannels, inlineContent } from '../src/domain/content.js';
import type { UserRecord } from '../src/domain/user.js';
import type { Channel } from '../src/domain/types.js';

const IOS = 'a'.repeat(64);
const ANDROID = 'fcm-token-' + 'x'.repeat(40);
const user = (over: Partial<UserRecord> = {}): UserRecord => ({
  id: 'u1',
  profile: { email: 'jane@example.com', phone: '+14155550100', created_at: '', updated_at: '' },
  prefs: { channels: {}, categories: {} },
  devices: [
    { token: IOS, platform: 'ios', active: true, registered_at: 1 },
    { token: ANDROID, platform: 'android', active: true, registered_at: 1 },
    { token: 'b'.repeat(64), platform: 'ios', active: false, registered_at: 1 },
  ],
  ...over,
});
const ALL = new Set<Channel>(['push', 'sms', 'email']);

describe('planDeliveries', () => {
  it('sends push to every active device, by platform, and sms/email to the profile', () => {
    const plan = planDeliveries({ userId: 'u1', available: ALL }, user());
    assert.deepEqual(plan.map((d) => [d.channel, d.lane, d.to, d.status]), [
      ['push', 'apns', IOS, 'queued'],
      ['push', 'fcm', ANDROID, 'queued'],
      ['sms', 'sms', '+14155550100', 'queued'],
      ['email', 'email', 'jane@example.com', 'queued'],
    ]);
    assert.equal(new Set(plan.map((d) => d.key)).size, plan.length, 'keys are unique');
  });

  it('defaults to the channels the user can receive and the content covers', () => {
    const u = user({ profile: { email: 'j@example.com', created_at: '', updated_at: '' }, devices: [] });
    assert.deepEqual(planDeliveries({ userId: 'u1', available: ALL }, u).map((d) => d.channel), ['email']);
    assert.deepEqual(planDeliveries({ userId: 'u1', available: new Set<Channel>(['sms']) }, u).map((d) => [d.channel, d.status]), [['sms', 'no_address']]);
  });

  it('records opted-out channels, globally and per category, and never queues them', () => {
    const u = user({ prefs: { channels: { sms: false }, categories: { marketing: { email: false } } } });
    const plan = planDeliveries({ userId: 'u1', channels: ['sms', 'email'], category: 'marketing', available: ALL }, u);
    assert.deepEqual(plan.map((d) => [d.channel, d.status]), [['sms', 'opted_out'], ['email', 'opted_out']]);
    assert.equal(optedOut(u, 'email', 'billing'), false);
  });

  it('records a missing address as no_address', () => {
    const u = user({ profile: { created_at: '', updated_at: '' }, devices: [] });
    const plan = planDeliveries({ userId: 'u1', channels: ['push', 'sms', 'email'], available: ALL }, u);
    assert.deepEqual(plan.map((d) => d.status), ['no_address', 'no_address', 'no_address']);
  });

  it('records an unknown user as no_address on each channel', () => {
    const plan = planDeliveries({ userId: 'ghost', channels: ['email'], available: ALL }, null);
    assert.deepEqual(plan.map((d) => [d.channel, d.status, d.reason]), [['email', 'no_address', 'unknown user']]);
  });

  it('fails a named channel the content cannot serve', () => {
    const plan = planDeliveries({ userId: 'u1', channels: ['sms'], available: new Set<Channel>(['email']) }, user());
    assert.equal(plan[0]!.status, 'failed');
  });
});

describe('inline content', () => {
  it('maps fields to each channel', () => {
    const c = { title: 'Hi', body: 'Your order shipped', subject: 'Order', html: '<p>x</p>' };
    assert.deepEqual(inlineContent('push', c), { title: 'Hi', body: 'Your order shipped' });
    assert.deepEqual(inlineContent('sms', c), { body: 'Your order shipped' });
    assert.deepEqual(inlineContent('email', c), { subject: 'Order', html: '<p>x</p>', text: 'Your order shipped' });
    assert.deepEqual([...contentChannels({ subject: 'S', html: '<b>' })], ['email']);
  });
});

describe('planDeliveries with only some providers configured', () => {
  const emailOnly = new Set(['email'] as const);
  it('leaves channels and devices without a provider out of the default channels', () => {
    assert.deepEqual(planDeliveries({ userId: 'u1', available: ALL, lanes: emailOnly }, user()).map((d) => [d.channel, d.status]), [['email', 'queued']]);
    const plan = planDeliveries({ userId: 'u1', available: ALL, lanes: new Set(['fcm', 'email'] as const) }, user());
    assert.deepEqual(plan.map((d) => [d.channel, d.lane, d.status]), [['push', 'fcm', 'queued'], ['email', 'email', 'queued']]);
    const noEmail = user({ profile: { phone: '+14155550100', created_at: '', updated_at: '' }, devices: [] });
    assert.deepEqual(planDeliveries({ userId: 'u1', available: ALL, lanes: emailOnly }, noEmail).map((d) => [d.channel, d.status]), [['email', 'no_address']]);
  });

  it('records a named channel or device without a provider as failed, saying so, and queues nothing for it', () => {
    const plan = planDeliveries({ userId: 'u1', channels: ['sms', 'push', 'email'], available: ALL, lanes: new Set(['fcm', 'email'] as const) }, user());
    assert.deepEqual(plan.map((d) => [d.channel, d.lane, d.status, d.reason]), [
      ['sms', undefined, 'failed', 'no provider is configured for sms'],
      ['push', undefined, 'failed', 'no provider is configured for apns'],
      ['push', 'fcm', 'queued', undefined],
      ['email', 'email', 'queued', undefined],
    ]);
  });

  it('when no provider serves anything the content covers, says so instead of planning nothing', () => {
    const plan = planDeliveries({ userId: 'u1', available: new Set<Channel>(['sms']), lanes: emailOnly }, user());
    assert.deepEqual(plan.map((d) => [d.channel, d.status, d.reason]), [['sms', 'failed', 'no provider is configured for sms']]);
  });
});
