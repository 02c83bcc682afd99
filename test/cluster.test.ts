// The service on a Redis Cluster of its own (3 masters, 3 replicas): every script loads and runs on it, every key the
// service writes sits in the one slot of its hash tag, strict durability holds there, and a master killed with
// SIGKILL is replaced by its replica while the service keeps accepting and delivering.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ALL_SCRIPTS } from '../src/streams/scripts.js';
import { inspectRedis } from '../src/streams/durability.js';
import { mastersOf } from '../src/streams/redis.js';
import { assessDurability } from '../src/domain/durability.js';
import { eventually, serviceEnv, startHarness } from './support/harness.js';
import { spawnService } from './support/process.js';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.js';
import { testRedis } from './support/redis.js';

let cluster: RedisCluster;
let client: Redis;

before(async () => {
  cluster = await startRedisCluster(['--appendonly', 'yes', '--appendfsync', 'always']);
  client = testRedis(cluster.seeds);
  await new Promise((r) => client.once('ready', r));
});
after(async () => {
  client.disconnect();
  await cluster.stop();
});

const env = () => ({ REDIS_CLUSTER_NODES: cluster.seeds, NOTIFY_CLAIM_IDLE_MS: '1000' });
const user = { email: 'c@example.com', phone: '+15550001111' };
const devices = [{ platform: 'ios', token: 'a'.repeat(64) }, { platform: 'android', token: 'fcm_' + 'A1b2'.repeat(30) }];
const content = { subject: 'S', text: 'hello', body: 'hello', title: 'T' };

describe('on a Redis Cluster', () => {
  it('loads every Lua script on every master', async () => {
    const masters = mastersOf(client);
    assert.equal(masters.length, 3);
    for (const node of masters) {
      for (const [name, lua] of Object.entries(ALL_SCRIPTS)) {
        const sha = await node.script('LOAD', lua);
        assert.equal(sha, createHash('sha1').update(lua).digest('hex'), name);
      }
    }
  });

  it('delivers on all four channels with every key in the slot of its hash tag', async () => {
    const h = await startHarness('cluster', { env: env() });
    try {
      assert.match(h.prefix, /^\{test-cluster-[0-9a-f]+\}$/);
      assert.equal((await h.api('PUT', '/v1/users/c1', user)).status, 200);
      for (const d of devices) assert.equal((await h.api('POST', '/v1/users/c1/devices', d)).status, 201);
      const res = await h.api('POST', '/v1/notifications', { user_id: 'c1', content }, { 'idempotency-key': 'k-1' });
      assert.equal(res.status, 202);
      const again = await h.api('POST', '/v1/notifications', { user_id: 'c1', content }, { 'idempotency-key': 'k-1' });
      assert.equal(again.body.id, res.body.id);
      const done = await eventually(async () => {
        const n = (await h.api('GET', `/v1/notifications/${res.body.id}`)).body;
        return n.deliveries?.length === 4 && n.deliveries.every((d: { status: string }) => ['sent', 'delivered'].includes(d.status)) ? n : undefined;
      }, 10_000, 'all four deliveries sent');
      assert.deepEqual(done.deliveries.map((d: { provider: string }) => d.provider).sort(), ['apns', 'fcm', 'ses', 'twilio']);
      // Every key is on the master of the tag's slot, and no other master holds one.
      const owner = await cluster.masterPort(`${h.prefix}:in`);
      const slot = Number(await client.call('CLUSTER', 'KEYSLOT', `${h.prefix}:in`));
      for (const node of mastersOf(client)) {
        const [, keys] = await node.scan('0', 'MATCH', `${h.prefix}*`, 'COUNT', 10_000);
        if (node.options.port === owner) {
          assert.ok(keys.length > 5, `the tag's master holds the service's keys (${keys.length})`);
          for (const k of keys) assert.equal(Number(await node.call('CLUSTER', 'KEYSLOT', k)), slot, k);
        } else {
          assert.deepEqual(keys, [], `master ${node.options.port} holds none`);
        }
      }
      assert.equal(h.logs.filter((l) => /CROSSSLOT|non local key|MOVED/.test(JSON.stringify(l))).length, 0);
    } finally {
      await h.stop();
    }
  });

  it('answers 202 in strict durability mode, what every master promises (appendfsync always)', async () => {
    const facts = await inspectRedis(client);
    assert.equal(facts.cluster, true);
    assert.equal(assessDurability(facts).strict, 'fsync-always');
    assert.match(assessDurability(facts).summary, /failover may lose writes/);
    const h = await startHarness('cluster-strict', { env: { ...env(), NOTIFY_DURABILITY: 'strict' } });
    try {
      await h.api('PUT', '/v1/users/s1', { email: 's@example.com' });
      const res = await h.api('POST', '/v1/notifications', { user_id: 's1', channels: ['email'], content });
      assert.equal(res.status, 202);
      await eventually(async () => ((await h.api('GET', `/v1/notifications/${res.body.id}`)).body.status === 'sent' ? true : undefined), 10_000);
    } finally {
      await h.stop();
    }
  });

  it('sends what a worker killed with SIGKILL had in hand, once another worker claims it', async () => {
    const h = await startHarness('cluster-kill', { role: 'ingress', env: env() });
    const workerEnv = serviceEnv(h.prefix, {
      ...env(), NOTIFY_SANDBOX: 'on', NOTIFY_SANDBOX_URL: h.fakes.httpUrl, NOTIFY_LOG_LEVEL: 'info',
    });
    const started = (w: ReturnType<typeof spawnService>) => w.waitForLog((l) => l.msg === 'worker started');
    const first = spawnService(['--role', 'worker'], workerEnv);
    let second: ReturnType<typeof spawnService> | undefined;
    try {
      await started(first);
      await h.api('PUT', '/v1/users/k1', { email: 'k@example.com' });
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) {
        const res = await h.api('POST', '/v1/notifications', { user_id: 'k1', channels: ['email'], content: { ...content, text: `k-${i}` } });
        assert.equal(res.status, 202);
        ids.push(res.body.id as string);
        if (i === 100) await first.stop('SIGKILL');
      }
      second = spawnService(['--role', 'worker'], workerEnv);
      await started(second);
      const status = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body?.status as string | undefined;
      for (const id of ids) await eventually(async () => ((await status(id)) === 'sent' ? true : undefined), 20_000, `${id} sent`);
      const texts = h.fakes.received('ses').map((m) => JSON.stringify(m.body));
      const copies = ids.filter((_, i) => texts.filter((t) => t.includes(`k-${i}"`)).length > 1).length;
      // A send the killed worker made but had not recorded is made again by the one that claims it: at most those.
      console.log(`worker kill: ${ids.length} sent, ${copies} sent twice (in flight when the worker died)`);
      assert.ok(copies <= 256, `${copies} copies`);
    } finally {
      await first.stop('SIGKILL');
      await second?.stop();
      await h.stop();
    }
  });

  it('keeps accepting and delivering when the master of its slot is killed and its replica takes over', async () => {
    const h = await startHarness('cluster-failover', { env: env(), providers: {} });
    try {
      await h.api('PUT', '/v1/users/f1', { email: 'f@example.com' });
      const send = async (i: number) => {
        const res = await h.api('POST', '/v1/notifications', { user_id: 'f1', channels: ['email'], content: { ...content, text: `n-${i}` } });
        return res.status === 202 ? (res.body.id as string) : undefined;
      };
      const before = (await Promise.all(Array.from({ length: 50 }, (_, i) => send(i)))).filter((id): id is string => !!id);
      const victim = await cluster.masterPort(`${h.prefix}:in`);
      await cluster.nodes.find((n) => n.port === victim)!.kill();
      // While the replica is promoted (node timeout 2 s) requests may fail; those answered 202 must not be lost
      // unless the master died before replicating them (reported, not asserted: replication is asynchronous).
      const during: string[] = [];
      for (let i = 0; i < 20; i++) {
        const id = await send(100 + i).catch(() => undefined);
        if (id) during.push(id);
        await new Promise((r) => setTimeout(r, 100));
      }
      await cluster.settled(`${h.prefix}:in`);
      assert.notEqual(await cluster.masterPort(`${h.prefix}:in`), victim);
      const afterIds = (await Promise.all(Array.from({ length: 30 }, (_, i) => send(200 + i)))).filter((id): id is string => !!id);
      assert.equal(afterIds.length, 30, 'every request after the failover is accepted');
      const status = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body?.status as string | undefined;
      for (const id of afterIds) await eventually(async () => ((await status(id)) === 'sent' ? true : undefined), 20_000, `${id} sent after the failover`);
      const accepted = [...before, ...during];
      const sent = (await Promise.all(accepted.map(status))).filter((s) => s === 'sent').length;
      const texts = h.fakes.received('ses').map((m) => JSON.stringify(m.body));
      const copies = afterIds.filter((id, i) => texts.filter((t) => t.includes(`n-${200 + i}"`)).length > 1).length;
      console.log(`failover: ${accepted.length} accepted before/while the master died, ${sent} sent, ${accepted.length - sent} not (lost with the master or still in flight); ${copies} of the later ones sent twice`);
      assert.equal(copies, 0);
    } finally {
      await h.stop();
    }
  });
});
