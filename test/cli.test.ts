// The notify command line (src/cli) as a child process against the real service running in this process: its
// requests, its JSON output and its exit codes (0 ok, 1 the service answered an error, 2 usage, 3 unreachable).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { makeKeys } from '../src/streams/keys.js';
import { API_KEY, eventually, OTHER_TENANT_KEY, startHarness, type Harness } from './support/harness.js';
import { dropSchema, historySchema, PG_URL } from './support/history.js';
import { CLUSTER_SEEDS, REDIS_URL, testRedis } from './support/redis.js';
import { freePort } from './support/redis-server.js';

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname;
const BIN = new URL('../bin/notify.js', import.meta.url).pathname;
const onCluster = CLUSTER_SEEDS ? 'the CLI reads one Redis (--redis-url), not a cluster' : false;
const { schema, env } = historySchema('cli');
let h: Harness;
let redis: Redis;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as the one JSON document --json prints. */
  json: any;
}

/** Runs the CLI from its sources (`node --import tsx src/cli/main.ts …`), pointed at the harness by the environment. */
function cli(args: string[], opts: { input?: string; env?: Record<string, string>; onStderr?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      env: {
        ...process.env, NOTIFY_URL: h.url, NOTIFY_API_KEY: API_KEY, REDIS_URL, NOTIFY_PREFIX: h.config.prefix,
        DATABASE_URL: '', ...opts.env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(opts.input ?? '');
  });
}

const ok = (r: Run) => assert.equal(r.code, 0, `exit 0, got ${r.code}: ${r.stderr}${r.stdout}`);
const deadLetters = async (query: string) => (await h.api('GET', `/v1/dead-letters?limit=500&${query}`)).body.dead_letters as any[];
const post = async (body: object) => {
  const r = await h.api('POST', '/v1/notifications', body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.id as string;
};

before(async () => {
  h = await startHarness('cli', { env });
  redis = testRedis();
  dir = await mkdtemp(join(tmpdir(), 'notify-cli-'));
});
after(async () => {
  redis?.disconnect();
  await h?.stop();
  await dropSchema(schema);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('notify', () => {
  it('users put --file, patch and get', async () => {
    const file = join(dir, 'user.json');
    await writeFile(file, JSON.stringify({ email: 'cli1@example.com', phone: '+14155550177' }));
    const put = await cli(['users', 'put', 'cli1', '--file', file, '--json']);
    ok(put);
    assert.equal(put.json.email, 'cli1@example.com');
    ok(await cli(['users', 'patch', 'cli1', '--locale', 'fr-FR']));
    const got = await cli(['users', 'get', 'cli1', '--json']);
    ok(got);
    assert.deepEqual([got.json.user_id, got.json.email, got.json.phone, got.json.locale], ['cli1', 'cli1@example.com', '+14155550177', 'fr-FR']);
    const human = await cli(['users', 'get', 'cli1']);
    assert.match(human.stdout, /^email\s+cli1@example\.com$/m);
  });

  it('tail --count: the API key\'s tenant\'s events for a notification sent meanwhile, not another tenant\'s', { skip: onCluster }, async () => {
    let following!: () => void;
    const ready = new Promise<void>((r) => { following = r; });
    const run = cli(['tail', '--count', '3', '--timeout-ms', '15000', '--json'], { onStderr: (s) => s.includes('following') && following() });
    await ready;
    const theirs = await h.api('POST', '/v1/notifications', { user_id: 'cli1', content: { body: 'not yours' } }, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.equal(theirs.status, 202);
    const id = await post({ user_id: 'cli1', channels: ['sms'], content: { body: 'followed' } });
    const r = await run;
    ok(r);
    assert.equal(r.json.events.length, 3);
    assert.ok(r.json.events.every((e: any) => e.tenant === 'acme' && e.notification_id === id), JSON.stringify(r.json.events));
    assert.equal(r.json.events[0].kind, 'accepted');
    assert.ok(r.json.events.some((e: any) => e.kind === 'delivery' && e.key === 'cli1:sms'));
  });

  it('send prints the id; status --wait shows it sent, with its deliveries', async () => {
    const sent = await cli(['send', 'cli1', '--channel', 'email', '--content', '{"subject":"Hi","text":"Hello"}']);
    ok(sent);
    const id = sent.stdout.trim();
    assert.match(id, /^[A-Za-z0-9_-]{1,64}$/, 'only the id on stdout');
    const status = await cli(['status', id, '--wait', '--json']);
    ok(status);
    assert.equal(status.json.status, 'sent');
    assert.equal(status.json.deliveries.length, 1);
    assert.ok(['sent', 'delivered'].includes(status.json.deliveries[0].status), status.json.deliveries[0].status);
    const human = await cli(['status', id]);
    assert.match(human.stdout, /^status\s+sent$/m);
    assert.match(human.stdout, /^USER\s+CHANNEL\s+PROVIDER\s+TO\s+STATUS/m);
    assert.match(human.stdout, /^cli1\s+email\s+ses\s+c\*+@example\.com\s+(sent|delivered)/m);

    // The same again with an Idempotency-Key and --file: the second answers the first's id.
    const file = join(dir, 'send.json');
    await writeFile(file, JSON.stringify({ user_id: 'cli1', channels: ['sms'], content: { body: 'once' } }));
    const first = await cli(['send', '--file', file, '--idempotency-key', 'cli-once', '--json']);
    const again = await cli(['send', '--file', file, '--idempotency-key', 'cli-once', '--json']);
    ok(first);
    ok(again);
    assert.equal(again.json.id, first.json.id);
    assert.equal(again.json.replayed, true);
  });

  it('search: the history\'s notifications, by the filters given', async () => {
    const id = await post({ user_id: 'cli1', channels: ['sms'], content: { body: 'archived' }, category: 'cli-search' });
    await eventually(async () => {
      const r = await h.api('GET', '/v1/notifications?category=cli-search');
      return r.status === 200 && r.body.notifications.some((n: any) => n.id === id && n.status === 'sent') ? true : undefined;
    }, 15_000, 'the notification archived');
    const found = await cli(['search', '--user', 'cli1', '--category', 'cli-search', '--status', 'sent', '--since', new Date(Date.now() - 60_000).toISOString(), '--limit', '5', '--json']);
    ok(found);
    assert.deepEqual(found.json.notifications.map((n: any) => n.id), [id]);
    assert.equal(found.json.next_cursor, null);
    const human = await cli(['search', '--category', 'cli-search']);
    assert.match(human.stdout, new RegExp(`^${id}\\s+\\S+\\s+sent\\s+sms:sent`, 'm'));
    const bad = await cli(['search', '--status', 'lost', '--json']);
    assert.equal(bad.code, 1);
    assert.equal(bad.json.error.field, 'status');
  });

  it('templates push: each <name>.json PUT; a refused one is reported with its field and line, exit 1, the rest stored', async () => {
    const tpl = await mkdtemp(join(dir, 'templates-'));
    await writeFile(join(tpl, 'cli-good.json'), JSON.stringify({ sms: { body: 'Hi {{ name }}' } }));
    await writeFile(join(tpl, 'cli-bad.json'), JSON.stringify({ sms: { body: 'Hi\n{{ x | nosuchfilter }}' } }));
    await writeFile(join(tpl, 'README.md'), 'not a template');
    const r = await cli(['templates', 'push', tpl, '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual([r.json.pushed, r.json.refused], [1, 1]);
    const bad = r.json.results.find((x: any) => x.name === 'cli-bad');
    assert.deepEqual([bad.ok, bad.error.code, bad.error.field], [false, 'template_not_allowed', 'sms.body']);
    assert.match(bad.error.message, /nosuchfilter.*line 2/);
    assert.equal(r.json.results.find((x: any) => x.name === 'cli-good').ok, true);
    assert.equal((await h.api('GET', '/v1/templates/cli-good')).body.sms.body, 'Hi {{ name }}');
    const human = await cli(['templates', 'push', tpl]);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^FAIL\s+cli-bad\.json\s+template_not_allowed: sms\.body: unknown filter "nosuchfilter" \(line 2, column 8\)$/m);
    assert.match(human.stdout, /^ok\s+cli-good\.json\s+version \S+$/m);
  });

  it('dead-letters list, show, redrive (with a count on stderr) and delete (asks first)', async () => {
    h.fakes.behavior('ses', { failWith: { code: 'AccountSuspendedException' } });
    const ids = [await post({ user_id: 'cli1', channels: ['email'], content: { subject: 'R1', text: 'x' } }),
      await post({ user_id: 'cli1', channels: ['email'], content: { subject: 'R2', text: 'x' } })];
    await eventually(async () => ((await deadLetters('reason=provider_refused')).length === 2 ? true : undefined), 8_000, 'two dead letters');
    h.fakes.resetBehavior();

    const list = await cli(['dead-letters', 'list', '--reason', 'provider_refused', '--json']);
    ok(list);
    assert.deepEqual(list.json.dead_letters.map((d: any) => d.notification_id).sort(), [...ids].sort());
    const one = list.json.dead_letters[0];
    const show = await cli(['dead-letters', 'show', one.id, '--json']);
    ok(show);
    assert.deepEqual([show.json.id, show.json.reason, show.json.channel], [one.id, 'provider_refused', 'email']);
    assert.ok(show.json.history.length >= 1);
    assert.match((await cli(['dead-letters', 'list'])).stdout, /^ID\s+DEAD_AT\s+KIND\s+REASON/m);

    const redrive = await cli(['dead-letters', 'redrive', '--reason', 'provider_refused', '--batch', '1', '--json']);
    ok(redrive);
    assert.deepEqual([redrive.json.selected, redrive.json.redriven], [2, 2]);
    assert.match(redrive.stderr, /^redriven 1\/2$/m, 'a count per batch (stderr is not a terminal: plain lines)');
    assert.match(redrive.stderr, /^redriven 2\/2$/m);
    for (const id of ids) ok(await cli(['status', id, '--wait']));
    assert.equal((await deadLetters('reason=provider_refused')).length, 0);

    // An ingest entry that cannot be used: an intake dead letter to delete.
    await redis.xadd(makeKeys(h.config.prefix).ingest, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'cli1' }));
    await eventually(async () => ((await deadLetters('kind=intake')).length === 1 ? true : undefined), 5_000, 'an intake dead letter');
    const refused = await cli(['dead-letters', 'delete', '--kind', 'intake'], { input: 'n\n' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Delete dead letter \S+\? \[y\/N\]/);
    assert.equal((await deadLetters('kind=intake')).length, 1, 'kept');
    const deleted = await cli(['dead-letters', 'delete', '--kind', 'intake', '--yes', '--json']);
    ok(deleted);
    assert.deepEqual(deleted.json, { selected: 1, deleted: 1 });
    assert.equal((await deadLetters('kind=intake')).length, 0);
    const nothing = await cli(['dead-letters', 'redrive']);
    assert.equal(nothing.code, 2, 'no selector is a usage error');
  });

  it('exit codes: 1 with the service\'s error, 2 for usage, 3 when nothing answers', async () => {
    const missing = await cli(['status', 'no-such-id', '--json']);
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.json, { error: { code: 'not_found', message: 'no such notification', status: 404 } });
    assert.match(missing.stderr, /404 not_found: no such notification/);
    const invalid = await cli(['users', 'put', 'cli1', '--phone', '555']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /422 validation_failed \(field phone\)/);
    const unauthorized = await cli(['users', 'get', 'cli1'], { env: { NOTIFY_API_KEY: 'wrong-key-0123456789' } });
    assert.equal(unauthorized.code, 1);
    assert.match(unauthorized.stderr, /401 unauthorized/);

    assert.equal((await cli(['send', '--no-such-option'])).code, 2);
    const usage = await cli(['send', 'cli1', '--json']);
    assert.equal(usage.code, 2, 'neither --template nor --content');
    assert.equal(usage.json.error.code, 'usage');
    assert.equal((await cli(['send', 'cli1', '--content', '{not json'])).code, 2);

    const closed = await freePort();
    const down = await cli(['status', 'x', '--url', `http://127.0.0.1:${closed}`, '--json']);
    assert.equal(down.code, 3);
    assert.equal(down.json.error.code, 'unreachable');
    assert.match(down.stderr, /cannot reach the service at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  it('doctor: the service, the key, Redis (eviction, durability) and PostgreSQL, one line each', { skip: onCluster }, async () => {
    const r = await cli(['doctor', '--database-url', PG_URL, '--json']);
    const state = Object.fromEntries(r.json.checks.map((c: any) => [c.name, c.state]));
    assert.deepEqual(
      [state.service, state.ready, state['api key'], state.redis, state.eviction, state.postgresql],
      ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'], JSON.stringify(r.json.checks),
    );
    assert.ok(['ok', 'warn'].includes(state.durability));
    assert.equal(r.code, r.json.ok ? 0 : 1);
    assert.equal(r.json.ok, true);
    const bad = await cli(['doctor', '--redis-url', `redis://127.0.0.1:${await freePort()}`], { env: { NOTIFY_API_KEY: 'wrong-key-0123456789' } });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^FAIL\s+api key\s+refused/m);
    assert.match(bad.stdout, /^FAIL\s+redis\s+cannot reach Redis/m);
    assert.match(bad.stdout, /^skip\s+postgresql/m);
  });

  it('bin/notify.js runs it (npx notify)', async () => {
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, '--help']);
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: notify /m);
    for (const c of ['send', 'status', 'search', 'tail', 'dead-letters', 'users', 'templates', 'doctor']) assert.match(r.out, new RegExp(`^  ${c} `, 'm'));
  });
});
