// Retries, permanent failures, dead letters and their redrive, throttling that costs no attempt.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startHarness, type Harness } from './support/harness.js';

let h: Harness;
const finished = (id: string, timeoutMs = 8_000) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, timeoutMs, `notification ${id} to finish`);
const send = async (body: object) => (await h.api('POST', '/v1/notifications', { user_id: 'r1', ...body })).body.id as string;

before(async () => {
  h = await startHarness('retries', { env: { NOTIFY_RETRY_MAX_ATTEMPTS: '3', NOTIFY_RETRY_BASE_MS: '20', NOTIFY_RETRY_MAX_DELAY_MS: '100', NOTIFY_THROTTLE_PAUSE_MS: '200' } });
  await h.api('PUT', '/v1/users/r1', { email: 'r1@example.com', phone: '+14155550111' });
});
beforeEach(() => {
  h.fakes.resetBehavior();
  h.fakes.clear();
});
after(() => h.stop());

describe('retries', () => {
  it('retries a 5xx with backoff and records the attempts', async () => {
    h.fakes.behavior('ses', { failNext: 2, failWith: { status: 500 } });
    const n = await finished(await send({ channels: ['email'], content: { subject: 'S', text: 'x' } }));
    assert.equal(n.deliveries[0].status, 'sent');
    assert.equal(n.deliveries[0].attempts, 3);
    assert.equal(h.fakes.received('ses').length, 3);
  });

  it('fails a permanent error at once with the provider reason', async () => {
    h.fakes.behavior('ses', { failWith: { code: 'MessageRejected' } });
    const n = await finished(await send({ channels: ['email'], content: { subject: 'S', text: 'x' } }));
    assert.equal(n.deliveries[0].status, 'failed');
    assert.equal(n.deliveries[0].attempts, 1);
    assert.match(n.deliveries[0].last_error, /MessageRejected/);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(h.fakes.received('ses').length, 1, 'never retried');
  });

  it('does not spend attempts on throttling, and pauses the provider', async () => {
    h.fakes.behavior('ses', { failNext: 4, failWith: { code: 'TooManyRequestsException', retryAfterS: 0.1 } });
    const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => send({ channels: ['email'], content: { subject: `S${i}`, text: 'x' } })));
    for (const id of ids) {
      const n = await finished(id);
      assert.equal(n.deliveries[0].status, 'sent');
      assert.equal(n.deliveries[0].attempts, 1, 'a 429 is not an attempt');
    }
  });
});

describe('dead letters', () => {
  it('holds a delivery out of attempts with its history, and redrives it through the normal path', async () => {
    h.fakes.behavior('ses', { failWith: { status: 503 } });
    const id = await send({ channels: ['email'], content: { subject: 'Dead', text: 'x' } });
    const n = await finished(id);
    assert.equal(n.deliveries[0].status, 'failed');
    assert.equal(n.deliveries[0].attempts, 3);

    const list = await h.api('GET', '/v1/dead-letters?channel=email&reason=attempts_exhausted');
    const dead = list.body.dead_letters.find((d: any) => d.notification_id === id);
    assert.ok(dead, 'listed');
    assert.equal(dead.kind, 'delivery');
    assert.equal(dead.history.length, 3);
    assert.deepEqual(dead.history.map((a: any) => a.provider), ['ses', 'ses', 'ses']);
    assert.match(dead.history[0].code, /ServiceUnavailable|http_503/);
    assert.equal((await h.api('GET', '/v1/dead-letters?channel=sms')).body.dead_letters.some((d: any) => d.notification_id === id), false, 'filtered by channel');

    h.fakes.resetBehavior('ses');
    const redrive = await h.api('POST', '/v1/dead-letters/redrive', { ids: [dead.id] });
    assert.deepEqual(redrive.body, { redriven: 1, items: [{ id: dead.id, notification_id: id }] });
    const again = await h.api('POST', '/v1/dead-letters/redrive', { ids: [dead.id] });
    assert.equal(again.body.redriven, 0, 'a dead letter is redriven once');
    const sent = await eventually(async () => {
      const r = await h.api('GET', `/v1/notifications/${id}`);
      return r.body.deliveries[0].status === 'sent' ? r.body : undefined;
    });
    assert.equal(sent.deliveries[0].attempts, 1);
    assert.equal((await h.api('GET', `/v1/dead-letters/${dead.id}`)).status, 404);
  });

  it('dead-letters an account-level refusal (suspended account) so it can be redriven once the account is fixed', async () => {
    h.fakes.behavior('ses', { failWith: { code: 'AccountSuspendedException' } });
    const id = await send({ channels: ['email'], content: { subject: 'Suspended', text: 'x' } });
    const n = await finished(id);
    assert.equal(n.deliveries[0].status, 'failed');
    assert.equal(n.deliveries[0].attempts, 1, 'not retried');
    const dead = (await h.api('GET', '/v1/dead-letters?reason=provider_refused')).body.dead_letters.find((d: any) => d.notification_id === id);
    assert.ok(dead, 'listed as provider_refused');
    assert.deepEqual(dead.history.map((a: any) => [a.provider, a.code]), [['ses', 'AccountSuspendedException']]);
    h.fakes.resetBehavior('ses');
    assert.equal((await h.api('POST', '/v1/dead-letters/redrive', { ids: [dead.id] })).body.redriven, 1);
    await eventually(async () => ((await h.api('GET', `/v1/notifications/${id}`)).body.deliveries[0].status === 'sent' ? true : undefined));
  });

  it('deletes dead letters, and hides them from other tenants', async () => {
    h.fakes.behavior('ses', { failWith: { status: 503 } });
    const id = await send({ channels: ['email'], content: { subject: 'Del', text: 'x' } });
    await finished(id);
    const dead = (await h.api('GET', '/v1/dead-letters?channel=email')).body.dead_letters.find((d: any) => d.notification_id === id);
    const other = await fetch(`${h.url}/v1/dead-letters/${dead.id}`, { headers: { authorization: 'Bearer other-key-0123456789abcdef' } });
    assert.equal(other.status, 404);
    assert.equal((await h.api('DELETE', `/v1/dead-letters/${dead.id}`)).status, 204);
    assert.equal((await h.api('DELETE', `/v1/dead-letters/${dead.id}`)).status, 404);
    assert.equal((await h.api('GET', '/v1/dead-letters?limit=0')).status, 422);
  });
});
