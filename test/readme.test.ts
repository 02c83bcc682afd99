// What the README promises a newcomer (issue 12, items 3 and 14): its quick start and XADD example run as written
// against `npm start`'s sandbox and end as it says; its examples stay valid (send_at within the horizon, the fakes'
// control port and values); docker-compose, the Dockerfile, the engines and CI cover Node 22.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig, SANDBOX_API_KEY } from '../src/config.js';
import { parseBehaviorRequest } from '../src/fakes/behavior.js';
import { SES_OUTCOMES, TWILIO_OUTCOMES } from '../src/fakes/feedback-events.js';
import { PROVIDERS } from '../src/domain/types.js';
import { eventually } from './support/harness.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const file = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const README = file('README.md');
const shellBlocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const quickStart = shellBlocks.find((b) => b.includes('sandbox-key'))!;
const walkthrough = shellBlocks.find((b) => b.includes('/_fake/behavior'))!;
const xadd = shellBlocks.find((b) => /redis-cli XADD notify:in/.test(b))!;
/** The JSON bodies (`-d '…'`) of the curl commands in a block that hit `path`, in order. */
const bodies = (block: string, path: string): unknown[] => block.replace(/\\\n\s*/g, ' ').split('\n')
  .filter((l) => l.includes(path))
  .map((l) => l.replace(/'\$\([^)]*\)'/g, 'X')) // a value the shell fills in: '$(date …)'
  .flatMap((l) => [...l.matchAll(/-d '([^']*)'/g)].map((m) => JSON.parse(m[1]!) as unknown));
const sandboxConfig = () => loadConfig({ REDIS_URL, NOTIFY_SANDBOX: 'on' });

describe('README examples', () => {
  it('the quick start captures the id and says what the sandbox shows (sent, and delivered where feedback comes)', () => {
    assert.ok(quickStart, 'a quick start block');
    assert.match(quickStart, /ID=\$\(curl [^\n]*\\\n[^\n]*\| jq -r \.id\)/, 'ID=$(curl … | jq -r .id)');
    assert.match(quickStart, /notifications\/\$ID/);
    assert.doesNotMatch(quickStart, /<id>/, 'nothing to fill in by hand');
    assert.match(quickStart, /the email and the SMS "delivered"/);
    assert.match(README, /its tenant is `sandbox`/);
  });

  it('every send_at is within the schedule horizon: relative dates, no fixed one that goes stale', () => {
    const horizonMs = sandboxConfig().controls.scheduleHorizonMs;
    const literal = [...README.matchAll(/"send_at":\s*"(\d{4}-\d\d-\d\dT[^"]*)"/g)].map((m) => m[1]!);
    for (const at of literal) assert.ok(Date.parse(at) - Date.now() <= horizonMs && Date.parse(at) > Date.now(), `send_at ${at} is within the horizon`);
    assert.ok(README.includes(`"send_at":"'$(date -u -d '+1 hour' +%FT%TZ)'"`), 'the quick start schedules one an hour ahead');
    assert.ok(3_600_000 < horizonMs);
  });

  it('the XADD example names the sandbox\'s tenant and no template the quick start lacks', () => {
    const payload = JSON.parse(/payload '([^']*)'/.exec(xadd)![1]!) as Record<string, unknown>;
    assert.ok(new Set(sandboxConfig().apiKeys.values()).has(payload.tenant as string), `tenant ${String(payload.tenant)} exists in sandbox mode`);
    assert.equal(payload.template, undefined);
    assert.equal(payload.user_id, 'jane', 'the quick start\'s user');
  });

  it('the failure walkthrough: the fakes\' port, valid behaviours, and the values the fakes take', () => {
    const port = sandboxConfig().sandbox.httpPort;
    assert.match(walkthrough, new RegExp(`^FAKES=localhost:${port}$`, 'm'));
    assert.match(README, new RegExp(`\`NOTIFY_SANDBOX_HTTP_PORT\` \\(default ${port}`));
    const behaviors = bodies(walkthrough, '/_fake/behavior');
    assert.ok(behaviors.length >= 2);
    for (const b of behaviors) parseBehaviorRequest(b);
    for (const o of bodies(walkthrough, '/_fake/outcomes') as { provider: 'ses' | 'twilio'; outcome: string }[]) {
      assert.ok((o.provider === 'ses' ? SES_OUTCOMES : TWILIO_OUTCOMES as readonly string[]).includes(o.outcome));
    }
    const section = README.slice(README.indexOf('**Try a failure.**'));
    for (const v of [...PROVIDERS, ...SES_OUTCOMES, ...TWILIO_OUTCOMES]) assert.ok(section.includes(`\`${v}\``), `${v} is named`);
  });
});

describe('deployment files', () => {
  it('docker-compose keeps Redis off the network and checks the service\'s /readyz', () => {
    const compose = file('docker-compose.yml');
    for (const m of compose.matchAll(/ports: \[([^\]]*)\]/g)) {
      for (const p of m[1]!.split(',')) assert.match(p.trim(), /^"127\.0\.0\.1:\d+:\d+"$/, `published on loopback only: ${p}`);
    }
    const notify = compose.slice(compose.indexOf('\n  notify:'), compose.indexOf('\n  jaeger:'));
    assert.match(notify, /healthcheck:\n\s+test: \[[^\n]*\/readyz/);
  });

  it('Node 22 in the image, the engines and CI', () => {
    assert.deepEqual([...file('Dockerfile').matchAll(/^FROM node:(\d+)/gm)].map((m) => m[1]), ['22', '22']);
    assert.match(file('Dockerfile'), /^HEALTHCHECK .*\n.*\/readyz/m);
    const engines = (JSON.parse(file('package.json')) as { engines: { node: string } }).engines.node;
    assert.match(engines, /\^22\.0\.0/);
    assert.match(engines, />=24\.0\.0/);
    assert.match(file('.ci/run'), /NODE_MAJOR=22[\s\S]*npm pack --silent "node-linux-\$NODE_ARCH@\$NODE_MAJOR"[\s\S]*\nnpm test\n$/);
  });
});

// The quick start and the XADD example against the sandbox `npm start` runs (`node dist/main.js`'s sources), as written:
// only the prefix and the ports are the test's.
describe('the quick start against the sandbox', () => {
  const prefix = testPrefix('readme');
  let svc: ServiceProcess;
  let port: number;
  let redis: Redis;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method, headers: { authorization: `Bearer ${SANDBOX_API_KEY}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  before(async () => {
    port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    svc = spawnService([], { REDIS_URL, NOTIFY_PREFIX: prefix, NOTIFY_HTTP_PORT: String(port), NOTIFY_SANDBOX_HTTP_PORT: '0', NOTIFY_SANDBOX_APNS_PORT: '0' });
    await svc.waitForLog((l) => l.msg === 'notify started');
    // Delivery feedback needs the fake SNS subscription (confirmed at start).
    await svc.waitForLog((l) => l.msg === 'SNS subscription confirmed', 10_000);
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    redis?.disconnect();
    await svc?.stop();
    await dropPrefix(prefix);
  });

  it('the quick start\'s requests end as the README says', async () => {
    const [user, device, notification] = [bodies(quickStart, '/v1/users/jane -H')[0], bodies(quickStart, '/devices')[0], bodies(quickStart, 'XPOST localhost:3000/v1/notifications')[0]];
    assert.equal((await api('PUT', '/v1/users/jane', user)).status, 200);
    const token = 'ab'.repeat(32); // $(printf 'ab%.0s' {1..32})
    assert.equal((await api('POST', '/v1/users/jane/devices', { ...(device as object), token })).status, 201);
    const post = await api('POST', '/v1/notifications', notification);
    assert.deepEqual([post.status, post.body.status], [202, 'accepted']);
    const n = await eventually(async () => {
      const r = (await api('GET', `/v1/notifications/${post.body.id}`)).body;
      const settled = r.deliveries?.filter((d: any) => d.channel === 'push' ? d.status === 'sent' : d.status === 'delivered');
      return settled?.length === 3 ? r : undefined;
    }, 10_000, 'the deliveries to settle');
    assert.equal(n.status, 'sent');
    assert.deepEqual(Object.fromEntries(n.deliveries.map((d: any) => [d.channel, d.status])), { push: 'sent', email: 'delivered', sms: 'delivered' });
  });

  it('the XADD example is planned and sent for the sandbox tenant', async () => {
    const payload = /payload '([^']*)'/.exec(xadd)![1]!;
    const entry = (await redis.xadd(`${prefix}:in`, '*', 'payload', payload))!;
    const n = await eventually(async () => {
      const r = await api('GET', `/v1/notifications/x-${entry}`);
      return r.status === 200 && r.body.status === 'sent' ? r.body : undefined;
    }, 10_000, 'the XADDed notification to be sent');
    assert.deepEqual(n.deliveries.map((d: any) => d.channel).sort(), ['email', 'push', 'sms']);
  });

  it('an XADD for a tenant nobody has: listed in the sandbox tenant\'s dead letters, logged with the entry and tenant', async () => {
    const entry = (await redis.xadd(`${prefix}:in`, '*', 'payload', JSON.stringify({ tenant: 'acme', user_id: 'jane', content: { body: 'x' } })))!;
    const dead = await eventually(async () => {
      const r = await api('GET', '/v1/dead-letters?reason=unknown_tenant');
      return r.body.dead_letters?.[0];
    }, 10_000, 'the dead letter listed');
    assert.match(dead.error, /"acme"/);
    const line = await svc.waitForLog((l) => l.entry === entry && l.reason === 'unknown_tenant');
    assert.deepEqual([line.level, line.tenant, line.dead_letter], [40, 'acme', dead.id]);
  });
});
