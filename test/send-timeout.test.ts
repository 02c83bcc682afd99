// NOTIFY_SEND_TIMEOUT_MS is the send timeout of every provider (the sandbox's too), and a send that got no answer in
// time is not sent again while its request may still be answered: a late 200 makes it `sent`, sent once. Only a
// request that never answered is retried.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startHarness, type Harness } from './support/harness.js';

const IOS = 'e'.repeat(64);
const ANDROID = 'android_' + 'Tt7'.repeat(20);
let h: Harness;

before(async () => {
  h = await startHarness('send-timeout', {
    env: { NOTIFY_SEND_TIMEOUT_MS: '1000', NOTIFY_RETRY_MAX_ATTEMPTS: '2', NOTIFY_RETRY_BASE_MS: '20', NOTIFY_RETRY_MAX_DELAY_MS: '50', NOTIFY_BREAKER_THRESHOLD: '100' },
    // The harness bounds APNs requests at 2 s; give it the sandbox's bound, as FCM has. SES: a bound just past the
    // send timeout, so a request that never answers ends soon.
    providers: { apns: { timeoutMs: 120_000 }, ses: { timeoutMs: 1_500 } },
  });
  await h.api('PUT', '/v1/users/st1', { email: 'st1@example.com' });
  await h.api('POST', '/v1/users/st1/devices', { platform: 'android', token: ANDROID });
  await h.api('PUT', '/v1/users/st2', {});
  await h.api('POST', '/v1/users/st2/devices', { platform: 'ios', token: IOS });
});
beforeEach(() => {
  h.fakes.resetBehavior();
  h.fakes.clear();
});
after(async () => {
  h.fakes.resetBehavior();
  await h.stop();
});

const post = async (user: string, body: object) => (await h.api('POST', '/v1/notifications', { user_id: user, ...body })).body.id as string;
const delivery = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body.deliveries?.[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The delivery while its send is unanswered past the send timeout, then once it is settled. */
async function followLate(id: string): Promise<{ waiting: any; settled: any }> {
  const waiting = await eventually(async () => {
    const d = await delivery(id);
    return d?.status === 'retrying' ? d : undefined;
  }, 4_000, 'the unanswered send noted on the record');
  const settled = await eventually(async () => {
    const d = await delivery(id);
    return d?.status === 'sent' || d?.status === 'failed' ? d : undefined;
  }, 20_000, 'the delivery settled');
  return { waiting, settled };
}

describe('send timeout', () => {
  it('FCM answering after 7 s: the 1 s timeout is noted, the late 200 makes it sent, and FCM got one request', async () => {
    h.fakes.behavior('fcm', { latencyMs: 7_000 });
    const id = await post('st1', { channels: ['push'], content: { body: 'late fcm' } });
    const { waiting, settled } = await followLate(id);
    assert.match(waiting.last_error, /^timeout: fcm timeout: no answer within 1000 ms/);
    assert.equal(settled.status, 'sent', JSON.stringify(settled));
    assert.equal(settled.provider, 'fcm');
    assert.match(settled.provider_message_id, /^projects\/.+\/messages\//);
    assert.equal(settled.attempts, 1);
    await sleep(300);
    assert.equal(h.fakes.received('fcm').filter((m) => m.to === ANDROID).length, 1, 'sent once');
  });

  it('APNs answering after 3 s: sent once, with its apns-id', async () => {
    h.fakes.behavior('apns', { latencyMs: 3_000 });
    const id = await post('st2', { channels: ['push'], content: { body: 'late apns' } });
    const { waiting, settled } = await followLate(id);
    assert.match(waiting.last_error, /apns timeout: no answer within 1000 ms/);
    assert.equal(settled.status, 'sent', JSON.stringify(settled));
    await sleep(300);
    const got = h.fakes.received('apns').filter((m) => m.to === IOS);
    assert.equal(got.length, 1, 'sent once');
    assert.equal(settled.provider_message_id, got[0]!.headers['apns-id']);
  });

  it('a request that never answers is retried once its bound has passed, and ends failed with the timeout', async () => {
    h.fakes.behavior('ses', { latencyMs: 60_000 });
    const id = await post('st1', { channels: ['email'], content: { subject: 'never', text: 'x' } });
    const { waiting, settled } = await followLate(id);
    assert.match(waiting.last_error, /ses timeout: no answer within 1000 ms/);
    assert.equal(settled.status, 'failed');
    assert.equal(settled.attempts, 2);
    assert.match(settled.last_error, /no answer within 1000 ms, nor later/);
  });
});
