// Hostile and mistaken bodies get a 422 naming the field and what is allowed: params nested past the bound (which
// once overflowed the stack into a 500, and turned a whole batch into one), unknown keys, nested `data`, and a batch
// item's reused Idempotency-Key. What was accepted beside them is left alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonBoundsProblem } from '../src/domain/json-bounds.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness('input-errors');
  await h.api('PUT', '/v1/users/ann', { phone: '+14155550111' });
});
after(() => h.stop());

const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];
const post = (body: unknown) => h.api('POST', '/v1/notifications', body);
/** `{"a":{"a":…{}}}` `levels` objects deep, built as text so nothing recursive makes it. */
const nested = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
const rawPost = (path: string, text: string) => h.api('POST', path, text);

describe('params nested or sized past the bounds', () => {
  it('measures depth and JSON size without recursion (pure)', () => {
    const bounds = { maxDepth: 32, maxBytes: 16_384 };
    assert.equal(jsonBoundsProblem(JSON.parse(nested(32)), bounds), undefined);
    assert.deepEqual(jsonBoundsProblem(JSON.parse(nested(33)), bounds), { kind: 'depth' });
    assert.deepEqual(jsonBoundsProblem(JSON.parse(nested(100_000)), bounds), { kind: 'depth' }, 'no stack overflow');
    for (const v of [{ a: [1, null, 'é"x', true, { b: -1.5e-7 }] }, { s: 'x'.repeat(1000) }, {}, { a: [] }]) {
      const bytes = Buffer.byteLength(JSON.stringify(v));
      assert.equal(jsonBoundsProblem(v, { maxDepth: 32, maxBytes: bytes }), undefined, JSON.stringify(v));
      assert.deepEqual(jsonBoundsProblem(v, { maxDepth: 32, maxBytes: bytes - 1 }), { kind: 'size' }, JSON.stringify(v));
    }
  });

  it('answers 422 naming params, not 500, for a single notification', async () => {
    const text = `{"user_id":"ann","content":{"body":"x"},"params":${nested(20_000)}}`;
    const r = await rawPost('/v1/notifications', text);
    assert.deepEqual(error(r), [422, 'validation_failed', 'params']);
    assert.match(r.body.error.message, /nested at most 32 levels/);
    const big = await post({ user_id: 'ann', content: { body: 'x' }, params: { s: 'x'.repeat(17_000) } });
    assert.deepEqual(error(big), [422, 'validation_failed', 'params']);
    assert.match(big.body.error.message, /16 KiB/);
    assert.equal((await post({ user_id: 'ann', template: 'none', params: JSON.parse(nested(31)) })).body.error.field, 'template',
      'params within the bound pass the check');
  });

  it('refuses only that item of a batch; the others are accepted', async () => {
    const text = `{"notifications":[{"user_id":"ann","content":{"body":"one"}},`
      + `{"user_id":"ann","content":{"body":"x"},"params":${nested(20_000)}},{"user_id":"ann","content":{"body":"three"}}]}`;
    const r = await rawPost('/v1/notifications/batch', text);
    assert.equal(r.status, 202);
    assert.deepEqual([r.body.accepted, r.body.rejected], [2, 1]);
    assert.equal(r.body.results[1].error.field, 'notifications.1.params');
    for (const i of [0, 2]) assert.equal((await h.api('GET', `/v1/notifications/${r.body.results[i].id}`)).status, 200);
  });
});

describe('every 4xx names its field and says what is allowed', () => {
  it('an unknown top-level key is the field, with the keys allowed', async () => {
    const r = await post({ user_id: 'ann', content: { body: 'x' }, chanels: ['sms'] });
    assert.deepEqual(error(r), [422, 'validation_failed', 'chanels']);
    assert.match(r.body.error.message, /^chanels: not allowed here \(allowed: .*\bchannels\b.*\)/);
    const nestedKey = await post({ user_id: 'ann', content: { body: 'x', bdy: 'y' } });
    assert.deepEqual(error(nestedKey), [422, 'validation_failed', 'content.bdy']);
  });

  it('nested data names the key and says data is flat, with its limits', async () => {
    const r = await post({ user_id: 'ann', content: { body: 'x' }, data: { nested: { a: 1 } } });
    assert.deepEqual(error(r), [422, 'validation_failed', 'data.nested']);
    assert.match(r.body.error.message, /data is flat: at most 50 keys .* up to 1024 characters/);
    const badKey = await post({ user_id: 'ann', content: { body: 'x' }, data: { 'a b': 'x' } });
    assert.deepEqual(error(badKey).slice(0, 2), [422, 'validation_failed']);
    assert.match(badKey.body.error.message, /not a valid data key/);
    const many = await post({ user_id: 'ann', content: { body: 'x' }, data: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) });
    assert.deepEqual(error(many), [422, 'validation_failed', 'data']);
  });

  it("a batch item's reused idempotency_key names that item's key", async () => {
    const first = await h.api('POST', '/v1/notifications/batch', { notifications: [{ user_id: 'ann', content: { body: 'a' }, idempotency_key: 'k-batch-1' }] });
    assert.equal(first.body.accepted, 1);
    const again = await h.api('POST', '/v1/notifications/batch', {
      notifications: [{ user_id: 'ann', content: { body: 'fine' } }, { user_id: 'ann', content: { body: 'different' }, idempotency_key: 'k-batch-1' }],
    });
    assert.deepEqual([again.body.results[1].error.code, again.body.results[1].error.field], ['idempotency_key_reused', 'notifications.1.idempotency_key']);
    assert.match(again.body.results[1].error.message, /a different request needs a new key/);
    const header = await post({ user_id: 'ann', content: { body: 'h1' } });
    assert.equal(header.status, 202);
    const h1 = await h.api('POST', '/v1/notifications', { user_id: 'ann', content: { body: 'one' } }, { 'idempotency-key': 'k-head-1' });
    assert.equal(h1.status, 202);
    const h2 = await h.api('POST', '/v1/notifications', { user_id: 'ann', content: { body: 'two' } }, { 'idempotency-key': 'k-head-1' });
    assert.deepEqual(error(h2), [422, 'idempotency_key_reused', 'Idempotency-Key']);
  });
});
