// Token hygiene, SMS failover to SNS, circuit breaking, and a dead provider that does not hold the other channels.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startHarness, type Harness } from './support/harness.js';

const IOS = 'c'.repeat(64);
const ANDROID = 'android_' + 'Zz9'.repeat(20);
let h: Harness;
const finished = (id: string, timeoutMs = 8_000) => eventually(async () => {
  const r = await h.api('GET', `/v1/notifications/${id}`);
  return r.status === 200 && !['accepted', 'processing'].includes(r.body.status) ? r.body : undefined;
}, timeoutMs, `notification ${id} to finish`);
const send = async (user: string, body: object) => (await h.api('POST', '/v1/notifications', { user_id: user, ...body })).body.id as string;
const device = async (user: string, token: string) => (await h.api('GET', `/v1/users/${user}`)).body.devices.find((d: any) => d.token === token);

before(async () => {
  h = await startHarness('failover', { env: { NOTIFY_BREAKER_THRESHOLD: '3', NOTIFY_BREAKER_OPEN_MS: '60000', NOTIFY_RETRY_BASE_MS: '20' } });
  await h.api('PUT', '/v1/users/f1', { email: 'f1@example.com', phone: '+14155550122' });
});
beforeEach(() => {
  h.fakes.resetBehavior();
  h.fakes.clear();
});
after(() => h.stop());

describe('token hygiene', () => {
  it('deactivates an iOS token APNs calls Unregistered (410) and never sends to it again', async () => {
    await h.api('POST', '/v1/users/f1/devices', { platform: 'ios', token: IOS });
    h.fakes.behavior('apns', { failWith: { status: 410, code: 'Unregistered' } });
    const n = await finished(await send('f1', { channels: ['push'], content: { body: 'x' } }));
    assert.equal(n.deliveries[0].status, 'failed');
    assert.match(n.deliveries[0].last_error, /Unregistered/);
    const d = await device('f1', IOS);
    assert.equal(d.active, false);
    assert.ok(d.deactivated_at);

    h.fakes.resetBehavior('apns');
    h.fakes.clear();
    const next = await finished(await send('f1', { channels: ['push'], content: { body: 'y' } }));
    assert.deepEqual(next.deliveries.map((x: any) => x.status), ['no_address']);
    assert.equal(h.fakes.received('apns').length, 0);
  });

  it('keeps a token re-registered after the time APNs says it died', async () => {
    await h.api('POST', '/v1/users/f1/devices', { platform: 'ios', token: IOS });
    h.fakes.behavior('apns', { failWith: { status: 410, code: 'Unregistered', timestampMs: Date.now() - 60_000 } });
    await finished(await send('f1', { channels: ['push'], content: { body: 'x' } }));
    assert.equal((await device('f1', IOS)).active, true);
    await h.api('DELETE', `/v1/users/f1/devices/${IOS}`);
  });

  it('deactivates an Android token FCM calls UNREGISTERED', async () => {
    await h.api('POST', '/v1/users/f1/devices', { platform: 'android', token: ANDROID });
    h.fakes.behavior('fcm', { failWith: { status: 404, code: 'UNREGISTERED' } });
    await finished(await send('f1', { channels: ['push'], content: { body: 'x' } }));
    assert.equal((await device('f1', ANDROID)).active, false);
    await h.api('DELETE', `/v1/users/f1/devices/${ANDROID}`);
  });
});

describe('SMS failover', () => {
  it('sends through SNS when Twilio fails on its side, and stops trying Twilio once its circuit opens', async () => {
    h.fakes.behavior('twilio', { failWith: { status: 503 } });
    const first = await Promise.all([1, 2, 3, 4].map((i) => send('f1', { channels: ['sms'], content: { body: `failover ${i}` } })));
    for (const id of first) {
      const n = await finished(id);
      assert.deepEqual([n.deliveries[0].status, n.deliveries[0].provider], ['sent', 'sns']);
      assert.equal(n.deliveries[0].attempts, 1, 'failover is not a retry');
    }
    const sns = h.fakes.received('sns');
    assert.equal(sns.length, 4);
    assert.equal(sns[0]!.body.PhoneNumber, '+14155550122');
    assert.match(sns[0]!.body.Message, /^failover \d$/);

    const twilioCalls = h.fakes.received('twilio').length;
    assert.ok(twilioCalls >= 3, 'Twilio was tried until its circuit opened');
    await finished(await send('f1', { channels: ['sms'], content: { body: 'while open' } }));
    assert.equal(h.fakes.received('twilio').length, twilioCalls, 'an open circuit is not tried');
    assert.equal(h.fakes.received('sns').length, 5);
  });

  it('does not fail over a message the provider refused for the message\'s own fault', async () => {
    const h2 = await startHarness('failover-own-fault');
    try {
      await h2.api('PUT', '/v1/users/f2', { phone: '+14155550133' });
      h2.fakes.behavior('twilio', { failWith: { code: '21211' } });
      const id = (await h2.api('POST', '/v1/notifications', { user_id: 'f2', channels: ['sms'], content: { body: 'x' } })).body.id;
      const n = await eventually(async () => {
        const r = await h2.api('GET', `/v1/notifications/${id}`);
        return r.body.status === 'failed' ? r.body : undefined;
      });
      assert.equal(n.deliveries[0].provider, 'twilio');
      assert.equal(h2.fakes.received('sns').length, 0);
    } finally {
      await h2.stop();
    }
  });
});

/** Nearest-rank percentile. */
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)]!;

describe('isolation between channels', () => {
  it('a dead email provider does not hold push back: every push arrives while every email still waits on SES', async (t) => {
    // SES gets 4 sends at a time: 40 emails that never get an answer hold every slot, and more wait behind them.
    const hi = await startHarness('failover-isolation', { env: { NOTIFY_PROVIDER_CONCURRENCY: '4', NOTIFY_SHUTDOWN_TIMEOUT_MS: '1000' } });
    try {
      await hi.api('PUT', '/v1/users/f3', { email: 'f3@example.com' });
      await hi.api('POST', '/v1/users/f3/devices', { platform: 'ios', token: 'd'.repeat(64) });
      const post = async (body: object) => (await hi.api('POST', '/v1/notifications', { user_id: 'f3', ...body })).body.id as string;
      /** 40 emails, then 30 pushes at once; each push's latency from its request to its arrival at the fake APNs. */
      const round = async (tag: string): Promise<{ latencies: number[]; emails: string[] }> => {
        const emails = await Promise.all(Array.from({ length: 40 }, (_, i) => post({ channels: ['email'], content: { subject: `${tag}-e${i}`, text: 'x' } })));
        const started = new Map<string, number>();
        await Promise.all(Array.from({ length: 30 }, (_, i) => {
          started.set(`${tag}-p${i}`, Date.now());
          return post({ channels: ['push'], content: { body: `${tag}-p${i}` } });
        }));
        const arrived = await eventually(async () => {
          const got = hi.fakes.received('apns', 10_000).filter((m) => started.has(m.body.aps?.alert?.body));
          return got.length === started.size ? got : undefined;
        }, 15_000, `every ${tag} push at the fake`);
        return { latencies: arrived.map((m) => Math.max(0, m.at - started.get(m.body.aps.alert.body)!)), emails };
      };
      const healthy = await round('healthy');
      hi.fakes.behavior('ses', { latencyMs: 60_000 });
      const dead = await round('dead');
      const [base, now] = [percentile(healthy.latencies, 90), percentile(dead.latencies, 90)];
      // Reported, not asserted: a timing on a shared machine is the bench's job (its latency figures).
      t.diagnostic(`push p90: ${base} ms with SES healthy, ${now} ms with SES dead`);
      const statuses = await Promise.all(dead.emails.map(async (id) => (await hi.api('GET', `/v1/notifications/${id}`)).body.status));
      assert.ok(statuses.every((st) => st === 'processing'), `every email is still waiting on SES: ${statuses.join(',')}`);
    } finally {
      hi.fakes.resetBehavior();
      await hi.stop();
    }
  });
});
