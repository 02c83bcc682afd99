// Idempotency-Key across two ingress processes on a Redis of this test's own (it pauses that Redis' writes): N
// concurrent identical requests split between them give one notification and one send; a repeat while the first is
// still being accepted is 409; the same for a batch item's idempotency_key, and 422 when its body differs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startFakes, type Fakes } from '../src/fakes/index.js';
import { API_KEY, eventually, OTHER_TENANT_KEY, serviceEnv } from './support/harness.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { testPrefix } from './support/redis.js';

let server: RedisServer;
let redis: Redis;
let fakes: Fakes;
let ingresses: string[] = [];
const procs: ServiceProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url + path, {
    method, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() as any, headers: res.headers };
}
const post = (i: number, body: unknown, key?: string, headers: Record<string, string> = {}) =>
  call(ingresses[i]!, 'POST', '/v1/notifications', body, { ...(key !== undefined && { 'idempotency-key': key }), ...headers });
const smsBodies = (prefix: string) => fakes.received('twilio').map((m) => m.body.Body as string).filter((b) => b.startsWith(prefix));
const finished = (id: string) => eventually(async () => {
  const r = await call(ingresses[0]!, 'GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, 10_000, `notification ${id} to finish`);

/**
 * Pauses this Redis' writes, starts `first` and waits until its Idempotency-Key reservation (a SET) is held up in
 * Redis, then starts `second` and waits the same for it, then lets writes go: the reservations run in the order they
 * arrived, both before the first request can go on to accept — so the second meets the first still in flight.
 */
async function whileFirstIsAccepted<A, B>(first: () => Promise<A>, second: () => Promise<B>): Promise<[A, B]> {
  const heldSets = async () => (await redis.call('CLIENT', 'LIST') as string).split('\n')
    .filter((l) => / name=cmd /.test(l) && / flags=\w*b/.test(l) && / cmd=set /.test(l)).length;
  await redis.call('CLIENT', 'PAUSE', '10000', 'WRITE');
  try {
    const a = first();
    await eventually(async () => ((await heldSets()) === 1 ? true : undefined), 5_000, 'the first reservation to wait');
    const b = second();
    await eventually(async () => ((await heldSets()) === 2 ? true : undefined), 5_000, 'the second reservation to wait');
    await redis.call('CLIENT', 'UNPAUSE');
    return await Promise.all([a, b]);
  } finally {
    await redis.call('CLIENT', 'UNPAUSE');
  }
}

before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
  fakes = await startFakes();
  const env = serviceEnv(testPrefix('idem'), { REDIS_URL: server.url, NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info' });
  const ingress = [spawnService(['--role', 'ingress'], env), spawnService(['--role', 'ingress'], env)];
  procs.push(...ingress, spawnService(['--role', 'worker'], env));
  ingresses = await Promise.all(ingress.map(async (p) => `http://127.0.0.1:${(await p.waitForLog((l) => l.msg === 'HTTP ingress listening')).port}`));
  await procs[2]!.waitForLog((l) => l.msg === 'worker started');
  assert.equal((await call(ingresses[0]!, 'PUT', '/v1/users/idem', { phone: '+14155550130' })).status, 200);
});
after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  redis.disconnect();
  await fakes.close();
  await server.stop();
});

describe('Idempotency-Key across two ingress processes', () => {
  it('N concurrent identical requests split between them: one notification, one send; a later repeat replays it', async () => {
    const body = { user_id: 'idem', channels: ['sms'], content: { body: 'idem: once' } };
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2, body, 'order-7')));
    const ok = rs.filter((r) => r.status === 202);
    assert.ok(ok.length >= 1);
    assert.equal(new Set(ok.map((r) => r.body.id)).size, 1, 'every 202 names the same notification');
    for (const r of rs.filter((x) => x.status !== 202)) assert.deepEqual([r.status, r.body.error.code], [409, 'idempotency_key_in_flight']);
    const id = ok[0]!.body.id as string;

    for (const i of [0, 1]) {
      const again = await post(i, body, 'order-7');
      assert.deepEqual([again.status, again.body, again.headers.get('idempotent-replayed')], [202, { id, status: 'accepted' }, 'true']);
    }
    const other = await post(1, { ...body, content: { body: 'idem: changed' } }, 'order-7');
    assert.deepEqual([other.status, other.body.error.code], [422, 'idempotency_key_reused']);
    const otherTenant = await post(0, body, 'order-7', { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.equal(otherTenant.status, 202);
    assert.notEqual(otherTenant.body.id, id, 'keys are per tenant');

    assert.equal((await finished(id)).status, 'sent');
    await sleep(300);
    assert.deepEqual(smsBodies('idem: '), ['idem: once'], 'exactly one send');
  });

  it('a repeat on the other ingress while the first is still being accepted is 409; once accepted it replays', async () => {
    const body = { user_id: 'idem', channels: ['sms'], content: { body: 'idem: held' } };
    const [first, second] = await whileFirstIsAccepted(() => post(0, body, 'k-held'), () => post(1, body, 'k-held'));
    assert.equal(first.status, 202);
    assert.deepEqual([second.status, second.body.error.code], [409, 'idempotency_key_in_flight']);
    const again = await post(1, body, 'k-held');
    assert.deepEqual([again.status, again.body.id], [202, first.body.id]);
    await finished(first.body.id);
    await sleep(300);
    assert.deepEqual(smsBodies('idem: held'), ['idem: held']);
  });

  it('a batch item\'s idempotency_key: 409 while another request holds it, 422 with another body, its original once accepted', async () => {
    const body = { user_id: 'idem', channels: ['sms'], content: { body: 'idem: item' } };
    const batch = (items: unknown[]) => call(ingresses[1]!, 'POST', '/v1/notifications/batch', { notifications: items });
    const [single, during] = await whileFirstIsAccepted(() => post(0, body, 'k-item'), () => batch([
      { ...body, idempotency_key: 'k-item' },
      { ...body, content: { body: 'idem: other' }, idempotency_key: 'k-item' },
    ]));
    assert.equal(single.status, 202);
    assert.equal(during.status, 202);
    assert.deepEqual(during.body.results.map((r: any) => r.error?.code), ['idempotency_key_in_flight', 'idempotency_key_reused']);
    assert.deepEqual([during.body.accepted, during.body.rejected], [0, 2]);

    const after = await batch([{ ...body, idempotency_key: 'k-item' }, { ...body, content: { body: 'idem: other' }, idempotency_key: 'k-item' }]);
    assert.deepEqual(after.body.results.map((r: any) => r.id ?? r.error.code), [single.body.id, 'idempotency_key_reused']);
    await finished(single.body.id);
    await sleep(300);
    assert.deepEqual(smsBodies('idem: item'), ['idem: item']);
    assert.deepEqual(smsBodies('idem: other'), []);
  });
});
