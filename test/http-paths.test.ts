// Path ids and methods: a malformed id in a path is a 422 naming the parameter (as the same id in a body is), a
// method a known path does not support is a 405 with Allow (derived from the registered routes), and only a path
// no route knows is a 404.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { allowedMethods } from '../src/http/method-guard.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('http-paths');
  await h.api('PUT', '/v1/users/p1', { email: 'p1@example.com' });
});
after(() => h.stop());

const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];
const raw = (method: string, path: string, headers: Record<string, string> = {}) =>
  fetch(h.url + path, { method, headers: { authorization: 'Bearer test-key-0123456789abcdef', ...headers } });

describe('a malformed id in a path', () => {
  it('is a 422 naming the path parameter and saying what is allowed', async () => {
    const long = await h.api('PUT', `/v1/users/${'a'.repeat(129)}`, { email: 'a@b.co' });
    assert.deepEqual(error(long), [422, 'validation_failed', 'user_id']);
    assert.match(long.body.error.message, /1-128 characters/);
    assert.deepEqual(error(await h.api('GET', '/v1/users/j%C3%A9r%C3%B4me')), [422, 'validation_failed', 'user_id']);
    assert.deepEqual(error(await h.api('DELETE', '/v1/users/j%C3%A9r%C3%B4me')), [422, 'validation_failed', 'user_id']);
    assert.deepEqual(error(await h.api('POST', '/v1/users/bad%20id/devices', { platform: 'ios', token: 'f'.repeat(64) })), [422, 'validation_failed', 'user_id']);
    assert.deepEqual(error(await h.api('PUT', '/v1/users/bad%20id/preferences', { channels: {} })), [422, 'validation_failed', 'user_id']);
    const token = await h.api('DELETE', '/v1/users/p1/devices/not%20a%20token');
    assert.deepEqual(error(token), [422, 'validation_failed', 'token']);
    assert.match(token.body.error.message, /APNs|FCM/);

    const name = await h.api('PUT', '/v1/templates/bad%20name', { sms: { body: 'x' } });
    assert.deepEqual(error(name), [422, 'validation_failed', 'name']);
    assert.match(name.body.error.message, /1-64 characters/);
    assert.deepEqual(error(await h.api('GET', '/v1/templates/bad%20name')), [422, 'validation_failed', 'name']);
    assert.deepEqual(error(await h.api('DELETE', `/v1/templates/${'t'.repeat(65)}`)), [422, 'validation_failed', 'name']);
    assert.deepEqual(error(await h.api('POST', '/v1/templates/bad%20name/preview', {})), [422, 'validation_failed', 'name']);

    assert.deepEqual(error(await h.api('GET', '/v1/notifications/no%20such')), [422, 'validation_failed', 'id']);
    assert.deepEqual(error(await h.api('DELETE', `/v1/notifications/${'n'.repeat(65)}`)), [422, 'validation_failed', 'id']);
    const dead = await h.api('GET', '/v1/dead-letters/not-an-entry-id');
    assert.deepEqual(error(dead), [422, 'validation_failed', 'id']);
    assert.match(dead.body.error.message, /1732262400000-0/);
    assert.deepEqual(error(await h.api('DELETE', '/v1/dead-letters/x')), [422, 'validation_failed', 'id']);
  });

  it('is refused as the same id in a body is', async () => {
    const body = await h.api('POST', '/v1/notifications', { user_id: 'jérôme', content: { subject: 'S', text: 'x' } });
    assert.deepEqual(error(body), [422, 'validation_failed', 'user_id']);
    assert.deepEqual(error(await h.api('GET', '/v1/users/j%C3%A9r%C3%B4me')).slice(0, 2), [422, 'validation_failed']);
  });

  it('leaves well-formed ids alone: an unknown one is still a 404', async () => {
    assert.deepEqual(error(await h.api('GET', '/v1/users/nobody')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('GET', '/v1/templates/none')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('GET', '/v1/notifications/does-not-exist')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('GET', '/v1/dead-letters/1-0')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('DELETE', `/v1/users/p1/devices/${'f'.repeat(64)}`)), [404, 'not_found', undefined]);
    assert.equal((await h.api('GET', '/v1/users/p1')).status, 200);
  });
});

describe('a method a known path does not support', () => {
  it('is a 405 with Allow listing what the path supports', async () => {
    const cases: [string, string, string][] = [
      // GET is the history search (503 while history is off, as here).
      ['DELETE', '/v1/notifications', 'GET, HEAD, POST, OPTIONS'],
      ['PUT', '/v1/notifications', 'GET, HEAD, POST, OPTIONS'],
      ['GET', '/v1/notifications/abc/events', 'POST, OPTIONS'],
      ['POST', '/v1/users/p1/notifications', 'GET, HEAD, OPTIONS'],
      ['POST', '/v1/stats', 'GET, HEAD, OPTIONS'],
      ['PATCH', '/v1/templates/x', 'GET, HEAD, PUT, DELETE, OPTIONS'],
      ['GET', '/v1/notifications/batch', 'POST, OPTIONS'],
      ['PUT', '/v1/notifications/abc', 'GET, HEAD, DELETE, OPTIONS'],
      ['GET', '/v1/users/p1/devices', 'POST, OPTIONS'],
      ['GET', '/v1/templates/x/preview', 'POST, OPTIONS'],
      ['DELETE', '/v1/dead-letters/redrive', 'POST, OPTIONS'],
      ['PUT', '/v1/dead-letters', 'GET, HEAD, OPTIONS'],
      ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await h.api(method, path);
      assert.deepEqual(error(r), [405, 'method_not_allowed', undefined], `${method} ${path}`);
      assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
      assert.match(r.body.error.message, new RegExp(`allowed: ${allow}`), `${method} ${path}`);
    }
  });

  it('answers OPTIONS with the Allow header, and HEAD where GET is served', async () => {
    const options = await raw('OPTIONS', '/v1/users/p1');
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS');
    assert.equal((await raw('HEAD', '/healthz')).status, 200);
    assert.equal((await raw('HEAD', '/v1/users/p1')).status, 200);
  });

  it('leaves unknown paths a 404, and the API key is still checked on the routes', async () => {
    assert.deepEqual(error(await h.api('GET', '/v1/nothing-here')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('DELETE', '/v1/users/p1/nothing')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('POST', '/nope')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('GET', '/v1/notifications/')), [404, 'not_found', undefined], 'no route has the trailing slash');
    assert.deepEqual(error(await h.api('GET', '/v1/users/p1', undefined, { authorization: 'Bearer wrong-key-000000000000' })), [401, 'unauthorized', undefined]);
  });

  it('follows the registered routes: a route not registered here (the sandbox listing) is a 404 for every method', async () => {
    assert.deepEqual(error(await h.api('GET', '/v1/sandbox/messages')), [404, 'not_found', undefined]);
    assert.deepEqual(error(await h.api('DELETE', '/v1/sandbox/messages')), [404, 'not_found', undefined]);
  });

  it('derives Allow from any app\'s routes: fixed segments before parameters, middleware left out', () => {
    const app = new Hono();
    const sub = new Hono();
    app.use('*', async (_c, next) => next());
    sub.get('/:id', (c) => c.text('')).delete('/:id', (c) => c.text('')).post('/export', (c) => c.text(''));
    sub.put('/:id/parts/:part', (c) => c.text('')).get('/files/*', (c) => c.text(''));
    app.route('/things', sub);
    const allow = allowedMethods(() => app.routes);
    assert.deepEqual(allow('/things/42'), ['GET', 'HEAD', 'DELETE', 'OPTIONS']);
    assert.deepEqual(allow('/things/export'), ['POST', 'OPTIONS'], 'the fixed segment owns the path');
    assert.deepEqual(allow('/things/42/parts/a'), ['PUT', 'OPTIONS']);
    assert.deepEqual(allow('/things/files/a/b'), ['GET', 'HEAD', 'OPTIONS']);
    assert.equal(allow('/things'), undefined);
    assert.equal(allow('/other/42'), undefined);
  });
});
