// The template sandbox over HTTP: escapes are refused at PUT with 422, and a template that got past PUT (stored by an
// older version) fails its deliveries at render time, sending nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { makeKeys } from '../src/streams/keys.js';
import { templateVersion } from '../src/store/templates.js';
import { startHarness, eventually, type Harness } from './support/harness.js';
import { REDIS_URL } from './support/redis.js';
import { DYNAMIC_ESCAPES, STATIC_ESCAPES } from './support/escapes.js';

let h: Harness;
let redis: Redis;
before(async () => {
  h = await startHarness('tpl-sandbox');
  redis = new Redis(REDIS_URL);
  await h.api('PUT', '/v1/users/jane', { email: 'jane@example.com' });
});
after(async () => {
  redis.disconnect();
  await h.stop();
});

const finished = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, 8_000, `notification ${id} to finish`);

describe('template sandbox over HTTP', () => {
  it('refuses the issue\'s escapes and the whole static corpus with 422 template_not_allowed, naming the part', async () => {
    const issue = await h.api('PUT', '/v1/templates/x', { email: { subject: 's', text: '{{ range.constructor("return process.env.NOTIFY_API_KEYS")() }}' } });
    assert.equal(issue.status, 422);
    assert.equal(issue.body.error.code, 'template_not_allowed');
    assert.equal(issue.body.error.field, 'email.text');
    assert.match(issue.body.error.message, /^email\.text: "constructor" is not allowed in templates \(line 1, column 9\)$/);
    for (const source of STATIC_ESCAPES) {
      const r = await h.api('PUT', '/v1/templates/x', { sms: { body: source } });
      assert.equal(r.status, 422, source);
      assert.ok(['template_not_allowed', 'template_syntax'].includes(r.body.error.code), `${source}: ${r.body.error.code}`);
    }
    assert.equal((await h.api('GET', '/v1/templates/x')).status, 404, 'nothing was stored');
  });

  it('fails at render time a template that got past PUT, and sends nothing', async () => {
    const parts = { email: { subject: 'hi', text: '{{ cycler.constructor("return process.getBuiltinModule(\'child_process\').execSync(\'id\').toString()")() }}' } };
    const stored = { name: 'old', version: templateVersion(parts), parts, created_at: new Date().toISOString(), updated_at: new Date().toISOString() };
    await redis.set(makeKeys(h.prefix).template('acme', 'old'), JSON.stringify(stored));
    h.fakes.clear();
    const post = await h.api('POST', '/v1/notifications', { user_id: 'jane', template: 'old' });
    assert.equal(post.status, 202);
    const n = await finished(post.body.id);
    assert.deepEqual(n.deliveries.map((d: any) => [d.channel, d.status]), [['email', 'failed']]);
    assert.match(n.deliveries[0].last_error, /"constructor" is not allowed in templates/);
    assert.equal(h.fakes.received().length, 0);
  });

  it('stores a template whose escape only shows with its params, then fails that delivery while rendering', async () => {
    const source = DYNAMIC_ESCAPES.find((s) => s.startsWith('{{ range[k][k]('))!;
    assert.equal((await h.api('PUT', '/v1/templates/dyn', { email: { subject: 's', text: source } })).status, 200);
    h.fakes.clear();
    const post = await h.api('POST', '/v1/notifications', { user_id: 'jane', template: 'dyn', params: { k: 'constructor' } });
    const n = await finished(post.body.id);
    assert.equal(n.deliveries[0].status, 'failed');
    assert.match(n.deliveries[0].last_error, /looking up "constructor" is not allowed in templates/);
    assert.equal(h.fakes.received().length, 0);
  });
});
