// Template mistakes surface at PUT (filters, syntax, with line and column), strict templates fail a render that
// outputs an undefined variable, and POST /v1/templates/{name}/preview renders with given params, sending nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, eventually, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('tpl-preview');
  await h.api('PUT', '/v1/users/sam', { phone: '+14155550123' });
});
after(() => h.stop());

const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field, r.body?.error?.message];
const finished = (id: string) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, 8_000, `notification ${id} to finish`);

describe('template mistakes at PUT', () => {
  it('refuses an unknown filter and bad syntax, saying where', async () => {
    assert.deepEqual(error(await h.api('PUT', '/v1/templates/t', { sms: { body: 'Hi\n{{ x | nosuchfilter }}' } })),
      [422, 'template_not_allowed', 'sms.body', 'sms.body: unknown filter "nosuchfilter" (line 2, column 8)']);
    assert.deepEqual(error(await h.api('PUT', '/v1/templates/t', { sms: { body: '{% for %}' } })),
      [422, 'template_syntax', 'sms.body', 'sms.body: unexpected token: %} (line 1, column 8)']);
    const open = await h.api('PUT', '/v1/templates/t', { email: { subject: 'Hi {{ name', text: 'x' } });
    assert.deepEqual(error(open).slice(0, 3), [422, 'template_syntax', 'email.subject']);
    assert.doesNotMatch(open.body.error.message, /unknown path/);
  });
});

describe('strict templates', () => {
  it('fail a render that outputs an undefined variable; lenient ones print nothing for it', async () => {
    const body = 'Hi {{ name }} / {{ code }}';
    const strict = await h.api('PUT', '/v1/templates/strict', { strict: true, sms: { body } });
    assert.equal(strict.status, 200);
    assert.equal(strict.body.strict, true);
    assert.equal((await h.api('PUT', '/v1/templates/lenient', { sms: { body } })).status, 200);
    h.fakes.clear();
    const s = await finished((await h.api('POST', '/v1/notifications', { user_id: 'sam', template: 'strict', params: { name: 'Sam' } })).body.id);
    assert.equal(s.deliveries[0].status, 'failed');
    assert.match(s.deliveries[0].last_error, /strict template: a value output here is undefined or null \(line 1, column 17\)/);
    const l = await finished((await h.api('POST', '/v1/notifications', { user_id: 'sam', template: 'lenient', params: { name: 'Sam' } })).body.id);
    assert.equal(l.deliveries[0].status, 'sent');
    const sent = h.fakes.received('twilio');
    assert.deepEqual(sent.map((m) => m.body.Body), ['Hi Sam / '], 'only the lenient one was sent');
  });
});

describe('preview', () => {
  it('renders every part with the given params and sends nothing', async () => {
    await h.api('PUT', '/v1/templates/p', { sms: { body: 'Code {{ code }}' }, email: { subject: 'Hi {{ name }}', html: '<b>{{ name }}</b>' } });
    h.fakes.clear();
    const r = await h.api('POST', '/v1/templates/p/preview', { params: { code: 42, name: '<Sam>' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.rendered, { sms: { body: 'Code 42' }, email: { subject: 'Hi <Sam>', html: '<b>&lt;Sam&gt;</b>' } });
    assert.ok(r.body.version);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(h.fakes.received().length, 0);
  });

  it('says why a render fails, and answers 404 for an unknown template and 422 for a bad body', async () => {
    const strict = await h.api('POST', '/v1/templates/strict/preview', { params: { name: 'Sam' } });
    assert.deepEqual(error(strict).slice(0, 3), [422, 'template_render_failed', 'sms']);
    assert.match(strict.body.error.message, /^sms: render failed: strict template/);
    await h.api('PUT', '/v1/templates/dyn', { sms: { body: '{{ range[k] }}' } });
    const dyn = await h.api('POST', '/v1/templates/dyn/preview', { params: { k: 'constructor' } });
    assert.deepEqual(error(dyn).slice(0, 3), [422, 'template_render_failed', 'sms']);
    assert.match(dyn.body.error.message, /looking up "constructor" is not allowed/);
    assert.equal((await h.api('POST', '/v1/templates/nope/preview', {})).status, 404);
    assert.deepEqual(error(await h.api('POST', '/v1/templates/p/preview', { params: 'x' })).slice(0, 2), [422, 'validation_failed']);
    assert.deepEqual(error(await h.api('POST', '/v1/templates/p/preview', { parms: {} })).slice(0, 2), [422, 'validation_failed']);
  });
});
