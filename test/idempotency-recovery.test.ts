// Idempotency-Key across a Redis crash, on a redis-server of this test's own (AOF, appendfsync always): a request
// whose reservation (SET NX GET) ran but whose reply was lost meets its own reservation when ioredis re-sends the SET
// after reconnecting, and goes on (it used to answer 409 and leave every retry refused for the reservation's
// lifetime); a request that failed while Redis was down gives its reservation back once Redis is back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { DEFAULT_CONTROLS } from '../src/domain/controls.js';
import { decideReservation, doneValue, fingerprint, inFlightValue, keyHash } from '../src/domain/idempotency.js';
import { claimKeys, completion, releaseAll, settle, type ClaimOutcome } from '../src/http/idempotency.js';
import { NotificationStore } from '../src/store/notifications.js';
import { makeKeys } from '../src/streams/keys.js';
import { defineScripts } from '../src/streams/scripts.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { startRedisProxy, type RedisProxy } from './support/redis-proxy.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { testPrefix } from './support/redis.js';

let server: RedisServer;
let proxy: RedisProxy;
let direct: Redis;
let h: Harness;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']);
  proxy = await startRedisProxy(server.port);
  direct = new Redis(server.url);
  direct.on('error', () => undefined);
  h = await startHarness('idem-recovery', { role: 'ingress', env: { REDIS_URL: proxy.url } });
});
after(async () => {
  await h.stop();
  direct.disconnect();
  await proxy.close();
  await server.stop();
});

/** A store on its own connection that gives up on a command after one reconnection attempt (the service's waits 20). */
function quickStore(prefix: string): { store: NotificationStore; conn: Redis } {
  const conn = new Redis(server.url, { maxRetriesPerRequest: 1 });
  conn.on('error', () => undefined);
  defineScripts(conn);
  return { conn, store: new NotificationStore(conn, makeKeys(prefix), 60_000, DEFAULT_CONTROLS) };
}

const fresh = (o: ClaimOutcome | undefined) => {
  assert.equal(o?.kind, 'fresh', JSON.stringify(o));
  return (o as Extract<ClaimOutcome, { kind: 'fresh' }>).claim;
};

describe('Idempotency-Key across a Redis crash', () => {
  it('a reservation met again is its own only for the request that made it', () => {
    const fp = fingerprint({ user_id: 'u' });
    const mine = inFlightValue(fp);
    assert.deepEqual(decideReservation(mine, fp, mine), { kind: 'fresh' }, 'its own SET, re-sent after a reconnect');
    assert.deepEqual(decideReservation(mine, fp, inFlightValue(fp)), { kind: 'in_flight' }, 'another request with the same key');
    assert.deepEqual(decideReservation(mine, fp), { kind: 'in_flight' });
  });

  it('an accept that meets its own completion (accept.lua re-sent after a reconnect) is its own acceptance, not a replay', () => {
    const fp = fingerprint({ user_id: 'u' });
    const claim = { keyHash: keyHash('k'), fp, value: inFlightValue(fp) };
    const own = { id: 'n-1', status: 'accepted' };
    assert.deepEqual(settle({ completed: completion(claim, own).done }, own, claim), { response: own, replayed: false });
    const other = { id: 'n-0', status: 'accepted' };
    assert.deepEqual(settle({ completed: doneValue(fp, other) }, own, claim), { response: other, replayed: true });
  });

  it('a POST whose reservation ran just before Redis was killed -9 is accepted after the restart, and its retry replays it', async () => {
    const body = { user_id: 'crash', channels: ['push'], content: { title: 't', body: 'crash: once' } };
    // The reservation reaches Redis (and its AOF) but its reply never comes back: Redis dies first.
    proxy.holdReplies(`:idem:acme:${keyHash('crash-1')}`);
    const first = h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'crash-1' });
    const key = `${h.prefix}:idem:acme:${keyHash('crash-1')}`;
    await eventually(async () => (proxy.held && (await direct.get(key)) !== null ? true : undefined), 5_000, 'the reservation to be in Redis');
    await server.kill();
    proxy.dropAll();
    await server.restart();
    const r1 = await first;
    assert.equal(r1.status, 202, `the first request is accepted: ${JSON.stringify(r1.body)}`);
    const r2 = await h.api('POST', '/v1/notifications', body, { 'idempotency-key': 'crash-1' });
    assert.deepEqual([r2.status, r2.body.id, r2.headers.get('idempotent-replayed')], [202, r1.body.id, 'true']);
    assert.equal((await h.api('GET', `/v1/notifications/${r1.body.id}`)).status, 200);
  });

  it('a request that failed while Redis was down gives its reservation back without waiting, and a retry in this process is not refused', async () => {
    const { store, conn } = quickStore(testPrefix('idem-down'));
    try {
      const req = { key: 'down-1', body: { user_id: 'u', content: { body: 'down' } } };
      const [first] = await claimKeys(store, 'acme', [req]);
      const claim = fresh(first);
      await server.kill();
      await eventually(async () => (conn.status !== 'ready' ? true : undefined), 2_000, 'the connection to notice');
      const t = Date.now();
      await releaseAll(store, 'acme', [claim]); // the request answers 503: it gives its reservation back
      assert.ok(Date.now() - t < 1_000, `the failed request did not wait for Redis (${Date.now() - t} ms)`);
      await sleep(500); // the release could not be sent: the connection gave up on it
      await server.restart();
      // The retry comes while the connection is still reconnecting: its SET goes out first and meets the old reservation.
      const [retry] = await claimKeys(store, 'acme', [req]);
      const again = fresh(retry);
      assert.notEqual(again.value, claim.value);
    } finally {
      conn.disconnect();
    }
  });

  it('a reservation whose release failed while Redis was down is given back once Redis is back (for retries at other ingresses)', async () => {
    const prefix = testPrefix('idem-down2');
    const { store, conn } = quickStore(prefix);
    try {
      const req = { key: 'down-2', body: { user_id: 'u', content: { body: 'down 2' } } };
      const claim = fresh((await claimKeys(store, 'acme', [req]))[0]);
      await server.kill();
      await eventually(async () => (conn.status !== 'ready' ? true : undefined), 2_000, 'the connection to notice');
      await releaseAll(store, 'acme', [claim]);
      await sleep(500);
      await server.restart();
      const key = `${prefix}:idem:acme:${keyHash('down-2')}`;
      await eventually(async () => ((await direct.exists(key)) === 0 ? true : undefined), 5_000, 'the reservation to be given back');
    } finally {
      conn.disconnect();
    }
  });

  it('when reserving a batch fails part-way, the reservations already made are given back', async () => {
    const prefix = testPrefix('idem-part');
    const { store, conn } = quickStore(prefix);
    try {
      const items = [{ key: 'part-a', body: { n: 1 } }, { key: 'part-b', body: { n: 2 } }];
      // The second SET fails (its key holds a list); the first one has run by then.
      await direct.rpush(`${prefix}:idem:acme:${keyHash('part-b')}`, 'x');
      await assert.rejects(claimKeys(store, 'acme', items), /WRONGTYPE/);
      const a = `${prefix}:idem:acme:${keyHash('part-a')}`;
      await eventually(async () => ((await direct.exists(a)) === 0 ? true : undefined), 2_000, 'the first reservation to be given back');
      await direct.del(`${prefix}:idem:acme:${keyHash('part-b')}`);
      fresh((await claimKeys(store, 'acme', items))[0]);
    } finally {
      conn.disconnect();
    }
  });
});
