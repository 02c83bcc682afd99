// PUT /v1/users/{id} replaces the profile; PATCH merges into it (null removes a field), atomically, and only for a
// user that exists in the caller's tenant.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OTHER_TENANT_KEY, startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('users-patch');
});
after(() => h.stop());

const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];
const TOKEN = 'a'.repeat(64);
const profile = (b: any) => ({ email: b.email, phone: b.phone, locale: b.locale, timezone: b.timezone });

describe('PUT /v1/users/{id}', () => {
  it('replaces the profile: a field not sent is removed; devices and preferences stay', async () => {
    await h.api('PUT', '/v1/users/r1', { email: 'r1@example.com', phone: '+14155550101' });
    await h.api('POST', '/v1/users/r1/devices', { platform: 'ios', token: TOKEN });
    const put = await h.api('PUT', '/v1/users/r1', { locale: 'fr-FR' });
    assert.equal(put.status, 200);
    assert.deepEqual(profile(put.body), { email: undefined, phone: undefined, locale: 'fr-FR', timezone: undefined });
    assert.equal(put.body.devices.length, 1);
  });
});

describe('PATCH /v1/users/{id}', () => {
  it('merges: fields given replace, fields absent stay, null removes; created_at stays, updated_at moves', async () => {
    const created = (await h.api('PUT', '/v1/users/m1', { email: 'm1@example.com', phone: '+14155550102', timezone: 'Europe/Paris' })).body;
    await h.api('POST', '/v1/users/m1/devices', { platform: 'ios', token: TOKEN });
    await h.api('PUT', '/v1/users/m1/preferences', { channels: { sms: false } });
    await new Promise((r) => setTimeout(r, 5));

    const patched = await h.api('PATCH', '/v1/users/m1', { locale: 'fr-FR' });
    assert.equal(patched.status, 200);
    assert.deepEqual(profile(patched.body), { email: 'm1@example.com', phone: '+14155550102', locale: 'fr-FR', timezone: 'Europe/Paris' });
    assert.equal(patched.body.created_at, created.created_at);
    assert.ok(patched.body.updated_at > created.updated_at, 'updated_at moves');
    assert.equal(patched.body.devices.length, 1, 'devices stay');
    assert.deepEqual(patched.body.preferences.channels, { sms: false }, 'preferences stay');

    const removed = await h.api('PATCH', '/v1/users/m1', { phone: null, email: 'new@example.com' });
    assert.deepEqual(profile(removed.body), { email: 'new@example.com', phone: undefined, locale: 'fr-FR', timezone: 'Europe/Paris' });
    assert.ok(!('phone' in removed.body), 'a removed field is gone, not null');
    assert.deepEqual(profile((await h.api('GET', '/v1/users/m1')).body), profile(removed.body), 'what PATCH answered is what is stored');

    const same = await h.api('PATCH', '/v1/users/m1', {});
    assert.deepEqual([same.status, profile(same.body), same.body.updated_at], [200, profile(removed.body), removed.body.updated_at], '{} changes nothing');

    const merge = await h.api('PATCH', '/v1/users/m1', JSON.stringify({ locale: 'de-DE' }), { 'content-type': 'application/merge-patch+json' });
    assert.deepEqual([merge.status, merge.body.locale], [200, 'de-DE'], 'application/merge-patch+json is accepted');
  });

  it('validates like PUT and refuses what it does not change, naming the field', async () => {
    await h.api('PUT', '/v1/users/v1', { email: 'v1@example.com' });
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/v1', { phone: '0044 7700' })), [422, 'validation_failed', 'phone']);
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/v1', { email: 5 })), [422, 'validation_failed', 'email']);
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/v1', { timezone: 'Mars/Base' })), [422, 'validation_failed', 'timezone']);
    const devices = await h.api('PATCH', '/v1/users/v1', { devices: [] });
    assert.deepEqual(error(devices), [422, 'validation_failed', 'devices']);
    assert.match(devices.body.error.message, /allowed: email, phone, locale, timezone/);
    for (const key of ['created_at', 'updated_at', 'user_id', '__proto__', 'preferences']) {
      assert.deepEqual(error(await h.api('PATCH', '/v1/users/v1', `{"${key}": "x"}`)), [422, 'validation_failed', key], key);
    }
    for (const body of ['[]', 'null', '"x"', '{"email": "a@b.co"']) {
      assert.equal((await h.api('PATCH', '/v1/users/v1', body)).status, body.startsWith('{') ? 400 : 422, body);
    }
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/v1', 'email=x', { 'content-type': 'application/x-www-form-urlencoded' })), [415, 'unsupported_media_type', undefined]);
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/bad%20id', { locale: 'en' })), [422, 'validation_failed', 'user_id']);
    assert.deepEqual(profile((await h.api('GET', '/v1/users/v1')).body), { email: 'v1@example.com', phone: undefined, locale: undefined, timezone: undefined }, 'nothing changed');
  });

  it('is a 404 for an unknown or deleted user and never creates one', async () => {
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/ghost', { locale: 'en' })), [404, 'not_found', undefined]);
    assert.equal((await h.api('GET', '/v1/users/ghost')).status, 404, 'PATCH did not create it');
    await h.api('PUT', '/v1/users/gone', { email: 'gone@example.com' });
    await h.api('DELETE', '/v1/users/gone');
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/gone', { locale: 'en' })), [404, 'not_found', undefined]);
    assert.equal((await h.api('GET', '/v1/users/gone')).status, 404);
  });

  it('is tenant-scoped: another tenant cannot patch (or see) the user', async () => {
    await h.api('PUT', '/v1/users/t1', { email: 't1@example.com' });
    const other = { authorization: `Bearer ${OTHER_TENANT_KEY}` };
    assert.deepEqual(error(await h.api('PATCH', '/v1/users/t1', { email: 'evil@example.com' }, other)), [404, 'not_found', undefined]);
    assert.equal((await h.api('GET', '/v1/users/t1')).body.email, 't1@example.com');
    assert.equal((await h.api('GET', '/v1/users/t1', undefined, other)).status, 404);
  });

  it('is atomic: concurrent patches of different fields all land', async () => {
    for (let round = 0; round < 10; round++) {
      const id = `c${round}`;
      await h.api('PUT', `/v1/users/${id}`, {});
      const patches = [
        { email: `${id}@example.com` }, { phone: `+1415555${String(1000 + round).padStart(4, '0')}` },
        { locale: 'en-GB' }, { timezone: 'Asia/Tokyo' },
      ];
      const results = await Promise.all(patches.map((p) => h.api('PATCH', `/v1/users/${id}`, p)));
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
      const got = (await h.api('GET', `/v1/users/${id}`)).body;
      assert.deepEqual(profile(got), Object.assign({}, ...patches), `round ${round}: no patch was lost`);
    }
  });
});
