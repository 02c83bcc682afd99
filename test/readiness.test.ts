// Ready means ready: once /readyz first answers 200 a SIGTERM stops the process gracefully (exit 0), and in sandbox
// mode an email sent at that moment gets its SES feedback (the fake SNS subscription is confirmed by then). A SIGTERM
// while the process is still starting stops it gracefully too.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { SANDBOX_API_KEY } from '../src/config.js';
import { eventually } from './support/harness.js';
import { spawnService, type ServiceProcess } from './support/process.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';

const prefix = testPrefix('readiness');
const procs: ServiceProcess[] = [];
after(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  await dropPrefix(prefix);
});

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

/** The service in sandbox mode, as `npm start` runs it with nothing configured, on a free port. */
async function start(): Promise<{ svc: ServiceProcess; port: number; fakesPort: number }> {
  const [port, fakesPort] = [await freePort(), await freePort()];
  const svc = spawnService([], {
    REDIS_URL, NOTIFY_PREFIX: prefix, NOTIFY_HTTP_PORT: String(port), NOTIFY_SANDBOX_HTTP_PORT: String(fakesPort), NOTIFY_SANDBOX_APNS_PORT: '0',
  });
  procs.push(svc);
  return { svc, port, fakesPort };
}

/** Polls /readyz as a tight orchestrator would, resolving at its first 200. */
async function firstReady(svc: ServiceProcess, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    assert.equal(svc.child.exitCode, null, `the service exited early; stderr: ${svc.stderr().slice(-2000)}`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('never ready');
}

describe('readiness', () => {
  it('a SIGTERM the moment /readyz first answers 200 stops the service gracefully', async () => {
    const { svc, port } = await start();
    await firstReady(svc, port);
    assert.equal(await svc.stop('SIGTERM'), 0, 'exit code 0, not killed by the signal');
    assert.ok(svc.logs.some((l) => l.msg === 'stopped'), 'it went through the graceful stop');
  });

  it('a SIGTERM while the workers start, before the HTTP server listens, stops the service gracefully', async () => {
    const { svc } = await start();
    await svc.waitForLog((l) => l.msg === 'worker started', 30_000);
    assert.equal(await svc.stop('SIGTERM'), 0);
    assert.ok(svc.logs.some((l) => l.msg === 'stopped'));
  });

  it('in sandbox mode, an email sent the moment /readyz first answers 200 gets its SES feedback (delivered)', async () => {
    const { svc, port, fakesPort } = await start();
    await firstReady(svc, port);
    const subs = (await (await fetch(`http://127.0.0.1:${fakesPort}/_fake/sns/subscriptions`)).json()) as { endpoint: string; confirmed: boolean }[];
    assert.deepEqual(subs.map((s) => [s.endpoint, s.confirmed]), [[`http://127.0.0.1:${port}/v1/feedback/ses`, true]], 'the fake SNS subscription is confirmed by then');
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method, headers: { authorization: `Bearer ${SANDBOX_API_KEY}`, 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    assert.equal((await api('PUT', '/v1/users/early', { email: 'early@example.com' })).status, 200);
    const post = await api('POST', '/v1/notifications', { user_id: 'early', content: { subject: 'Right away', text: 'x' } });
    assert.equal(post.status, 202);
    const d = await eventually(async () => {
      const r = await api('GET', `/v1/notifications/${post.body.id}`);
      return r.body.deliveries?.[0]?.status === 'delivered' ? r.body.deliveries[0] : undefined;
    }, 10_000, 'the email to be reported delivered');
    assert.equal(d.feedback.event, 'delivery');
    assert.equal(await svc.stop('SIGTERM'), 0);
  });
});
