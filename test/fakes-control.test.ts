// The fakes' HTTP control endpoints, failure injection semantics, bounded store and log hook — plain HTTP, no SDKs.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SANDBOX_CREDENTIALS, startFakes, summarizeFakeMessage, type FakeMessage, type Fakes } from '../src/fakes/index.js';

const { twilioAccountSid: SID, twilioAuthToken: TOKEN } = SANDBOX_CREDENTIALS;
const AUTH = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;

/** One Twilio-style request straight to the fake. */
async function sendSms(f: Fakes, to = '+14155550100', body = 'hello'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${f.httpUrl}/2010-04-01/Accounts/${SID}/Messages.json`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ To: to, From: '+15005550006', Body: body }),
  });
  return { status: res.status, json: await res.json() };
}

async function control(f: Fakes, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${f.httpUrl}${path}`, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('fake providers: control over HTTP', () => {
  let fakes: Fakes;
  const logged: FakeMessage[] = [];
  before(async () => {
    fakes = await startFakes({ onMessage: (m) => logged.push(m) });
  });
  after(() => fakes.close());
  beforeEach(async () => {
    await control(fakes, 'DELETE', '/_fake/behavior');
    await control(fakes, 'DELETE', '/_fake/messages');
    logged.length = 0;
  });

  it('GET /_fake/messages lists received requests newest last, filtered and limited', async () => {
    await sendSms(fakes, '+14155550101');
    await sendSms(fakes, '+14155550102');
    await sendSms(fakes, '+14155550103');
    const all = await control(fakes, 'GET', '/_fake/messages?provider=twilio');
    assert.deepEqual(all.json.map((m: FakeMessage) => m.to), ['+14155550101', '+14155550102', '+14155550103']);
    const last = await control(fakes, 'GET', '/_fake/messages?provider=twilio&limit=1');
    assert.deepEqual(last.json.map((m: FakeMessage) => m.to), ['+14155550103']);
    assert.equal(last.json[0].body.Body, 'hello');
    assert.deepEqual((await control(fakes, 'GET', '/_fake/messages?provider=ses')).json, []);
  });

  it('POST /_fake/behavior injects failNext errors in the provider form, then service resumes', async () => {
    const set = await control(fakes, 'POST', '/_fake/behavior', { provider: 'twilio', failNext: 2, failWith: { code: 21610 } });
    assert.equal(set.status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await sendSms(fakes);
      assert.equal(r.status, 400);
      assert.equal(r.json.code, 21610);
      assert.match(r.json.more_info, /21610/);
    }
    assert.equal((await sendSms(fakes)).status, 201);
  });

  it('rejects a bad behaviour with a reason', async () => {
    const r = await control(fakes, 'POST', '/_fake/behavior', { provider: 'pigeon', errorRate: 2 });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /provider/);
    assert.match(r.json.error, /errorRate/);
  });

  it('GET /_fake/stats counts accepted and errored per provider; DELETE /_fake/messages resets', async () => {
    await sendSms(fakes);
    await sendSms(fakes, 'not-a-number');
    const stats = (await control(fakes, 'GET', '/_fake/stats')).json;
    assert.deepEqual(stats.twilio, { accepted: 1, errored: 1, dropped: 0 });
    assert.deepEqual(stats.fcm, { accepted: 0, errored: 0, dropped: 0 });
    assert.equal((await control(fakes, 'DELETE', '/_fake/messages')).status, 204);
    assert.deepEqual((await control(fakes, 'GET', '/_fake/stats')).json.twilio, { accepted: 0, errored: 0, dropped: 0 });
    assert.deepEqual((await control(fakes, 'GET', '/_fake/messages')).json, []);
  });

  it('GET /_fake/info tells another process how to connect', async () => {
    const info = (await control(fakes, 'GET', '/_fake/info')).json;
    assert.equal(info.httpPort, fakes.httpPort);
    assert.equal(info.apnsPort, fakes.apnsPort);
    assert.match(info.caPem, /BEGIN CERTIFICATE/);
    assert.equal(info.apns.keyId, fakes.apns.keyId);
  });

  it('errorRate 1 fails everything, 0 nothing; onlyTo scopes a behaviour to one recipient', async () => {
    fakes.behavior('twilio', { errorRate: 1, failWith: { status: 503 } });
    assert.equal((await sendSms(fakes)).status, 503);
    fakes.behavior('twilio', { errorRate: 0, failWith: { status: 503 } });
    assert.equal((await sendSms(fakes)).status, 201);
    fakes.behavior('twilio', { onlyTo: '+14155550199', failWith: { code: '21610' } });
    assert.equal((await sendSms(fakes, '+14155550100')).status, 201);
    assert.equal((await sendSms(fakes, '+14155550199')).status, 400);
    assert.equal((await sendSms(fakes, '+14155550199')).status, 400, 'failWith without a count means always');
  });

  it('429 answers carry Retry-After', async () => {
    fakes.behavior('twilio', { failNext: 1, failWith: { code: '20429', retryAfterS: 4 } });
    const res = await fetch(`${fakes.httpUrl}/2010-04-01/Accounts/${SID}/Messages.json`, {
      method: 'POST', headers: { authorization: AUTH }, body: new URLSearchParams({ To: '+14155550100', From: '+15005550006', Body: 'x' }),
    });
    await res.text();
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '4');
  });

  it('down drops the connection and is counted as dropped', async () => {
    fakes.behavior('twilio', { failNext: 1, down: true });
    await assert.rejects(sendSms(fakes));
    assert.equal(fakes.stats().twilio.dropped, 1);
    assert.equal((await sendSms(fakes)).status, 201);
  });

  it('latency delays the answer', async () => {
    fakes.behavior('twilio', { latencyMs: 150 });
    const t0 = Date.now();
    await sendSms(fakes);
    assert.ok(Date.now() - t0 >= 140);
  });

  it('waitFor resolves on a coming message and rejects after its timeout', async () => {
    const waiting = fakes.waitFor((m) => m.to === '+14155550177', 1000);
    await sendSms(fakes, '+14155550177');
    assert.equal((await waiting).provider, 'twilio');
    await assert.rejects(fakes.waitFor((m) => m.to === 'never', 50), /no matching message/);
  });

  it('the log hook sees each message; its summary masks the address and leaves out the body', async () => {
    await sendSms(fakes, '+14155550123', 'secret code 987654');
    assert.equal(logged.length, 1);
    const line = JSON.stringify(summarizeFakeMessage(logged[0]!));
    assert.ok(!line.includes('4155550123') && !line.includes('987654') && !line.includes('Basic'), line);
    assert.match(line, /"to":"\+1\*+0123"/);
  });

  it('unknown paths and control endpoints answer 404', async () => {
    assert.equal((await control(fakes, 'GET', '/nope')).status, 404);
    assert.equal((await control(fakes, 'GET', '/_fake/nope')).status, 404);
  });
});

describe('fake providers: bounded store', () => {
  it('keeps only the newest maxMessages', async () => {
    const fakes = await startFakes({ maxMessages: 3 });
    try {
      for (let i = 0; i < 5; i++) await sendSms(fakes, `+1415555010${i}`);
      assert.deepEqual(fakes.received().map((m) => m.to), ['+14155550102', '+14155550103', '+14155550104']);
      assert.deepEqual(fakes.received('twilio', 2).map((m) => m.to), ['+14155550103', '+14155550104']);
      assert.equal(fakes.stats().twilio.accepted, 5);
    } finally {
      await fakes.close();
    }
  });
});
