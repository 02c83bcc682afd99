// End to end, all four channels: HTTP and direct XADD in, real SDKs out to the fake providers, status readable.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { SANDBOX_CREDENTIALS } from '../src/fakes/index.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { testRedis } from './support/redis.js';

const IOS = 'ab'.repeat(32);
const ANDROID = 'fcm_' + 'A1b2'.repeat(30);
let h: Harness;
let redis: Redis;

const sentStatus = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, 8_000, `notification ${id} to finish`);

before(async () => {
  h = await startHarness('pipeline');
  redis = testRedis();
  assert.equal((await h.api('PUT', '/v1/users/jane', { email: 'jane@example.com', phone: '+14155550100', locale: 'en-US', timezone: 'America/New_York' })).status, 200);
  assert.equal((await h.api('POST', '/v1/users/jane/devices', { platform: 'ios', token: IOS })).status, 201);
  assert.equal((await h.api('POST', '/v1/users/jane/devices', { platform: 'android', token: ANDROID })).status, 201);
  const tpl = await h.api('PUT', '/v1/templates/restock', {
    push: { title: 'Hi {{ name }}', body: '{{ item }} is back in stock' },
    sms: { body: '{{ name }}: {{ item }} is back' },
    email: { subject: '{{ item }} is back', html: '<p>Hello {{ name }}, {{ item }} is back</p>', text: 'Hello {{ name }}' },
  });
  assert.equal(tpl.status, 200);
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

describe('a notification posted over HTTP', () => {
  it('reaches every channel through the real SDKs, rendered, and reads back as sent with provider ids', async () => {
    const post = await h.api('POST', '/v1/notifications', {
      user_id: 'jane', template: 'restock', params: { name: 'Jane', item: '<Red Socks>' }, priority: 'high', data: { order: 42 },
    });
    assert.equal(post.status, 202);
    assert.equal(post.body.status, 'accepted');
    const id = post.body.id as string;

    await expectSentEverywhere(await sentStatus(id), { name: 'Jane', item: '<Red Socks>', priority: 'high', order: '42' });
  });

  it('sends only the named channels, with inline content', async () => {
    h.fakes.clear();
    const post = await h.api('POST', '/v1/notifications', { user_id: 'jane', channels: ['sms'], content: { body: 'Your code is 123456' } });
    const n = await sentStatus(post.body.id);
    assert.deepEqual(n.deliveries.map((d: any) => [d.channel, d.status]), [['sms', 'sent']]);
    const sms = await h.fakes.waitFor((m) => m.provider === 'twilio' && m.body.Body === 'Your code is 123456');
    assert.equal(sms.body.To, '+14155550100');
    assert.equal(h.fakes.received('ses').length, 0);
  });
});

describe('deliveries that must not be sent', () => {
  it('records opted-out channels and missing addresses, and sends nothing for them', async () => {
    await h.api('PUT', '/v1/users/bob', { email: 'bob@example.com' });
    const prefs = await h.api('PUT', '/v1/users/bob/preferences', { channels: { email: false } });
    assert.equal(prefs.status, 200);
    h.fakes.clear();
    const post = await h.api('POST', '/v1/notifications', { user_id: 'bob', channels: ['email', 'sms', 'push'], content: { title: 'T', body: 'B', subject: 'S' } });
    const n = await sentStatus(post.body.id);
    assert.equal(n.status, 'not_sent');
    const by = Object.fromEntries(n.deliveries.map((d: any) => [d.channel, d.status]));
    assert.deepEqual(by, { email: 'opted_out', sms: 'no_address', push: 'no_address' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.fakes.received().length, 0, 'nothing reached a provider');
  });

  it('records an unknown user as no_address', async () => {
    const post = await h.api('POST', '/v1/notifications', { user_id: 'nobody', channels: ['email'], content: { subject: 'S', text: 'x' } });
    const n = await sentStatus(post.body.id);
    assert.deepEqual(n.deliveries.map((d: any) => [d.status, d.last_error]), [['no_address', 'unknown user']]);
  });
});

describe('size limits', () => {
  it('fails a rendered SMS or push over its limit without sending it, and sends the channels that fit', async () => {
    assert.equal((await h.api('PUT', '/v1/templates/long', { push: { body: '{{ text }}' }, sms: { body: '{{ text }}' }, email: { subject: 'Long', text: '{{ text }}' } })).status, 200);
    h.fakes.clear();
    const post = await h.api('POST', '/v1/notifications', { user_id: 'jane', template: 'long', params: { text: 'é'.repeat(2100) } });
    assert.equal(post.status, 202);
    const n = await sentStatus(post.body.id);
    assert.equal(n.status, 'partially_sent');
    const by = Object.fromEntries(n.deliveries.map((d: any) => [d.provider, [d.status, d.last_error]]));
    assert.equal(by.ses[0], 'sent');
    assert.deepEqual(by.twilio, ['failed', 'rendered SMS body is 2100 characters, over the SMS limit of 1600']);
    for (const p of ['apns', 'fcm']) {
      assert.equal(by[p][0], 'failed');
      assert.match(by[p][1], /^rendered push payload is 42\d\d bytes .*over the APNs\/FCM limit of 4096$/);
    }
    await h.fakes.waitFor((m) => m.provider === 'ses' && m.body.Content.Simple.Subject.Data === 'Long');
    assert.deepEqual(h.fakes.received().map((m) => m.provider), ['ses'], 'nothing too big reached a provider');
  });

  it('dead-letters an XADDed entry over a limit as invalid_entry', async () => {
    const big = [
      { channels: ['sms'], content: { body: 'x'.repeat(1601) } },
      { channels: ['email'], content: { subject: 'S', html: 'é'.repeat(500_000), text: 'é'.repeat(100_000) } },
    ];
    const ids: string[] = [];
    for (const extra of big) ids.push((await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane', ...extra })))!);
    const dead = await eventually(async () => {
      const entries = (await redis.xrange(`${h.prefix}:dead`, '-', '+')).map(([, f]) => fieldsOf(f));
      const found = ids.map((id) => entries.find((f) => f.source_id === id));
      return found.every(Boolean) ? found : undefined;
    }, 5_000, 'both entries in the dead-letter stream');
    assert.deepEqual(dead.map((f) => f!.reason), ['invalid_entry', 'invalid_entry']);
    assert.match(dead[0]!.error!, /content.body: SMS body is 1601 characters, over the SMS limit of 1600/);
    assert.match(dead[1]!.error!, /content: email is 1200001 bytes .*over the email limit of 1048576/);
  });
});

describe('a notification XADDed directly', () => {
  it('reaches every channel like an HTTP one: rendered, with the provider ids, under an id derived from its entry id', async () => {
    const payload = { tenant: 'acme', user_id: 'jane', template: 'restock', params: { name: 'Xavier', item: 'Scarf' }, data: { order: 7 } };
    const entryId = await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify(payload));
    await expectSentEverywhere(await sentStatus(`x-${entryId}`), { name: 'Xavier', item: 'Scarf', priority: 'normal', order: '7' });
  });

  it('keeps the producer\'s own id', async () => {
    const payload = { tenant: 'acme', id: 'order-9-restock', user_id: 'jane', template: 'restock', params: { name: 'Yann', item: 'Gloves' }, priority: 'high', data: { order: 9 } };
    await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify(payload));
    const n = await sentStatus('order-9-restock');
    assert.equal(n.id, 'order-9-restock');
    await expectSentEverywhere(n, { name: 'Yann', item: 'Gloves', priority: 'high', order: '9' });
  });

  it('is processed like an HTTP one, under an id derived from its entry id', async () => {
    h.fakes.clear();
    const payload = JSON.stringify({ tenant: 'acme', user_id: 'jane', channels: ['email'], template: 'restock', params: { name: 'J', item: 'Hat' } });
    const entryId = await redis.xadd(`${h.prefix}:in`, '*', 'payload', payload);
    const n = await sentStatus(`x-${entryId}`);
    assert.equal(n.status, 'sent');
    const email = await h.fakes.waitFor((m) => m.provider === 'ses');
    assert.equal(email.body.Content.Simple.Subject.Data, 'Hat is back');
  });

  it('dead-letters entries that do not parse, with the reason, and keeps processing the rest', async () => {
    const bad1 = await redis.xadd(`${h.prefix}:in`, '*', 'payload', '{not json');
    const bad2 = await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'nope', user_id: 'jane', content: { body: 'x' } }));
    const bad3 = await redis.xadd(`${h.prefix}:in`, '*', 'something', 'else');
    const good = await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane', channels: ['sms'], content: { body: 'after the bad ones' } }));
    assert.equal((await sentStatus(`x-${good}`)).status, 'sent');
    const dead = await eventually(async () => {
      const entries = await redis.xrange(`${h.prefix}:dead`, '-', '+');
      const fields = entries.map(([, f]) => Object.fromEntries(f.reduce<string[][]>((acc, v, i) => (i % 2 ? acc[acc.length - 1]!.push(v) : acc.push([v]), acc), [])));
      return fields.length >= 3 ? fields : undefined;
    });
    const reasons: Record<string, string> = Object.fromEntries(dead.map((f) => [f.source_id, f.reason]));
    assert.deepEqual([reasons[bad1!], reasons[bad2!], reasons[bad3!]], ['invalid_json', 'unknown_tenant', 'missing_payload']);
    const pending = (await redis.xpending(`${h.prefix}:in`, 'intake')) as [number, ...unknown[]];
    assert.equal(pending[0], 0, 'nothing left pending in the ingest stream');
  });

  it('sets aside a bad entry falsely marked as the ingress\'s (src=api) without holding the good one read with it', async () => {
    // One MULTI: both entries come back in the same read.
    const replies = await redis.multi()
      .xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme' }), 'src', 'api')
      .xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane', channels: ['sms'], content: { body: 'read with a bad one' } }), 'src', 'api')
      .exec();
    const [bad, good] = replies!.map(([, id]) => id as string);
    assert.equal((await sentStatus(`x-${good}`)).status, 'sent');
    await h.fakes.waitFor((m) => m.provider === 'twilio' && m.body.Body === 'read with a bad one');
    const dead = await eventually(async () => {
      const entries = await redis.xrange(`${h.prefix}:dead`, '-', '+');
      return entries.map(([, f]) => fieldsOf(f)).find((f) => f.source_id === bad);
    }, 5_000, 'the bad entry in the dead-letter stream');
    assert.equal(dead.reason, 'invalid_entry');
    assert.match(dead.error!, /src=api entry: give user_id or a non-empty to\[\]/);
    const pending = (await redis.xpending(`${h.prefix}:in`, 'intake')) as [number, ...unknown[]];
    assert.equal(pending[0], 0, 'neither entry is left pending');
  });
});

/**
 * The notification reads back as sent on all four providers, each with the message id its fake answered, and each
 * fake got the rendered content with the right headers and fields.
 */
async function expectSentEverywhere(n: any, want: { name: string; item: string; priority: 'high' | 'normal'; order: string }): Promise<void> {
  assert.equal(n.status, 'sent');
  assert.deepEqual(n.deliveries.map((d: any) => d.provider).sort(), ['apns', 'fcm', 'ses', 'twilio']);
  const delivery = (p: string) => n.deliveries.find((d: any) => d.provider === p);
  for (const d of n.deliveries) {
    assert.equal(d.status, 'sent');
    assert.equal(d.attempts, 1);
    assert.ok(!String(d.to).includes('jane@example.com') && !String(d.to).includes('+14155550100') && !String(d.to).includes(IOS), 'address is masked');
  }
  const pushText = `${want.item} is back in stock`;

  const apns = await h.fakes.waitFor((m) => m.provider === 'apns' && m.to === IOS && m.body.aps?.alert?.body === pushText);
  assert.equal(apns.headers['apns-topic'], SANDBOX_CREDENTIALS.apnsTopic);
  assert.equal(apns.headers['apns-priority'], want.priority === 'high' ? '10' : '5');
  assert.equal(apns.headers['apns-push-type'], 'alert');
  assert.match(apns.headers.authorization!, /^bearer \S+\.\S+\.\S+$/i, 'a provider token (JWT)');
  assert.deepEqual(apns.body.aps.alert, { title: `Hi ${want.name}`, body: pushText });
  assert.equal(apns.body.order, want.order);
  assert.equal(apns.headers['apns-id'], apns.messageId);
  assert.equal(delivery('apns').provider_message_id, apns.messageId);

  const fcm = await h.fakes.waitFor((m) => m.provider === 'fcm' && m.to === ANDROID && m.body.message?.notification?.body === pushText);
  assert.match(fcm.headers.authorization!, /^Bearer \S+/);
  assert.deepEqual(fcm.body.message.notification, { title: `Hi ${want.name}`, body: pushText });
  assert.equal(fcm.body.message.android.priority, want.priority);
  assert.deepEqual(fcm.body.message.data, { order: want.order });
  assert.equal(delivery('fcm').provider_message_id, fcm.messageId);

  const smsText = `${want.name}: ${want.item} is back`;
  const sms = await h.fakes.waitFor((m) => m.provider === 'twilio' && m.body.Body === smsText);
  assert.equal(sms.body.To, '+14155550100');
  assert.equal(sms.body.From, SANDBOX_CREDENTIALS.twilioFrom);
  const basic = Buffer.from(sms.headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
  assert.equal(basic.split(':')[0], SANDBOX_CREDENTIALS.twilioAccountSid);
  assert.equal(delivery('twilio').provider_message_id, sms.messageId);

  const email = await h.fakes.waitFor((m) => m.provider === 'ses' && m.body.Content?.Simple?.Subject?.Data === `${want.item} is back`);
  assert.deepEqual(email.body.Destination.ToAddresses, ['jane@example.com']);
  assert.equal(email.body.FromEmailAddress, SANDBOX_CREDENTIALS.sesFrom);
  assert.match(email.headers.authorization!, new RegExp(`^AWS4-HMAC-SHA256 Credential=${SANDBOX_CREDENTIALS.awsAccessKeyId}/`));
  const escaped = want.item.replace(/</g, '&lt;').replace(/>/g, '&gt;');
  assert.equal(email.body.Content.Simple.Body.Html.Data, `<p>Hello ${want.name}, ${escaped} is back</p>`, 'HTML is autoescaped');
  assert.equal(email.body.Content.Simple.Body.Text.Data, `Hello ${want.name}`);
  assert.equal(delivery('ses').provider_message_id, email.messageId);
}

const fieldsOf = (flat: string[]): Record<string, string> => Object.fromEntries(flat.flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]!]])));
