// Every accepted notification ends: inline content that no channel can send is refused at the door (HTTP) or
// dead-lettered (XADD), and what the worker finds unsendable is recorded `not_sent` with the reason, never left
// `accepted` with no deliveries.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { testRedis } from './support/redis.js';

let h: Harness;
let redis: Redis;
before(async () => {
  h = await startHarness('unsendable');
  redis = testRedis();
  // Only a phone: email-only content has nowhere to go.
  await h.api('PUT', '/v1/users/jane', { phone: '+14155550100' });
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];
const post = (body: unknown) => h.api('POST', '/v1/notifications', body);

describe('content that no channel can send', () => {
  it('is refused at the door naming content and saying what each channel needs', async () => {
    const empty = await post({ user_id: 'jane', content: {} });
    assert.deepEqual(error(empty), [422, 'validation_failed', 'content']);
    assert.match(empty.body.error.message, /push needs body \(or text\)/);
    assert.match(empty.body.error.message, /sms needs body \(or text\)/);
    assert.match(empty.body.error.message, /email needs subject \(or title\) and html, text or body/);
    assert.deepEqual(error(await post({ user_id: 'jane', content: { subject: 'Only a subject' } })), [422, 'validation_failed', 'content']);
    assert.deepEqual(error(await post({ user_id: 'jane', content: { title: 'T', html: '' } })).slice(0, 1), [202], 'title + html is an email');
    const named = await post({ user_id: 'jane', channels: ['sms'], content: { subject: 'S', html: '<p>x</p>' } });
    assert.deepEqual(error(named), [422, 'validation_failed', 'content']);
    assert.match(named.body.error.message, /by sms: sms needs body/);
    const batch = await h.api('POST', '/v1/notifications/batch', {
      notifications: [{ user_id: 'jane', content: { subject: 'S' } }, { user_id: 'jane', content: { body: 'fine' } }],
    });
    assert.deepEqual([batch.body.results[0].error?.field, batch.body.results[1].status], ['notifications.0.content', 'accepted']);
  });

  it('ends not_sent with the reason when content that reaches no channel of the user is accepted', async () => {
    const r = await post({ user_id: 'jane', content: { subject: 'S', html: '<p>email only</p>' } });
    assert.equal(r.status, 202);
    const n = await eventually(async () => {
      const g = await h.api('GET', `/v1/notifications/${r.body.id}`);
      return g.body.status !== 'accepted' ? g.body : undefined;
    });
    assert.equal(n.status, 'not_sent');
    assert.deepEqual(n.deliveries.map((d: any) => [d.channel, d.status, d.last_error]), [['email', 'no_address', 'user has no email address']]);
  });

  it('dead-letters an XADDed entry with such content as invalid_entry, like the 422', async () => {
    const entry = await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane', content: { subject: 'S' } }));
    const dead = await eventually(async () => {
      const list = (await h.api('GET', '/v1/dead-letters?kind=intake&limit=50')).body.dead_letters as any[];
      return list.find((d) => d.notification_id === `x-${entry}` || d.error?.includes('content'));
    }, 5_000, 'the dead letter');
    assert.equal(dead.reason, 'invalid_entry');
    assert.match(dead.error, /content: nothing in it can be sent by any channel/);
    assert.equal((await h.api('GET', `/v1/notifications/x-${entry}`)).status, 404);
  });

  it('records no_content, so the status is not_sent, when an entry the ingress marked as its own has nothing to send', async () => {
    // Written by an older ingress (before the door refused it), or by anyone who sets `src`: only its shape is checked.
    const id = 'no-content-1';
    await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane', content: {}, id, accepted_at: Date.now() }), 'src', 'api');
    const n = await eventually(async () => {
      const g = await h.api('GET', `/v1/notifications/${id}`);
      return g.status === 200 && g.body.deliveries.length > 0 ? g.body : undefined;
    }, 5_000, 'the notification to be planned');
    assert.equal(n.status, 'not_sent');
    const byChannel = Object.fromEntries(n.deliveries.map((d: any) => [d.channel, d]));
    assert.deepEqual(Object.keys(byChannel).sort(), ['email', 'push', 'sms']);
    for (const d of n.deliveries) assert.equal(d.status, 'no_content');
    assert.match(byChannel.sms.last_error, /no sms content in the template or content \(sms needs body \(or text\)\)/);
  });
});
