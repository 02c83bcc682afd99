// The history through the API, end to end: notifications sent through the pipeline and archived to the real
// PostgreSQL, then searched (filters, paging, tenants apart), read once Redis has let them go, reported opened and
// clicked and counted in stats, erased with their user, and given feedback that arrives after their record expired.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { encodeKey } from '../src/domain/feedback.js';
import { openHistory, type History } from '../src/history/index.js';
import { notificationView } from '../src/http/routes/notification-view.js';
import { makeKeys } from '../src/streams/keys.js';
import { eventually, OTHER_TENANT_KEY, startHarness, type Harness } from './support/harness.js';
import { dropSchema, historySchema, PG_URL } from './support/history.js';
import { REDIS_URL } from './support/redis.js';
import { freePort } from './support/redis-server.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:notify-ses-events';
const { schema, env } = historySchema('history_api');
let h: Harness;
let redis: Redis;
let history: History;
const other = { authorization: `Bearer ${OTHER_TENANT_KEY}` };
const ids: Record<string, string> = {};
const t0 = Date.now();

before(async () => {
  h = await startHarness('history-api', { env: { ...env, NOTIFY_HTTP_PORT: String(await freePort()), NOTIFY_SES_EVENTS_TOPIC_ARNS: TOPIC } });
  redis = new Redis(REDIS_URL);
  history = await openHistory({ url: PG_URL }, { schema });
  await h.api('PUT', '/v1/users/ha1', { email: 'ha1@example.com', phone: '+14155550101' });
  await h.api('PUT', '/v1/users/ha2', { email: 'ha2@example.com' });
  await h.api('PUT', '/v1/users/ha1', { email: 'ha1-other@example.com' }, other);
  for (const headers of [undefined, other]) {
    const r = await h.api('PUT', '/v1/templates/welcome', { email: { subject: 'Hi', text: 'Welcome' }, sms: { body: 'Welcome' } }, headers);
    assert.equal(r.status, 200);
  }
  const send = async (name: string, body: object, headers?: Record<string, string>) => {
    const r = await h.api('POST', '/v1/notifications', body, headers);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    ids[name] = r.body.id;
  };
  // One after the other, so created_at orders them (newest first: a5, a4, …).
  await send('a1', { user_id: 'ha1', channels: ['email'], template: 'welcome', category: 'marketing' });
  await send('a2', { user_id: 'ha1', channels: ['sms'], content: { body: 'Your bill' }, category: 'billing' });
  await send('a3', { user_id: 'ha2', channels: ['email'], template: 'welcome', category: 'marketing' });
  await send('a4', { user_id: 'ha1', channels: ['email', 'sms'], template: 'welcome' });
  await send('a5', { user_id: 'ha-ghost', channels: ['email'], content: { subject: 'S', text: 'nobody' } });
  await send('b1', { user_id: 'ha1', channels: ['email'], template: 'welcome' }, other);
  // Archived, and settled: each finished in history as GET shows it from Redis.
  for (const name of Object.keys(ids)) await settled(ids[name]!, name.startsWith('b') ? 'other' : 'acme');
});
after(async () => {
  redis?.disconnect();
  await history?.close();
  await h?.stop();
  await dropSchema(schema);
});

const keys = () => makeKeys(h.prefix);
const get = async (id: string, headers?: Record<string, string>) => h.api('GET', `/v1/notifications/${id}`, undefined, headers);
/** Waits until the history holds the notification finished and exactly as Redis shows it. */
async function settled(id: string, tenant = 'acme') {
  return eventually(async () => {
    const live = await redis.hgetall(keys().notification(tenant, id));
    const fromRedis = (await get(id, tenant === 'acme' ? undefined : other)).body;
    const archived = await history.getNotification(tenant, id);
    if (!live.meta || !archived || ['accepted', 'processing'].includes(fromRedis.status)) return undefined;
    try {
      assert.deepEqual(notificationView(archived), fromRedis);
      return fromRedis;
    } catch {
      return undefined;
    }
  }, 15_000, `${id} archived as Redis shows it`);
}
const search = async (query: string, headers?: Record<string, string>) => {
  const r = await h.api('GET', `/v1/notifications${query}`, undefined, headers);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { notifications: { id: string; status: string }[]; next_cursor: string | null };
};
const found = async (query: string, headers?: Record<string, string>) => (await search(query, headers)).notifications.map((n) => n.id);
const expire = (id: string, tenant = 'acme') => redis.del(keys().notification(tenant, id));
const error = (r: { status: number; body: any }) => [r.status, r.body?.error?.code, r.body?.error?.field];

describe('search', () => {
  it('filters by user, status, channel, category, template and time, newest first', async () => {
    const { a1, a2, a3, a4, a5 } = ids;
    assert.deepEqual(await found(''), [a5, a4, a3, a2, a1]);
    assert.deepEqual(await found('?user_id=ha1'), [a4, a2, a1]);
    assert.deepEqual(await found('?user_id=ha1&channel=sms'), [a4, a2]);
    assert.deepEqual(await found('?channel=email'), [a5, a4, a3, a1]);
    assert.deepEqual(await found('?category=marketing'), [a3, a1]);
    assert.deepEqual(await found('?template=welcome'), [a4, a3, a1], 'the template is kept in meta');
    assert.deepEqual(await found('?template=welcome&category=marketing&user_id=ha2'), [a3]);
    const statuses = (await search('')).notifications.map((n) => n.status);
    assert.ok(statuses.includes('sent') && statuses.includes('not_sent'), statuses.join());
    assert.deepEqual(await found('?status=not_sent'), [a5], 'ha-ghost has no profile: no_address');
    const created = (await get(a3!)).body.created_at as string;
    assert.deepEqual(await found(`?since=${encodeURIComponent(created)}`), [a5, a4, a3], 'since is inclusive');
    assert.deepEqual(await found(`?until=${encodeURIComponent(created)}`), [a2, a1], 'until is exclusive');
    assert.deepEqual(await found(`?since=${new Date(t0 - 3_600_000).toISOString().slice(0, 10)}&user_id=ha2`), [a3], 'a date is midnight UTC');
    assert.deepEqual(await found('?user_id=nobody'), []);
  });

  it('pages with next_cursor until it is null', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await search(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.notifications.length <= 2);
      seen.push(...page.notifications.map((n) => n.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [ids.a5, ids.a4, ids.a3, ids.a2, ids.a1]);
  });

  it('GET /v1/users/{user_id}/notifications is the same search for that user', async () => {
    const r = await h.api('GET', '/v1/users/ha1/notifications?channel=email&limit=10');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.notifications.map((n: { id: string }) => n.id), [ids.a4, ids.a1]);
    assert.deepEqual(r.body.notifications[0], (await get(ids.a4!)).body, 'each one as GET shows it');
    assert.equal(r.body.next_cursor, null);
  });

  it('keeps tenants apart', async () => {
    assert.deepEqual(await found('', other), [ids.b1]);
    assert.deepEqual(await found('?user_id=ha1', other), [ids.b1], 'the same user id in another tenant is another user');
    assert.ok(!(await found('?user_id=ha1')).includes(ids.b1!));
    assert.equal((await get(ids.a1!, other)).status, 404);
    assert.equal((await get(ids.b1!)).status, 404);
    const r = await h.api('GET', '/v1/users/ha1/notifications', undefined, other);
    assert.deepEqual(r.body.notifications.map((n: { id: string }) => n.id), [ids.b1]);
  });
});

describe('a notification past the hot retention', () => {
  it('is answered from PostgreSQL exactly as it was from Redis, and is no longer cancellable', async () => {
    const before = await settled(ids.a4!);
    await expire(ids.a4!);
    const r = await get(ids.a4!);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, before);
    assert.equal(r.body.deliveries.length, 2);
    assert.deepEqual(error(await h.api('DELETE', `/v1/notifications/${ids.a4}`)), [409, 'not_cancellable', undefined]);
    assert.equal((await get(ids.a4!, other)).status, 404, 'still only its own tenant\'s');
    assert.deepEqual(error(await get('no-such-notification')), [404, 'not_found', undefined]);
  });
});

describe('engagement', () => {
  const report = (id: string, body: unknown, headers?: Record<string, string>) => h.api('POST', `/v1/notifications/${id}/events`, body, headers);
  const stats = async (groupBy: string) => {
    const from = new Date(t0 - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const r = await h.api('GET', `/v1/stats?from=${from}&to=${to}&group_by=${groupBy}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.from, r.body.to, r.body.group_by], [from, to, groupBy]);
    return r.body.rows as Record<string, number | string | null>[];
  };

  it('is reported with 202 and counted in the stats, for a live record and for one only the history has', async () => {
    const r = await report(ids.a1!, { type: 'opened', channel: 'email' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body).sort(), ['at', 'channel', 'notification_id', 'type']);
    assert.equal(r.body.notification_id, ids.a1);
    // a4 expired from Redis above: its created_at comes from the history.
    assert.equal((await report(ids.a4!, { type: 'clicked', channel: 'sms', at: new Date().toISOString() })).status, 202);
    const byChannel = await eventually(async () => {
      const rows = await stats('channel');
      const email = rows.find((x) => x.group === 'email');
      const sms = rows.find((x) => x.group === 'sms');
      return email?.opened === 1 && sms?.clicked === 1 ? { email, sms } : undefined;
    }, 10_000, 'the engagement in stats');
    assert.equal(byChannel.email.sent, 3, 'a1, a3, a4 (a5 had no address)');
    assert.equal(byChannel.email.open_rate, Math.round((1 / 3) * 10_000) / 10_000);
    assert.equal(byChannel.sms.sent, 2);
    assert.equal(byChannel.sms.click_rate, 0.5);
    const byTemplate = await stats('template');
    assert.equal(byTemplate.find((x) => x.group === 'welcome')?.opened, 1);
    assert.equal(byTemplate.find((x) => x.group === null)?.sent, 1, 'a2: inline content');
    const other = await h.api('GET', `/v1/stats?from=${new Date(t0 - 60_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`, undefined, { authorization: `Bearer ${OTHER_TENANT_KEY}` });
    assert.deepEqual(other.body.rows.map((x: { group: string; opened: number }) => [x.group, x.opened]), [['email', 0]], 'group_by defaults to channel; tenants apart');
  });

  it('is refused for an unknown notification, another tenant\'s, a bad time or a channel it has no delivery on', async () => {
    assert.deepEqual(error(await report('no-such-notification', { type: 'opened' })), [404, 'not_found', undefined]);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened' }, other)), [404, 'not_found', undefined]);
    assert.deepEqual(error(await report(ids.a1!, { type: 'read' })), [422, 'validation_failed', 'type']);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened', channel: 'fax' })), [422, 'validation_failed', 'channel']);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened', channel: 'sms' })), [422, 'validation_failed', 'channel']);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened', at: 'yesterday' })), [422, 'validation_failed', 'at']);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened', at: new Date(Date.now() + 300_000).toISOString() })), [422, 'validation_failed', 'at']);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened', at: new Date(t0 - 86_400_000).toISOString() })), [422, 'validation_failed', 'at']);
    assert.deepEqual(error(await report(ids.a1!, { type: 'opened', user: 'x' })), [422, 'validation_failed', 'user']);
    assert.deepEqual(error(await report('bad%20id', { type: 'opened' })), [422, 'validation_failed', 'id']);
  });
});

describe('late feedback', () => {
  const bounce = async (nid: string, dk: string) => {
    const signed = await h.fakes.signSns({
      Type: 'Notification', MessageId: randomUUID(), TopicArn: TOPIC, Subject: 'Amazon SES Email Event Notification', Timestamp: new Date().toISOString(),
      Message: JSON.stringify({
        eventType: 'Bounce', mail: { messageId: 'm', tags: { notification_id: [nid], delivery_key: [encodeKey(dk)], tenant: ['acme'] } },
        bounce: { bounceType: 'Transient', bounceSubType: 'MailboxFull', timestamp: new Date().toISOString(), bouncedRecipients: [{ emailAddress: 'ha1@example.com' }] },
      }),
    });
    const res = await fetch(`${h.url}/v1/feedback/ses`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: JSON.stringify(signed) });
    assert.equal(res.status, 200);
    return ((await res.json()) as { status: string }).status;
  };

  it('reaches PostgreSQL after the Redis record is gone', async () => {
    await settled(ids.a1!);
    await expire(ids.a1!);
    assert.equal(await bounce(ids.a1!, 'nope:email'), 'unknown', 'a delivery the history does not have either');
    assert.equal(await bounce(ids.a1!, 'ha1:email'), 'archived');
    const d = await eventually(async () => {
      const r = await get(ids.a1!);
      return r.body.deliveries?.[0]?.status === 'bounced' ? r.body.deliveries[0] : undefined;
    }, 10_000, 'the bounce in history');
    assert.equal(d.feedback.event, 'bounce');
    assert.equal(d.feedback.detail, 'Transient/MailboxFull');
    assert.equal((await get(ids.a1!)).body.status, 'failed');
  });
});

describe('erasure', () => {
  it('DELETE /v1/users/{user_id} removes the user\'s history, profile or not', async () => {
    assert.deepEqual(await found('?user_id=ha2'), [ids.a3]);
    assert.equal((await h.api('DELETE', '/v1/users/ha2')).status, 204);
    await eventually(async () => ((await found('?user_id=ha2')).length === 0 ? true : undefined), 10_000, 'ha2 erased');
    assert.equal(await history.getNotification('acme', ids.a3!), null, 'a3 was only to ha2');
    // ha-ghost never had a profile: 404, and the history forgets them all the same.
    assert.deepEqual(await found('?user_id=ha-ghost'), [ids.a5]);
    assert.deepEqual(error(await h.api('DELETE', '/v1/users/ha-ghost')), [404, 'not_found', undefined]);
    await eventually(async () => ((await found('?user_id=ha-ghost')).length === 0 ? true : undefined), 10_000, 'ha-ghost erased');
    assert.deepEqual(await found('?user_id=ha1', other), [ids.b1], 'another tenant\'s users are not touched');
    assert.ok((await found('?user_id=ha1')).length > 0);
  });
});

describe('bad parameters', () => {
  it('are each a 422 naming the parameter', async () => {
    const cases: [string, string][] = [
      ['/v1/notifications?limit=0', 'limit'],
      ['/v1/notifications?limit=501', 'limit'],
      ['/v1/notifications?limit=1e2', 'limit'],
      ['/v1/notifications?limit=1&limit=2', 'limit'],
      ['/v1/notifications?status=done', 'status'],
      ['/v1/notifications?channel=fax', 'channel'],
      ['/v1/notifications?user_id=j%C3%A9r%C3%B4me', 'user_id'],
      ['/v1/notifications?category=a%20b', 'category'],
      [`/v1/notifications?template=${'x'.repeat(65)}`, 'template'],
      ['/v1/notifications?since=yesterday', 'since'],
      ['/v1/notifications?since=2026-12-01T09:00:00', 'since'],
      ['/v1/notifications?until=2026-13-01', 'until'],
      ['/v1/notifications?since=2026-12-02&until=2026-12-01', 'until'],
      ['/v1/notifications?cursor=not*a*cursor', 'cursor'],
      [`/v1/notifications?cursor=${Buffer.from('["x",1]').toString('base64url')}`, 'cursor'],
      ['/v1/notifications?user=ha1', 'user'],
      ['/v1/notifications?__proto__=x', '__proto__'],
      ['/v1/users/ha1/notifications?user_id=ha1', 'user_id'],
      ['/v1/users/ha1/notifications?limit=-1', 'limit'],
      ['/v1/users/j%C3%A9r%C3%B4me/notifications', 'user_id'],
      ['/v1/stats', 'from'],
      ['/v1/stats?from=2026-12-01', 'to'],
      ['/v1/stats?from=2026-12-01&to=2026-12-02&group_by=user', 'group_by'],
      ['/v1/stats?from=2026-12-02&to=2026-12-01', 'to'],
      ['/v1/stats?from=2024-01-01&to=2026-01-01', 'to'],
      ['/v1/stats?from=now&to=2026-12-01', 'from'],
      ['/v1/stats?from=2026-12-01&to=2026-12-02&x=1', 'x'],
    ];
    for (const [path, field] of cases) {
      const r = await h.api('GET', path);
      assert.deepEqual(error(r), [422, 'validation_failed', field], `${path}: ${JSON.stringify(r.body)}`);
      assert.ok(r.body.error.message.length > 0);
    }
  });
});

describe('with the history database not reached yet', () => {
  it('the history endpoints answer 503 with Retry-After; Redis-only requests go on', async () => {
    const down = await startHarness('history-down', { env: { NOTIFY_HISTORY: 'on', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' } });
    try {
      const id = (await down.api('POST', '/v1/notifications', { user_id: 'nobody', channels: ['email'], content: { subject: 'S', text: 't' } })).body.id;
      for (const [method, path, body] of [
        ['GET', '/v1/notifications'], ['GET', '/v1/stats?from=2026-12-01&to=2026-12-02'], ['GET', '/v1/notifications/not-in-redis'],
        ['POST', '/v1/notifications/not-in-redis/events', { type: 'opened' }],
      ] as [string, string, unknown?][]) {
        const r = await down.api(method, path, body);
        assert.deepEqual(error(r), [503, 'unavailable', undefined], `${method} ${path}`);
        assert.equal(r.headers.get('retry-after'), '5');
      }
      assert.equal((await down.api('GET', `/v1/notifications/${id}`)).status, 200, 'a record Redis has needs no history');
      assert.equal((await down.api('DELETE', '/v1/users/nobody')).status, 404, 'erasure is only an event: no database needed');
    } finally {
      await down.stop();
    }
  });
});

describe('with history off', () => {
  it('search, stats and engagement answer 503 saying history is off', async () => {
    const off = await startHarness('history-off');
    try {
      const id = (await off.api('POST', '/v1/notifications', { user_id: 'nobody', channels: ['email'], content: { subject: 'S', text: 't' } })).body.id;
      for (const [method, path, body] of [
        ['GET', '/v1/notifications'], ['GET', '/v1/users/u1/notifications?limit=5'], ['GET', '/v1/stats?from=2026-12-01&to=2026-12-02'],
        ['POST', `/v1/notifications/${id}/events`, { type: 'opened' }],
      ] as [string, string, unknown?][]) {
        const r = await off.api(method, path, body);
        assert.deepEqual(error(r), [503, 'unavailable', undefined], `${method} ${path}`);
        assert.match(r.body.error.message, /history is off/);
      }
      assert.equal((await off.api('GET', `/v1/notifications/${id}`)).status, 200, 'GET by id still reads Redis');
    } finally {
      await off.stop();
    }
  });
});
