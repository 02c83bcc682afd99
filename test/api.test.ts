// The HTTP contract: validation, auth, tenant isolation, batch semantics, and every error status.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OTHER_TENANT_KEY, startHarness, eventually, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('api', { env: { NOTIFY_MAX_BODY_BYTES: '65536' } });
  await h.api('PUT', '/v1/users/u1', { email: 'u1@example.com' });
  await h.api('PUT', '/v1/templates/hello', { email: { subject: 'Hello', text: 'Hi {{ name }}' } });
});
after(() => h.stop());

const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];

describe('users, devices, preferences', () => {
  it('creates, reads and erases a user with devices and preferences', async () => {
    const put = await h.api('PUT', '/v1/users/u2', { email: 'u2@example.com', phone: '+447700900123', locale: 'en-GB', timezone: 'Europe/London' });
    assert.equal(put.status, 200);
    assert.equal(put.body.user_id, 'u2');
    assert.equal(put.body.phone, '+447700900123');
    assert.equal((await h.api('POST', '/v1/users/u2/devices', { platform: 'ios', token: 'f'.repeat(64) })).status, 201);
    assert.equal((await h.api('PUT', '/v1/users/u2/preferences', { channels: { sms: false }, categories: { promo: { email: false } } })).status, 200);
    const got = await h.api('GET', '/v1/users/u2');
    assert.equal(got.body.devices.length, 1);
    assert.deepEqual(got.body.preferences, { channels: { sms: false }, categories: { promo: { email: false } } });
    assert.equal((await h.api('DELETE', `/v1/users/u2/devices/${'f'.repeat(64)}`)).status, 204);
    assert.equal((await h.api('DELETE', `/v1/users/u2/devices/${'f'.repeat(64)}`)).status, 404);
    assert.equal((await h.api('DELETE', '/v1/users/u2')).status, 204);
    assert.equal((await h.api('GET', '/v1/users/u2')).status, 404);
    assert.equal((await h.api('POST', '/v1/users/u2/devices', { platform: 'ios', token: 'f'.repeat(64) })).status, 404, 'no device for a deleted user');
  });

  it('validates emails, E.164 phones, token formats and unknown fields', async () => {
    assert.deepEqual(error(await h.api('PUT', '/v1/users/x', { email: 'not-an-email' })), [422, 'validation_failed', 'email']);
    assert.deepEqual(error(await h.api('PUT', '/v1/users/x', { phone: '0044 7700' })), [422, 'validation_failed', 'phone']);
    assert.deepEqual(error(await h.api('PUT', '/v1/users/x', { timezone: 'Mars/Base' })), [422, 'validation_failed', 'timezone']);
    assert.deepEqual(error(await h.api('PUT', '/v1/users/x', { emial: 'a@b.co' })), [422, 'validation_failed', 'emial']);
    assert.deepEqual(error(await h.api('POST', '/v1/users/u1/devices', { platform: 'ios', token: 'xyz' })), [422, 'validation_failed', 'token']);
    assert.deepEqual(error(await h.api('POST', '/v1/users/u1/devices', { platform: 'windows', token: 'x'.repeat(64) })), [422, 'validation_failed', 'platform']);
    assert.deepEqual(error(await h.api('PUT', '/v1/users/bad%20id', { email: 'a@b.co' })), [422, 'validation_failed', 'user_id'], 'a malformed path id, as in a body');
  });
});

describe('templates', () => {
  it('stores, reads and deletes; rejects templates that do not compile', async () => {
    const put = await h.api('PUT', '/v1/templates/t1', { sms: { body: 'Hi {{ name }}' } });
    assert.equal(put.status, 200);
    assert.ok(put.body.version);
    assert.equal((await h.api('GET', '/v1/templates/t1')).body.sms.body, 'Hi {{ name }}');
    const bad = await h.api('PUT', '/v1/templates/t2', { sms: { body: 'Hi {{ name' } });
    assert.deepEqual(error(bad), [422, 'template_syntax', 'sms.body']);
    assert.deepEqual(error(await h.api('PUT', '/v1/templates/t3', {})), [422, 'validation_failed', undefined]);
    assert.equal((await h.api('DELETE', '/v1/templates/t1')).status, 204);
    assert.equal((await h.api('GET', '/v1/templates/t1')).status, 404);
  });
});

describe('notifications', () => {
  it('answers every error case with its status and code', async () => {
    const post = (body: unknown, headers?: Record<string, string>) => h.api('POST', '/v1/notifications', body, headers);
    assert.deepEqual(error(await post('{"user_id": ')), [400, 'invalid_json', undefined]);
    assert.deepEqual(error(await post({ user_id: 'u1', template: 'hello' }, { authorization: 'Bearer wrong-key-000000000000' })), [401, 'unauthorized', undefined]);
    assert.deepEqual(error(await post({ user_id: 'u1', template: 'hello' }, { authorization: '' })), [401, 'unauthorized', undefined]);
    assert.deepEqual(error(await post({ user_id: 'u1', content: { body: 'x'.repeat(70_000) } })), [413, 'payload_too_large', undefined]);
    const chunked = await fetch(`${h.url}/v1/notifications`, {
      method: 'POST', duplex: 'half', headers: { authorization: 'Bearer test-key-0123456789abcdef', 'content-type': 'application/json' },
      body: new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode(JSON.stringify({ user_id: 'u1', content: { body: 'x'.repeat(70_000) } }))); ctl.close(); } }),
    } as RequestInit);
    assert.equal(chunked.status, 413, 'a body of unknown length is limited too');
    assert.deepEqual(error(await post({ user_id: 'u1' })), [422, 'validation_failed', 'template']);
    assert.deepEqual(error(await post({ user_id: 'u1', to: [{ user_id: 'u2' }], template: 'hello' })), [422, 'validation_failed', 'user_id']);
    assert.deepEqual(error(await post({ user_id: 'u1', template: 'nope' })), [422, 'template_not_found', 'template']);
    assert.deepEqual(error(await post({ user_id: 'u1', template: 'hello', channels: ['fax'] })), [422, 'validation_failed', 'channels.0']);
    assert.deepEqual(error(await post({ user_id: 'u1', template: 'hello', priority: 'urgent' })), [422, 'validation_failed', 'priority']);
    assert.deepEqual(error(await h.api('POST', '/v1/notifications', 'user_id=u1', { 'content-type': 'application/x-www-form-urlencoded' })), [415, 'unsupported_media_type', undefined]);
    assert.deepEqual(error(await h.api('GET', '/v1/notifications/does-not-exist')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('GET', '/v1/nothing-here')), [404, 'not_found', undefined]);
  });

  it('refuses inline content over a channel\'s size limit (SMS 1600 characters, push 4096 bytes), naming the field', async () => {
    const post = (body: unknown) => h.api('POST', '/v1/notifications', body);
    const sms = await post({ user_id: 'u1', channels: ['sms'], content: { body: 'x'.repeat(3990) } });
    assert.deepEqual(error(sms), [422, 'validation_failed', 'content.body']);
    assert.match(sms.body.error.message, /3990 characters, over the SMS limit of 1600/);
    assert.deepEqual(error(await post({ user_id: 'u1', content: { body: 'x'.repeat(1601) } })), [422, 'validation_failed', 'content.body'], 'channels omitted: SMS counts');
    assert.deepEqual(error(await post({ user_id: 'u1', channels: ['email'], content: { subject: 'S', body: 'x'.repeat(3990) } })).slice(0, 1), [202], 'email alone takes it');
    assert.deepEqual(error(await post({ user_id: 'u1', channels: ['sms'], content: { text: 'é'.repeat(1601) } })), [422, 'validation_failed', 'content.text']);
    const push = await post({ user_id: 'u1', channels: ['push'], content: { title: 't'.repeat(200), body: 'é'.repeat(2000) } });
    assert.deepEqual(error(push), [422, 'validation_failed', 'content']);
    assert.match(push.body.error.message, /push payload is \d+ bytes .* over the APNs\/FCM limit of 4096/);
    const data = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(400)]));
    assert.deepEqual(error(await post({ user_id: 'u1', channels: ['push'], content: { body: 'short' }, data })), [422, 'validation_failed', 'data']);
    assert.deepEqual(error(await post({ user_id: 'u1', template: 'hello', data })), [422, 'validation_failed', 'data'], 'push carries data whatever the template');
    assert.equal((await post({ user_id: 'u1', template: 'hello', channels: ['email'], data })).status, 202);
    const batch = await h.api('POST', '/v1/notifications/batch', {
      notifications: [{ user_id: 'u1', channels: ['sms'], content: { body: 'x'.repeat(2000) } }, { user_id: 'u1', channels: ['sms'], content: { body: 'ok' } }],
    });
    assert.deepEqual([batch.body.results[0].error.field, batch.body.results[1].status], ['notifications.0.content.body', 'accepted']);
  });

  it('hides one tenant\'s notifications from another', async () => {
    const post = await h.api('POST', '/v1/notifications', { user_id: 'u1', template: 'hello', params: { name: 'A' } });
    assert.equal(post.status, 202);
    assert.equal((await h.api('GET', `/v1/notifications/${post.body.id}`)).status, 200);
    const other = await h.api('GET', `/v1/notifications/${post.body.id}`, undefined, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.deepEqual(error(other), [404, 'not_found', undefined]);
  });

  it('accepts the good items of a batch and names the bad ones, in order', async () => {
    const r = await h.api('POST', '/v1/notifications/batch', {
      notifications: [
        { user_id: 'u1', template: 'hello', params: { name: '1' } },
        { user_id: 'u1' },
        { user_id: 'u1', template: 'missing' },
        { user_id: 'u1', channels: ['email'], content: { subject: 'S', text: 'two' } },
        'not an object',
      ],
    });
    assert.equal(r.status, 202);
    assert.equal(r.body.accepted, 2);
    assert.equal(r.body.rejected, 3);
    const [a, b, c, d, e] = r.body.results;
    assert.equal(a.status, 'accepted');
    assert.deepEqual([b.error.code, b.error.field], ['validation_failed', 'notifications.1.template']);
    assert.deepEqual([c.error.code, c.error.field], ['template_not_found', 'notifications.2.template']);
    assert.equal(d.status, 'accepted');
    assert.equal(e.error.code, 'validation_failed');
    for (const id of [a.id, d.id]) {
      const n = await eventually(async () => {
        const g = await h.api('GET', `/v1/notifications/${id}`);
        return g.body.status === 'sent' ? g.body : undefined;
      });
      assert.equal(n.deliveries[0].provider, 'ses');
    }
    assert.deepEqual(error(await h.api('POST', '/v1/notifications/batch', { notifications: [] })), [422, 'validation_failed', 'notifications']);
    const tooMany = { notifications: Array.from({ length: 1001 }, () => ({ user_id: 'u1', template: 'hello' })) };
    assert.deepEqual(error(await h.api('POST', '/v1/notifications/batch', tooMany)), [422, 'validation_failed', 'notifications']);
  });

  it('answers health and readiness without a key', async () => {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 200);
  });
});
