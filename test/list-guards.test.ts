// Query parameters of the listings are checked (422 naming the parameter), and the bulk dead-letter operations need
// a selector or an explicit `all: true`: an empty body does not redrive or delete everything.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { sandboxProvidersConfig, startFakes, type Fakes } from '../src/fakes/index.js';
import { startService, type Service } from '../src/service.js';
import { API_KEY, eventually, serviceEnv } from './support/harness.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('list-guards');
let fakes: Fakes;
let service: Service;
let redis: Redis;
let url: string;
/** The limits the sandbox listing was asked for. */
const asked: number[] = [];

before(async () => {
  fakes = await startFakes();
  const config = loadConfig({ ...serviceEnv(prefix), NOTIFY_SANDBOX: 'off', NOTIFY_SNS_REGION: 'us-east-1' });
  const log = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));
  service = await startService({
    config, role: 'all', log, providers: sandboxProvidersConfig(fakes),
    sandboxMessages: async (_tenant, limit) => { asked.push(limit); return []; },
  });
  url = `http://127.0.0.1:${service.port}`;
  redis = new Redis(REDIS_URL);
});
after(async () => {
  redis.disconnect();
  await service.stop();
  await fakes.close();
  await dropPrefix(prefix);
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}
const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];
const deadLetters = async () => (await api('GET', '/v1/dead-letters?limit=500')).body.dead_letters as any[];
/** An ingest entry that does not validate: dead-lettered as invalid_entry for tenant acme. */
async function deadLetter(): Promise<void> {
  const before = (await deadLetters()).length;
  await redis.xadd(`${prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'x' }));
  await eventually(async () => ((await deadLetters()).length > before ? true : undefined), 5_000, 'a dead letter');
}

describe('GET /v1/sandbox/messages', () => {
  it('takes a limit of 1 to 1000, 100 when omitted', async () => {
    for (const [q, n] of [['', 100], ['?limit=1', 1], ['?limit=1000', 1000], ['?limit=37', 37]] as const) {
      const r = await api('GET', `/v1/sandbox/messages${q}`);
      assert.deepEqual([r.status, r.body, asked.at(-1)], [200, { messages: [] }, n], q);
    }
  });

  it('refuses any other limit with 422 naming it', async () => {
    const count = asked.length;
    for (const limit of ['x', '0', '1001', '1.5', '-1', '', '1e2', '0x10', '%20', '99999999999999999999']) {
      const r = await api('GET', `/v1/sandbox/messages?limit=${limit}`);
      assert.deepEqual(error(r), [422, 'validation_failed', 'limit'], `limit=${limit}`);
      assert.match(r.body.error.message, /1 to 1000/);
    }
    assert.deepEqual(error(await api('GET', '/v1/sandbox/messages?limt=5')), [422, 'validation_failed', 'limt'], 'an unknown parameter is named');
    assert.equal(asked.length, count, 'the fakes were not asked');
  });

  it('is a route like the others: a wrong method is a 405', async () => {
    const r = await api('DELETE', '/v1/sandbox/messages');
    assert.deepEqual([r.status, r.headers.get('allow')], [405, 'GET, HEAD, OPTIONS']);
  });
});

describe('GET /v1/dead-letters', () => {
  it('refuses a bad limit or cursor, naming it', async () => {
    for (const limit of ['x', '0', '501', '2.5', '', '1e2']) {
      const r = await api('GET', `/v1/dead-letters?limit=${limit}`);
      assert.deepEqual(error(r), [422, 'validation_failed', 'limit'], `limit=${limit}`);
      assert.match(r.body.error.message, /1 to 500/);
    }
    assert.deepEqual(error(await api('GET', '/v1/dead-letters?cursor=nope')), [422, 'validation_failed', 'cursor']);
    assert.deepEqual(error(await api('GET', '/v1/dead-letters?channel=fax')), [422, 'validation_failed', 'channel']);
    assert.deepEqual(error(await api('GET', '/v1/dead-letters?colour=red')), [422, 'validation_failed', 'colour']);
    assert.equal((await api('GET', '/v1/dead-letters?limit=10&cursor=1-0')).status, 200);
  });
});

describe('POST /v1/dead-letters/redrive and /delete', () => {
  it('need a selector or all: true; an empty body changes nothing', async () => {
    await deadLetter();
    const held = (await deadLetters()).map((d) => d.id);
    for (const op of ['redrive', 'delete']) {
      for (const body of [{}, { limit: 10 }, { all: false }]) {
        const r = await api('POST', `/v1/dead-letters/${op}`, body);
        assert.deepEqual(error(r), [422, 'validation_failed', 'all'], `${op} ${JSON.stringify(body)}`);
        assert.match(r.body.error.message, /ids, channel, reason or kind/);
      }
      const both = await api('POST', `/v1/dead-letters/${op}`, { all: true, kind: 'intake' });
      assert.deepEqual(error(both), [422, 'validation_failed', 'all'], `${op}: all with a filter is ambiguous`);
    }
    assert.deepEqual((await deadLetters()).map((d) => d.id), held, 'nothing was redriven or deleted');
  });

  it('redrive and delete everything (up to limit) with all: true', async () => {
    const held = (await deadLetters()).map((d) => d.id);
    const redriven = await api('POST', '/v1/dead-letters/redrive', { all: true });
    assert.deepEqual([redriven.status, redriven.body.items.map((i: any) => i.id)], [200, held]);
    // The entry is invalid again, so it comes back as a new dead letter.
    await eventually(async () => ((await deadLetters()).some((d) => !held.includes(d.id)) ? true : undefined), 5_000, 'the redriven entry back');
    await deadLetter();
    assert.ok((await deadLetters()).length >= 2);
    assert.deepEqual((await api('POST', '/v1/dead-letters/delete', { all: true, limit: 1 })).body, { deleted: 1 }, 'limit still bounds it');
    const rest = (await deadLetters()).length;
    assert.deepEqual((await api('POST', '/v1/dead-letters/delete', { all: true })).body, { deleted: rest });
    assert.deepEqual(await deadLetters(), []);
  });

  it('still take a filter alone', async () => {
    await deadLetter();
    assert.deepEqual((await api('POST', '/v1/dead-letters/delete', { kind: 'delivery' })).body, { deleted: 0 });
    assert.deepEqual((await api('POST', '/v1/dead-letters/delete', { kind: 'intake', reason: 'invalid_entry' })).body, { deleted: 1 });
  });
});
