// `npm start` on a fresh machine with only Redis: sandbox mode, the default key, and a notification that arrives.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { SANDBOX_API_KEY } from '../src/config.js';
import { eventually } from './support/harness.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('start');
let svc: ServiceProcess | undefined;
const others: ServiceProcess[] = [];
const prefixes: string[] = [];
after(async () => {
  await svc?.stop();
  await Promise.all(others.map((o) => o.stop()));
  await dropPrefix(prefix);
  for (const p of prefixes) await dropPrefix(p);
});

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

describe('npm start with nothing configured', () => {
  it('runs in sandbox mode and the sandbox provider receives a notification', async () => {
    const port = await freePort();
    // Only isolation settings: a test prefix and free ports. Everything else is the default a newcomer gets.
    svc = spawnService([], { REDIS_URL, NOTIFY_PREFIX: prefix, NOTIFY_HTTP_PORT: String(port), NOTIFY_SANDBOX_HTTP_PORT: '0', NOTIFY_SANDBOX_APNS_PORT: '0' });
    await svc.waitForLog((l) => l.msg === 'notify started');
    assert.ok(svc.logs.some((l) => String(l.msg).startsWith('sandbox mode')), 'says it is in sandbox mode');

    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method, headers: { authorization: `Bearer ${SANDBOX_API_KEY}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    assert.equal((await api('PUT', '/v1/users/newcomer', { email: 'newcomer@example.com' })).status, 200);
    const post = await api('POST', '/v1/notifications', { user_id: 'newcomer', content: { subject: 'Welcome', text: 'It works' } });
    assert.equal(post.status, 202);
    const n = await eventually(async () => {
      const r = await api('GET', `/v1/notifications/${post.body.id}`);
      return r.body.status === 'sent' ? r.body : undefined;
    }, 10_000, 'the notification to be sent');
    assert.equal(n.deliveries[0].provider, 'ses');

    const listed = await api('GET', '/v1/sandbox/messages');
    assert.ok(listed.body.messages.some((m: any) => m.provider === 'ses' && m.to === 'n***@example.com'), 'the sandbox lists what it received');
    const line = svc.logs.find((l) => String(l.msg).includes('sandbox ses received'));
    assert.ok(line, 'and logs a line for it');
    assert.equal((line.sandbox as { recipient?: string }).recipient, 'n***@example.com', 'with the address masked, not redacted away');
    assert.ok(!JSON.stringify(line).includes('newcomer@example.com'), 'never the whole address');
    assert.equal(await svc.stop('SIGTERM'), 0);
  });
});

describe('the sandbox listing', () => {
  const KEYS = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };
  const client = (port: number) => async (tenant: keyof typeof KEYS, method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method, headers: { authorization: `Bearer ${KEYS[tenant]}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  /** Each tenant sends one email, then sees its own message and not the other's. */
  const eachSeesOnlyItsOwn = async (api: ReturnType<typeof client>, tag: string) => {
    for (const t of ['acme', 'globex'] as const) {
      assert.equal((await api(t, 'PUT', `/v1/users/${t}-user`, { email: `${t}@example.com` })).status, 200);
      assert.equal((await api(t, 'POST', '/v1/notifications', { user_id: `${t}-user`, content: { subject: `${tag} for ${t}`, text: 'x' } })).status, 202);
    }
    for (const [t, other] of [['acme', 'globex'], ['globex', 'acme']] as const) {
      const listed = await eventually(async () => {
        const r = await api(t, 'GET', '/v1/sandbox/messages');
        return r.body.messages.some((m: any) => m.preview === `${tag} for ${t}`) ? r.body.messages : undefined;
      }, 10_000, `${t}'s message in its listing`);
      assert.ok(!listed.some((m: any) => m.preview === `${tag} for ${other}`), `${t} does not see ${other}'s message`);
    }
  };
  // A prefix per test: a process of one test must not take the other's work.
  const env = (port: number, extra: Record<string, string> = {}, own = `${prefix}-${port}`) => (prefixes.push(own), {
    REDIS_URL, NOTIFY_PREFIX: own, NOTIFY_HTTP_PORT: String(port), NOTIFY_SANDBOX: 'on',
    NOTIFY_API_KEYS: `acme:${KEYS.acme},globex:${KEYS.globex}`, NOTIFY_SANDBOX_HTTP_PORT: '0', NOTIFY_SANDBOX_APNS_PORT: '0', ...extra,
  });

  it('shows each tenant only its own messages (one process)', async () => {
    const port = await freePort();
    const one = spawnService([], env(port));
    others.push(one);
    await one.waitForLog((l) => l.msg === 'notify started');
    await eachSeesOnlyItsOwn(client(port), 'single');
    assert.equal(await one.stop('SIGTERM'), 0);
  });

  it('shows each tenant only its own messages, and feedback reaches the ingress (ingress and worker processes)', async () => {
    const [apiPort, workerPort, fakesPort] = [await freePort(), await freePort(), await freePort()];
    const shared = `${prefix}-split`;
    const worker = spawnService(['--role', 'worker'], env(workerPort, { NOTIFY_SANDBOX_HTTP_PORT: String(fakesPort) }, shared));
    others.push(worker);
    await worker.waitForLog((l) => l.msg === 'notify started');
    const ingress = spawnService(['--role', 'ingress'], env(apiPort, { NOTIFY_SANDBOX_HTTP_PORT: String(fakesPort) }, shared));
    others.push(ingress);
    await ingress.waitForLog((l) => l.msg === 'notify started');
    const api = client(apiPort);
    await eachSeesOnlyItsOwn(api, 'split');
    // The worker's fake SES reports deliveries through its fake SNS to the ingress, which verified and confirmed the
    // subscription with the worker's fakes' signing certificate.
    const post = await api('acme', 'POST', '/v1/notifications', { user_id: 'acme-user', content: { subject: 'feedback', text: 'x' } });
    const d = await eventually(async () => {
      const r = await api('acme', 'GET', `/v1/notifications/${post.body.id}`);
      return r.body.deliveries?.[0]?.status === 'delivered' ? r.body.deliveries[0] : undefined;
    }, 10_000, 'the email to be reported delivered');
    assert.equal(d.feedback.event, 'delivery');
  });
});
