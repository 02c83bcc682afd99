// Per-tenant admission limits: the pure bucket maths, and the ingress answering 429 + Retry-After (422 over the burst)
// from a bucket kept in Redis, shared by two ingress processes' worth of services.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { admit, limitFor, parseTenantLimits, retryAfterSeconds } from '../src/domain/tenant-limit.js';
import { createLogger } from '../src/log.js';
import { startService, type Service } from '../src/service.js';
import { API_KEY, OTHER_TENANT_KEY, startHarness, eventually, type Harness } from './support/harness.js';

describe('tenant limits (pure)', () => {
  it('parses the default, overrides and off', () => {
    const l = parseTenantLimits('100', '1000', 'acme:500/2000, internal:off,slow:0.5/3');
    assert.deepEqual(limitFor(l, 'x'), { rate: 100, burst: 1000 });
    assert.deepEqual(limitFor(l, 'acme'), { rate: 500, burst: 2000 });
    assert.equal(limitFor(l, 'internal'), undefined);
    assert.deepEqual(limitFor(l, 'slow'), { rate: 0.5, burst: 3 });
    assert.equal(limitFor(parseTenantLimits('off', '1000', ''), 'x'), undefined);
    assert.equal(limitFor(parseTenantLimits('0', '1000', 'acme:5/10'), 'x'), undefined);
    assert.deepEqual(limitFor(parseTenantLimits('0', '1000', 'acme:5/10'), 'acme'), { rate: 5, burst: 10 });
    assert.throws(() => parseTenantLimits('fast', '10', ''), /rate "fast"/);
    assert.throws(() => parseTenantLimits('10', '1.5', ''), /burst "1.5"/);
    assert.throws(() => parseTenantLimits('10', '10', 'acme=5/10'), /tenant:rate\/burst/);
  });

  it('takes all of a cost or nothing, refills at the rate up to the burst, and says how long to wait', () => {
    const limit = { rate: 10, burst: 20 };
    const a = admit(undefined, 15, limit, 1_000);
    assert.ok(a.ok);
    assert.deepEqual(a.state, { tokens: 5, at: 1_000 });
    const b = admit(a.state, 10, limit, 1_100); // 5 + 1 refilled: 4 short → 400 ms
    assert.deepEqual(b, { ok: false, never: false, waitMs: 400 });
    const c = admit(a.state, 10, limit, 1_500); // 5 + 5
    assert.ok(c.ok);
    assert.deepEqual(c.state, { tokens: 0, at: 1_500 });
    const full = admit({ tokens: 0, at: 0 }, 20, limit, 1_000_000); // refills no further than the burst
    assert.ok(full.ok);
    assert.equal(full.state.tokens, 0);
    assert.deepEqual(admit(undefined, 21, limit, 0), { ok: false, never: true });
    const back = admit({ tokens: 5, at: 2_000 }, 6, limit, 1_000); // a clock that went back refills nothing
    assert.deepEqual(back, { ok: false, never: false, waitMs: 100 });
    assert.deepEqual([retryAfterSeconds(1), retryAfterSeconds(1000), retryAfterSeconds(1001)], [1, 1, 2]);
  });
});

const THIRD_KEY = 'third-key-0123456789abcdef';
const FOURTH_KEY = 'fourth-key-0123456789abcdef';
const content = { title: 'Hi', body: 'Hello', subject: 'Hi', text: 'Hello' };
const to = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ user_id: `u${from + i}` }));
const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];

describe('per-tenant admission at the ingress (real Redis, real HTTP)', () => {
  let h: Harness;
  let second: Service;
  before(async () => {
    // A rate so slow (1 per 1000 s) that nothing refills while the test runs: every answer is known in advance.
    h = await startHarness('tenant-limits', {
      env: {
        NOTIFY_API_KEYS: `acme:${API_KEY},other:${OTHER_TENANT_KEY},third:${THIRD_KEY},fourth:${FOURTH_KEY}`,
        NOTIFY_TENANT_RATE: '0.001', NOTIFY_TENANT_BURST: '5', NOTIFY_TENANT_LIMITS: 'other:off,third:0.001/4,fourth:0.001/4',
      },
    });
    // A second ingress on the same Redis and prefix: the bucket must hold across both.
    second = await startService({ config: h.config, role: 'ingress', log: createLogger('silent') });
  });
  after(async () => {
    await second?.stop();
    await h?.stop();
  });

  it('counts recipients, answers 429 with Retry-After when over the limit, and leaves what was accepted alone', async () => {
    const first = await h.api('POST', '/v1/notifications', { to: to(3), content });
    assert.equal(first.status, 202);
    const over = await h.api('POST', '/v1/notifications', { to: to(3, 3), content });
    assert.deepEqual(error(over), [429, 'tenant_rate_limited', undefined]);
    assert.match(over.body.error.message, /limit of 0\.001 deliveries\/s \(burst 5\): this request asks for 3/);
    // 2 tokens left, 1 short at 0.001/s: about 1000 s.
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter > 990 && retryAfter <= 1000, `Retry-After ${retryAfter}`);
    // A refused request took nothing: what is left still admits 2 recipients.
    assert.equal((await h.api('POST', '/v1/notifications', { to: to(2, 6), content })).status, 202);
    assert.deepEqual(error(await h.api('POST', '/v1/notifications', { user_id: 'u9', content })), [429, 'tenant_rate_limited', undefined]);
    // The accepted notification goes on as usual.
    const view = await eventually(async () => {
      const r = await h.api('GET', `/v1/notifications/${first.body.id as string}`);
      return r.status === 200 && new Set(r.body.deliveries.map((d: { user_id: string }) => d.user_id)).size === 3 ? r.body : undefined;
    }, 10_000, 'the accepted notification planned for its 3 recipients');
    assert.notEqual(view.status, 'accepted');
    // Another tenant is not limited by this one's bucket (and `other` has no limit at all).
    const other = await h.api('POST', '/v1/notifications', { to: to(50), content }, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.equal(other.status, 202);
  });

  it('refuses with 422 a request bigger than the burst, naming the limit; a batch costs the sum of its items', async () => {
    const big = await h.api('POST', '/v1/notifications', { to: to(6), content }, { authorization: `Bearer ${THIRD_KEY}` });
    assert.deepEqual(error(big), [422, 'too_many_recipients', 'to']);
    assert.match(big.body.error.message, /asks for 6 deliveries.*burst 4/);
    const batch = (items: unknown[]) => h.api('POST', '/v1/notifications/batch', { notifications: items }, { authorization: `Bearer ${THIRD_KEY}` });
    // 2 + 3 recipients (the invalid item costs nothing) is over the burst of 4.
    const tooBig = await batch([{ to: to(2), content }, { to: to(3, 2), content }, { content }]);
    assert.deepEqual(error(tooBig), [422, 'too_many_recipients', 'notifications']);
    const ok = await batch([{ to: to(2), content }, { user_id: 'x1', content }, { content }]);
    assert.equal(ok.status, 202);
    assert.deepEqual([ok.body.accepted, ok.body.rejected], [2, 1]);
    const refused = await batch([{ to: to(2), content }]);
    assert.deepEqual(error(refused), [429, 'tenant_rate_limited', undefined]);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
  });

  it('holds one bucket across two ingress processes, atomically', async () => {
    const urls = [h.url, `http://127.0.0.1:${second.port}`];
    const post = (url: string, key: string, i: number) => fetch(`${url}/v1/notifications`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: `multi${i}`, content }),
    }).then((r) => r.status);
    // `fourth` may ask for 4 at once: of 12 concurrent single requests spread over both ingresses, exactly 4 pass.
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => post(urls[i % 2]!, FOURTH_KEY, i)));
    assert.deepEqual([statuses.filter((s) => s === 202).length, statuses.filter((s) => s === 429).length], [4, 8]);
    // `other` has no limit: it passes on both.
    assert.deepEqual(await Promise.all(urls.map((u, i) => post(u, OTHER_TENANT_KEY, i))), [202, 202]);
  });
});
