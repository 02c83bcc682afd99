// The status event stream end to end: every record change the scripts make appends one event, the archiver writes
// them to PostgreSQL (the real server) so the history shows what Redis shows, a database outage loses nothing, and a
// terminal notification's Redis record is kept only NOTIFY_HOT_RETENTION_MS more once archived.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { Redis } from 'ioredis';
import { openHistory, type History } from '../src/history/index.js';
import { notificationView } from '../src/http/routes/notification-view.js';
import { eventually, startHarness, type Harness } from './support/harness.js';
import { dropSchema, historySchema, PG_URL } from './support/history.js';
import { REDIS_URL } from './support/redis.js';
import { startTcpRelay, type TcpRelay } from './support/tcp-relay.js';

const TOKEN = 'a'.repeat(64);
let h: Harness;
let history: History;
let redis: Redis;
let relay: TcpRelay;
const { schema, env } = historySchema('archive');

before(async () => {
  // The service reaches PostgreSQL through a relay the outage test takes down; the test reads it directly.
  const pg = new URL(PG_URL);
  relay = await startTcpRelay(Number(pg.port || 5432), pg.hostname);
  pg.port = String(relay.port);
  h = await startHarness('history-archive', { env: { ...env, DATABASE_URL: pg.toString(), NOTIFY_HOT_RETENTION_MS: '600000' } });
  history = await openHistory({ url: PG_URL }, { schema });
  redis = new Redis(REDIS_URL);
  await h.api('PUT', '/v1/users/ana', { email: 'ana@example.com', phone: '+14155550142' });
  await h.api('POST', '/v1/users/ana/devices', { platform: 'ios', token: TOKEN });
});
after(async () => {
  redis.disconnect();
  await h.stop();
  await history.close();
  await relay.close();
  await dropSchema(schema);
});

const send = async (body: object) => (await h.api('POST', '/v1/notifications', { user_id: 'ana', ...body })).body.id as string;
const shown = async (id: string) => (await h.api('GET', `/v1/notifications/${id}`)).body;
/** Waits until the history renders the notification exactly as the Redis record does, in a final status. */
const archived = (id: string, timeoutMs = 15_000) => eventually(async () => {
  const live = await shown(id);
  if (['accepted', 'processing', 'scheduled'].includes(live.status)) return undefined;
  const old = await history.getNotification('acme', id);
  return old && isDeepStrictEqual(notificationView(old), live) ? live : undefined;
}, timeoutMs, `notification ${id} archived as shown`);
const eventsOf = async (id: string) => (await history.db.query<{ kind: string; delivery_key: string | null; status: string | null }>(
  `SELECT kind, delivery_key, status FROM ${schema}.events WHERE tenant = $1 AND notification_id = $2 ORDER BY id`, ['acme', id],
)).rows;

describe('the status event stream, archived', () => {
  it('gives the history every change once: accepted, then each delivery queued and sent', async () => {
    const id = await send({ content: { title: 'T', body: 'hello', subject: 'S', text: 'hello' } });
    const live = await archived(id);
    assert.deepEqual(live.deliveries.map((d: any) => d.channel).sort(), ['email', 'push', 'sms']);
    const events = await eventsOf(id);
    assert.equal(events.filter((e) => e.kind === 'accepted').length, 1);
    const byKey = new Map<string, string[]>();
    for (const e of events.filter((x) => x.kind === 'delivery')) byKey.set(e.delivery_key!, [...(byKey.get(e.delivery_key!) ?? []), e.status!]);
    assert.equal(byKey.size, 3);
    for (const statuses of byKey.values()) assert.deepEqual(statuses, ['queued', 'sent']);
  });

  it('records a cancel, an unsendable recipient and a retried send as Redis does', async () => {
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const held = await send({ content: { body: 'later' }, channels: ['sms'], send_at: later });
    assert.equal((await h.api('DELETE', `/v1/notifications/${held}`)).status, 200);
    assert.equal((await archived(held)).status, 'cancelled');
    assert.ok((await eventsOf(held)).some((e) => e.kind === 'cancelled'));

    const nobody = (await h.api('POST', '/v1/notifications', { user_id: 'nobody', content: { body: 'x' } })).body.id;
    assert.equal((await archived(nobody)).status, 'not_sent');

    h.fakes.behavior('ses', { failWith: { status: 503 }, failNext: 1 });
    const retried = await send({ content: { subject: 'S', text: 'again' }, channels: ['email'] });
    const live = await archived(retried);
    h.fakes.resetBehavior('ses');
    assert.deepEqual([live.deliveries[0].status, live.deliveries[0].attempts], ['sent', 2]);
    const statuses = (await eventsOf(retried)).filter((e) => e.kind === 'delivery').map((e) => e.status);
    assert.deepEqual(statuses, ['queued', 'retrying', 'sent']);
  });

  it('keeps a terminal notification in Redis only the hot retention more once archived', async () => {
    const id = await send({ content: { body: 'short-lived' }, channels: ['sms'] });
    await archived(id);
    const ttl = await eventually(async () => {
      const ms = await redis.pttl(`${h.prefix}:n:acme:${id}`);
      return ms > 0 && ms <= 600_000 ? ms : undefined;
    }, 5_000, 'the record TTL shortened');
    assert.ok(ttl <= 600_000);
  });

  it('loses nothing while PostgreSQL is down: the events wait in Redis and are written once it is back', async () => {
    relay.down();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await send({ content: { body: `down ${i}` }, channels: ['sms'] }));
    await eventually(async () => {
      const views = await Promise.all(ids.map(shown));
      return views.every((v) => v.status === 'sent') ? true : undefined;
    }, 15_000, 'all sent while the database is down');
    assert.equal(await history.getNotification('acme', ids[0]!), null, 'nothing reached the database meanwhile');
    await eventually(async () => (h.logs.some((l) => l.msg === 'archiver: writing to the history database failed; the events wait in Redis') ? true : undefined),
      5_000, 'the archiver to meet the outage');
    relay.up();
    for (const id of ids) await archived(id, 60_000);
    const rows = (await history.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${schema}.events WHERE tenant = 'acme' AND notification_id = ANY($1) AND kind = 'delivery'`, [ids],
    )).rows;
    assert.equal(Number(rows[0]!.n), 40, 'queued and sent for each, once');
  });
});

describe('a history database that cannot be reached at start-up', () => {
  it('does not stop the service: it accepts and sends, and the history catches up once the database answers', async () => {
    const pg = new URL(PG_URL);
    const late = await startTcpRelay(Number(pg.port || 5432), pg.hostname);
    late.down();
    pg.port = String(late.port);
    const other = historySchema('archive_late');
    const h2 = await startHarness('history-late', { env: { ...other.env, DATABASE_URL: pg.toString() } });
    const reader = await openHistory({ url: PG_URL }, { schema: other.schema });
    try {
      await h2.api('PUT', '/v1/users/bo', { phone: '+14155550143' });
      const id = (await h2.api('POST', '/v1/notifications', { user_id: 'bo', content: { body: 'early' } })).body.id as string;
      await eventually(async () => ((await h2.api('GET', `/v1/notifications/${id}`)).body.status === 'sent' ? true : undefined), 10_000, 'sent');
      assert.ok(h2.logs.some((l) => l.msg === 'history database unavailable; accepting and sending go on, the events wait in Redis'));
      late.up();
      const n = await eventually(async () => {
        const got = await reader.getNotification('acme', id);
        return got?.deliveries[0]?.status === 'sent' ? got : undefined;
      }, 30_000, 'archived once the database answers');
      assert.equal(n.deliveries.length, 1);
    } finally {
      await h2.stop();
      await reader.close();
      await late.close();
      await dropSchema(other.schema);
    }
  });
});
