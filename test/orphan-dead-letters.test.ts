// An XADDed entry that names no configured tenant (issue 12, item 3): dead-lettered as before, and findable by an
// operator — a warn line naming the entry and the tenant, notify_intake_entries_total{reason}, the dead-letter
// stream itself, and in the sandbox (its tenant `sandbox` the only one) GET /v1/dead-letters — but never shown to
// another tenant.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { decodeDeadLetter, matches, orphanOwner, SANDBOX_TENANT } from '../src/domain/dead-letter.js';
import { loadConfig } from '../src/config.js';
import { API_KEY, eventually, OTHER_TENANT_KEY, startHarness, type Harness } from './support/harness.js';
import { metric } from './support/metrics.js';
import { REDIS_URL } from './support/redis.js';

let redis: Redis;
before(() => {
  redis = new Redis(REDIS_URL);
});
after(() => redis.disconnect());

const content = { title: 'Hello', body: 'From XADD', subject: 'Hello' };
const deadLines = (h: Harness, entry: string) => h.logs.filter((l) => l.entry === entry && String(l.msg).startsWith('ingest entry dead-lettered'));

describe('an entry for a tenant nobody has, in the sandbox', () => {
  let h: Harness;
  before(async () => {
    // The sandbox's tenants as it starts: `sandbox` alone (here with the test key).
    h = await startHarness('orphans-sandbox', { env: { NOTIFY_API_KEYS: `${SANDBOX_TENANT}:${API_KEY}` } });
  });
  after(() => h.stop());

  it('the sandbox tenant is the one config gives the default key', () => {
    const config = loadConfig({ REDIS_URL, NOTIFY_SANDBOX: 'on' });
    assert.deepEqual([...new Set(config.apiKeys.values())], [SANDBOX_TENANT]);
  });

  it('is listed in the sandbox tenant\'s dead letters, logged and counted', async () => {
    const entry = (await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', id: 'o-1', user_id: 'jane', content })))!;
    const bad = (await redis.xadd(`${h.prefix}:in`, '*', 'payload', '{not json'))!;
    const listed = await eventually(async () => {
      const r = await h.api('GET', '/v1/dead-letters?kind=intake');
      return r.body.dead_letters.length === 2 ? r.body.dead_letters as any[] : undefined;
    }, 8_000, 'both dead letters listed for the sandbox tenant');
    const orphan = listed.find((d) => d.reason === 'unknown_tenant');
    assert.ok(orphan, 'reason unknown_tenant');
    assert.equal(orphan.kind, 'intake');
    assert.match(orphan.error, /tenant "acme" is not configured/);
    assert.equal(orphan.tenant, SANDBOX_TENANT);
    assert.equal(orphan.orphan, undefined, 'internal flag not shown');
    assert.equal((await h.api('GET', `/v1/dead-letters/${orphan.id}`)).status, 200);
    assert.equal((await h.api('GET', '/v1/dead-letters?reason=unknown_tenant')).body.dead_letters.length, 1);
    assert.ok(listed.some((d) => d.reason === 'invalid_json'), 'an entry with no readable tenant too');

    const [line] = deadLines(h, entry);
    assert.ok(line, 'a log line names the entry');
    assert.equal(line.level, 40, 'at warn');
    assert.equal(line.tenant, 'acme', 'and the unknown tenant');
    assert.equal(line.dead_letter, orphan.id, 'and the dead letter');
    assert.equal(line.reason, 'unknown_tenant');
    assert.match(String(line.msg), /names no configured tenant.*GET \/v1\/dead-letters of tenant sandbox/);
    assert.equal(deadLines(h, bad)[0]?.reason, 'invalid_json');
    assert.equal(await metric(h.url, 'notify_intake_entries_total', 'result="dead_lettered",reason="unknown_tenant"'), 1);
    assert.equal(await metric(h.url, 'notify_intake_entries_total', 'result="dead_lettered",reason="invalid_json"'), 1);

    // Redriven, it comes back as what it is (still an unknown tenant); no record appears under the sandbox tenant.
    const r = await h.api('POST', '/v1/dead-letters/redrive', { ids: [orphan.id] });
    assert.equal(r.body.redriven, 1);
    await eventually(async () => {
      const again = (await h.api('GET', '/v1/dead-letters?reason=unknown_tenant')).body.dead_letters as any[];
      return again.length === 1 && again[0].id !== orphan.id ? true : undefined;
    }, 8_000, 'the redriven entry dead-lettered again');
    assert.equal((await h.api('GET', '/v1/notifications/o-1')).status, 404, 'no record under the sandbox tenant');
    assert.deepEqual((await h.api('POST', '/v1/dead-letters/delete', { reason: 'unknown_tenant' })).body, { deleted: 1 });
  });
});

describe('an entry for a tenant nobody has, with several tenants', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness('orphans-tenants');
  });
  after(() => h.stop());

  it('is shown to no tenant, but the operator finds it by the log line, the metric and the stream', async () => {
    const entry = (await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'ghost', user_id: 'jane', content })))!;
    // One of acme's own, for contrast: it stays acme's alone.
    const mine = (await redis.xadd(`${h.prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane' })))!;
    const line = await eventually(async () => deadLines(h, entry)[0], 8_000, 'the log line');
    assert.equal(line.level, 40);
    assert.equal(line.tenant, 'ghost');
    assert.equal(line.reason, 'unknown_tenant');
    assert.equal(line.shown_to, undefined);
    assert.match(String(line.msg), /no tenant sees it/);
    await eventually(async () => deadLines(h, mine)[0], 8_000, 'acme\'s entry dead-lettered');

    const acme = (await h.api('GET', '/v1/dead-letters')).body.dead_letters as any[];
    assert.deepEqual(acme.map((d) => d.reason), ['invalid_entry'], 'acme sees its own only');
    const other = (await h.api('GET', '/v1/dead-letters', undefined, { authorization: `Bearer ${OTHER_TENANT_KEY}` })).body.dead_letters as any[];
    assert.deepEqual(other, [], 'the other tenant sees neither');
    assert.equal((await h.api('GET', `/v1/dead-letters/${line.dead_letter}`)).status, 404);
    assert.equal(await metric(h.url, 'notify_intake_entries_total', 'result="dead_lettered",reason="unknown_tenant"'), 1);

    // What the README tells an operator to run: the newest dead letters, with reason, error and source entry.
    const all = await redis.xrevrange(`${h.prefix}:dead`, '+', '-', 'COUNT', 20);
    const found = all.find(([, f]) => f[f.indexOf('source_id') + 1] === entry);
    assert.ok(found, 'in the dead-letter stream by its source_id');
    assert.equal(found[0], line.dead_letter);
    const fields = found[1];
    assert.equal(fields[fields.indexOf('reason') + 1], 'unknown_tenant');
    assert.equal(fields.includes('owner'), false, 'no owner: nobody but the operator');
  });
});

describe('who sees an intake dead letter (pure)', () => {
  const fields = (tenant: string, extra: Record<string, string> = {}) => ({
    kind: 'intake', reason: 'unknown_tenant', error: `tenant "${tenant}" is not configured`, source_id: '1-0',
    payload: JSON.stringify({ payload: JSON.stringify({ tenant, id: 'n-1', user_id: 'u' }) }), ...extra,
  });
  it('the sandbox alone is shown orphans; a deployment with several tenants shows them to none', () => {
    assert.equal(orphanOwner('ghost', new Set([SANDBOX_TENANT])), SANDBOX_TENANT);
    assert.equal(orphanOwner(undefined, new Set([SANDBOX_TENANT])), SANDBOX_TENANT);
    assert.equal(orphanOwner('ghost', new Set(['acme', 'other'])), undefined);
    assert.equal(orphanOwner('ghost', new Set(['acme'])), undefined, 'a production tenant is never given another\'s entries');
    assert.equal(orphanOwner(SANDBOX_TENANT, new Set([SANDBOX_TENANT])), undefined, 'not an orphan');
  });
  it('without an owner, the dead letter is the tenant it named: listed for it once that tenant is configured', () => {
    const d = decodeDeadLetter('2-0', fields('ghost'));
    assert.ok(matches(d, 'ghost', {}));
    assert.ok(!matches(d, 'acme', {}));
    const owned = decodeDeadLetter('2-0', fields('ghost', { owner: SANDBOX_TENANT }));
    assert.ok(matches(owned, SANDBOX_TENANT, {}) && !matches(owned, 'ghost', {}), 'the owner\'s alone');
    assert.equal(owned.notification_id, 'n-1');
  });
});
