// The history's reading side against the real PostgreSQL on this machine and embedded PGlite (see
// history-store.test.ts): a notification read back renders as the Redis store's record of the same facts does;
// search's filters, order, cursor paging and tenant scope; stats' counts and rates.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { DeliveryFeedback, DeliveryRecord, NotificationMeta, NotPlanned } from '../src/domain/record.js';
import { notificationView } from '../src/http/routes/notification-view.js';
import type { Db } from '../src/history/db.js';
import type { HistoryEvent } from '../src/history/events.js';
import { createHistory, HistoryQueryError, type History } from '../src/history/index.js';
import { NotificationStore } from '../src/store/notifications.js';
import { makeKeys } from '../src/streams/keys.js';
import { dropPrefix, REDIS_URL, testPrefix } from './support/redis.js';
import { historyBackends } from './support/history.js';


const NOW = Date.UTC(2026, 11, 3, 12);
const iso = (ms: number) => new Date(ms).toISOString();
let seq = 0;
const sid = () => `${NOW}-${seq++}`;

/** The facts of one notification, as the Redis record holds them: the events the archiver reads say the same. */
interface Facts {
  tenant: string;
  id: string;
  meta: NotificationMeta;
  deliveries: { key: string; record: DeliveryRecord; feedback?: DeliveryFeedback }[];
  cancelledAt?: number;
  notPlanned?: NotPlanned;
  engagement?: { key?: string; type: 'opened' | 'clicked'; channel?: string }[];
}

function eventsOf(f: Facts): HistoryEvent[] {
  const b = { tenant: f.tenant, notificationId: f.id, createdAt: f.meta.created_at };
  return [
    { ...b, id: sid(), kind: 'accepted', data: f.meta },
    ...f.deliveries.flatMap((d): HistoryEvent[] => [
      { ...b, id: sid(), kind: 'delivery', key: d.key, data: d.record },
      ...(d.feedback ? [{ ...b, id: sid(), kind: 'feedback' as const, key: d.key, data: d.feedback }] : []),
    ]),
    ...(f.cancelledAt !== undefined ? [{ ...b, id: sid(), kind: 'cancelled' as const, data: { cancelled_at: f.cancelledAt } }] : []),
    ...(f.notPlanned ? [{ ...b, id: sid(), kind: 'not_planned' as const, data: f.notPlanned }] : []),
    ...(f.engagement ?? []).map((e): HistoryEvent => ({
      ...b, id: sid(), kind: 'engagement', ...(e.key && { key: e.key }), data: { type: e.type, at: NOW, ...(e.channel && { channel: e.channel }) },
    })),
  ];
}

const rec = (user: string, channel: DeliveryRecord['channel'], status: DeliveryRecord['status'], extra: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  user_id: user, channel, provider: channel === 'email' ? 'ses' : channel === 'sms' ? 'twilio' : 'apns',
  to: channel === 'email' ? 'j***@example.com' : channel === 'sms' ? '+1******0100' : null, status, attempts: 1, updated_at: iso(NOW), ...extra,
});
const fb = (status: DeliveryFeedback['status'] | undefined, rank: number, event: string, extra: Partial<DeliveryFeedback> = {}): DeliveryFeedback => ({
  event, at: iso(NOW + 500), rank, ...(status && { status }), ...extra,
});
const meta = (tenant: string, created: number, extra: Partial<NotificationMeta> & { template?: string } = {}): NotificationMeta => ({
  tenant, created_at: created, recipients: 1, ...extra,
});

const RICH: Facts = {
  tenant: 'acme', id: 'rich',
  meta: meta('acme', NOW - 60_000, { event_id: 'ev-1', category: 'orders', collapse_key: 'ck', recipients: 2 }),
  deliveries: [
    { key: 'jane:email', record: rec('jane', 'email', 'sent', { provider_message_id: 'm-1' }), feedback: fb('delivered', 1, 'delivery', { received_at: iso(NOW + 900), detail: 'ok' }) },
    { key: 'jane:push:ab12', record: rec('jane', 'push', 'sent', { tp: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01' }) },
    { key: 'bob:sms', record: rec('bob', 'sms', 'deferred', { deferred_until: NOW + 3_600_000, attempts: 0 }) },
    { key: 'bob:email', record: rec('bob', 'email', 'failed', { last_error: 'MessageRejected', attempts: 3 }) },
  ],
};
const HELD: Facts = {
  tenant: 'acme', id: 'held', meta: meta('acme', NOW - 30_000, { send_at: NOW + 86_400_000 }), deliveries: [], cancelledAt: NOW - 1000,
};
const DEAD: Facts = {
  tenant: 'acme', id: 'dead', meta: meta('acme', NOW - 20_000, { recipients: 3 }),
  deliveries: [{ key: 'jane:email', record: rec('jane', 'email', 'sent'), feedback: fb(undefined, 0, 'open') }],
  notPlanned: { reason: 'poison', message: 'could not be read', dead_letter_id: '1-0', at: iso(NOW - 10_000) },
};

/** Writes the facts into a Redis record as the Lua scripts do (meta, d:<k>, f:<k>, cancelled, np). */
async function writeRedis(redis: Redis, key: string, f: Facts): Promise<void> {
  const fields: string[] = ['meta', JSON.stringify(f.meta)];
  for (const d of f.deliveries) {
    fields.push(`d:${d.key}`, JSON.stringify(d.record));
    if (d.feedback) fields.push(`f:${d.key}`, JSON.stringify(d.feedback));
  }
  if (f.cancelledAt !== undefined) fields.push('cancelled', String(f.cancelledAt));
  if (f.notPlanned) fields.push('np', JSON.stringify(f.notPlanned));
  await redis.hset(key, ...fields);
}

for (const backend of historyBackends()) {
  describe(`history queries on ${backend.name}`, () => {
    const schema = `h_${randomBytes(4).toString('hex')}`;
    const prefix = testPrefix('history');
    const keys = makeKeys(prefix);
    let db: Db;
    let h: History;
    let redis: Redis;

    before(async () => {
      db = await backend.open();
      h = await createHistory({ db, schema, now: NOW });
      redis = new Redis(REDIS_URL);
    });
    after(async () => {
      redis.disconnect();
      await dropPrefix(prefix);
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await backend.close(db);
      await backend.done();
    });

    it('reads a notification back as the Redis store reads the same facts, so the API shows it the same', async () => {
      const store = new NotificationStore(redis, keys, 60_000);
      for (const f of [RICH, HELD, DEAD]) {
        await writeRedis(redis, keys.notification(f.tenant, f.id), f);
        // Out of order and twice over: the history must end as the record did.
        const evs = eventsOf(f);
        await h.archiveBatch([...evs].reverse(), NOW);
        await h.archiveBatch(evs, NOW);
        const fromRedis = await store.get(f.id, f.tenant);
        const fromHistory = await h.getNotification(f.tenant, f.id);
        assert.ok(fromRedis && fromHistory);
        assert.deepEqual(fromHistory, fromRedis);
        assert.deepEqual(notificationView(fromHistory), notificationView(fromRedis));
      }
      assert.equal(notificationView((await h.getNotification('acme', 'held'))!).status, 'cancelled');
      assert.equal(notificationView((await h.getNotification('acme', 'dead'))!).status, 'partially_sent');
      assert.equal(await h.getNotification('beta', 'rich'), null, "another tenant's id");
      assert.equal(await h.getNotification('acme', 'nope'), null);
    });

    describe('search', () => {
      const T = 'srch';
      const at = (i: number) => NOW - i * 60_000;
      // s0 … s7, newest first; s3 and s4 share a created_at (the id breaks the tie).
      const facts: Facts[] = [
        { tenant: T, id: 's0', meta: meta(T, at(0), { category: 'orders', template: 'receipt' } as Partial<NotificationMeta>), deliveries: [{ key: 'ann:email', record: rec('ann', 'email', 'sent') }] },
        { tenant: T, id: 's1', meta: meta(T, at(1), { category: 'news' }), deliveries: [{ key: 'ann:push', record: rec('ann', 'push', 'queued') }] },
        { tenant: T, id: 's2', meta: meta(T, at(2), { category: 'orders' }), deliveries: [{ key: 'bob:sms', record: rec('bob', 'sms', 'failed') }] },
        { tenant: T, id: 's3', meta: meta(T, at(3)), deliveries: [{ key: 'ann:sms', record: rec('ann', 'sms', 'sent') }] },
        { tenant: T, id: 's4', meta: meta(T, at(3), { template: 'receipt' } as Partial<NotificationMeta>), deliveries: [{ key: 'bob:email', record: rec('bob', 'email', 'sent') }] },
        { tenant: T, id: 's5', meta: meta(T, at(5)), deliveries: [{ key: 'ann:email', record: rec('ann', 'email', 'sent') }, { key: 'bob:push', record: rec('bob', 'push', 'sent') }] },
        { tenant: T, id: 's6', meta: meta(T, at(6), { send_at: NOW + 3_600_000 }), deliveries: [] },
        { tenant: T, id: 's7', meta: meta(T, at(7)), deliveries: [{ key: 'ann:push', record: rec('ann', 'push', 'sent') }] },
        // Tenant B, with ids and users like A's.
        { tenant: 'srch-b', id: 's0', meta: meta('srch-b', at(0)), deliveries: [{ key: 'ann:email', record: rec('ann', 'email', 'sent') }] },
      ];
      const ids = (p: { notifications: { id: string }[] }) => p.notifications.map((n) => n.id);

      before(async () => {
        await h.archiveBatch(facts.flatMap(eventsOf), NOW);
      });

      it('lists newest first, and pages by cursor without gaps or repeats', async () => {
        const all: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await h.search(T, { limit: 3, ...(cursor && { cursor }) });
          all.push(...ids(page));
          cursor = page.next_cursor ?? undefined;
          pages++;
        } while (cursor);
        assert.deepEqual(all, ['s0', 's1', 's2', 's4', 's3', 's5', 's6', 's7']);
        assert.equal(pages, 3);
        const one = await h.search(T, { limit: 8 });
        assert.equal(one.next_cursor, null);
        assert.deepEqual(one.notifications[0], await h.getNotification(T, 's0'), 'the same StoredNotification as get');
      });

      it('filters by user, channel, status, category, template and time, and combines them', async () => {
        assert.deepEqual(ids(await h.search(T, { user_id: 'ann' })), ['s0', 's1', 's3', 's5', 's7']);
        assert.deepEqual(ids(await h.search(T, { channel: 'push' })), ['s1', 's5', 's7']);
        assert.deepEqual(ids(await h.search(T, { user_id: 'bob', channel: 'push' })), ['s5']);
        assert.deepEqual(ids(await h.search(T, { user_id: 'ann', channel: 'push', limit: 1 })), ['s1']);
        assert.deepEqual(ids(await h.search(T, { status: 'processing' })), ['s1']);
        assert.deepEqual(ids(await h.search(T, { status: 'failed' })), ['s2']);
        assert.deepEqual(ids(await h.search(T, { status: 'scheduled' })), ['s6']);
        assert.deepEqual(ids(await h.search(T, { category: 'orders' })), ['s0', 's2']);
        assert.deepEqual(ids(await h.search(T, { template: 'receipt' })), ['s0', 's4']);
        assert.deepEqual(ids(await h.search(T, { since: at(5), until: at(2) })), ['s4', 's3', 's5']);
        assert.deepEqual(ids(await h.search(T, { status: 'sent', user_id: 'ann', since: at(5) })), ['s0', 's3', 's5']);
      });

      it("is tenant-scoped: a tenant never sees another's notifications, even with its cursor", async () => {
        assert.deepEqual(ids(await h.search('srch-b', {})), ['s0']);
        assert.deepEqual(ids(await h.search('srch-b', { user_id: 'bob' })), []);
        const a = await h.search(T, { limit: 1 });
        assert.deepEqual(ids(await h.search('srch-b', { cursor: a.next_cursor!, limit: 10 })), []);
        assert.deepEqual(ids(await h.search('nobody', {})), []);
      });

      it('refuses a bad cursor or limit, and takes input only as parameters', async () => {
        await assert.rejects(h.search(T, { cursor: 'garbage' }), HistoryQueryError);
        await assert.rejects(h.search(T, { limit: 0 }), HistoryQueryError);
        await assert.rejects(h.search(T, { limit: 501 }), HistoryQueryError);
        assert.deepEqual(ids(await h.search(T, { user_id: "ann' OR '1'='1" })), []);
        assert.deepEqual(ids(await h.search(`${T}' OR tenant <> '`, {})), []);
      });
    });

    describe('stats', () => {
      const T = 'stats';
      const day = Date.UTC(2026, 11, 3);
      const facts: Facts[] = [
        {
          tenant: T, id: 'n1', meta: meta(T, day + 1000, { category: 'x', template: 'a' } as Partial<NotificationMeta>),
          deliveries: [
            { key: 'u:email', record: rec('u', 'email', 'sent'), feedback: fb('delivered', 1, 'delivery') },
            { key: 'u:push', record: rec('u', 'push', 'sent') },
          ],
          engagement: [{ key: 'u:push', type: 'opened' }],
        },
        {
          tenant: T, id: 'n2', meta: meta(T, day + 2000, { template: 'a' } as Partial<NotificationMeta>),
          deliveries: [
            { key: 'u:email', record: rec('u', 'email', 'sent'), feedback: fb('bounced', 2, 'bounce') },
            { key: 'u:sms', record: rec('u', 'sms', 'sent'), feedback: fb('undelivered', 2, 'undelivered') },
          ],
        },
        {
          tenant: T, id: 'n3', meta: meta(T, day - 3_600_000, { template: 'b' } as Partial<NotificationMeta>),
          deliveries: [
            { key: 'u:email', record: rec('u', 'email', 'failed') },
            { key: 'u:push', record: rec('u', 'push', 'sent') },
          ],
          // Unkeyed: an app's click on the push, named by channel only.
          engagement: [{ type: 'clicked', channel: 'push' }],
        },
        { tenant: T, id: 'n4', meta: meta(T, day + 3000), deliveries: [{ key: 'u:email', record: rec('u', 'email', 'sent'), feedback: fb('complained', 3, 'complaint') }] },
        // Out of the range asked below.
        { tenant: T, id: 'n5', meta: meta(T, day - 3 * 86_400_000), deliveries: [{ key: 'u:email', record: rec('u', 'email', 'sent') }] },
        { tenant: 'stats-b', id: 'n1', meta: meta('stats-b', day + 1000), deliveries: [{ key: 'u:email', record: rec('u', 'email', 'sent') }] },
      ];
      const range = { from: day - 86_400_000, to: day + 86_400_000 };

      before(async () => {
        const evs = facts.flatMap(eventsOf);
        // SES's Open and Click arrive as rank-0 feedback: kept out of the delivery (a delivery is stronger), counted here.
        const b = { tenant: T, notificationId: 'n1', createdAt: day + 1000, key: 'u:email' };
        evs.push({ ...b, id: sid(), kind: 'feedback', data: fb(undefined, 0, 'open') }, { ...b, id: sid(), kind: 'feedback', data: fb(undefined, 0, 'click') });
        await h.archiveBatch(evs, NOW);
      });

      it('counts per channel, with the rates per sent', async () => {
        assert.deepEqual(await h.stats(T, { ...range, group_by: 'channel' }), [
          { group: 'email', sent: 3, delivered: 2, failed: 1, bounced: 1, complained: 1, opened: 1, clicked: 1, delivery_rate: 0.6667, open_rate: 0.3333, click_rate: 0.3333 },
          { group: 'push', sent: 2, delivered: 0, failed: 0, bounced: 0, complained: 0, opened: 1, clicked: 1, delivery_rate: 0, open_rate: 0.5, click_rate: 0.5 },
          { group: 'sms', sent: 1, delivered: 0, failed: 1, bounced: 0, complained: 0, opened: 0, clicked: 0, delivery_rate: 0, open_rate: 0, click_rate: 0 },
        ]);
      });

      it('groups by template, category, provider and day', async () => {
        const by = async (group_by: 'template' | 'category' | 'provider' | 'day') =>
          (await h.stats(T, { ...range, group_by })).map((r) => [r.group, r.sent, r.delivered, r.failed]);
        assert.deepEqual(await by('template'), [['a', 4, 1, 1], ['b', 1, 0, 1], [null, 1, 1, 0]]);
        assert.deepEqual(await by('category'), [['x', 2, 1, 0], [null, 4, 1, 2]]);
        assert.deepEqual(await by('provider'), [['apns', 2, 0, 0], ['ses', 3, 2, 1], ['twilio', 1, 0, 1]]);
        assert.deepEqual(await by('day'), [['2026-12-02', 1, 0, 1], ['2026-12-03', 5, 2, 1]]);
      });

      it('is scoped to the tenant and the range, and refuses an unknown grouping', async () => {
        assert.deepEqual((await h.stats('stats-b', { ...range, group_by: 'channel' })).map((r) => [r.group, r.sent]), [['email', 1]]);
        assert.deepEqual(await h.stats(T, { from: day + 86_400_000, to: day + 2 * 86_400_000, group_by: 'channel' }), []);
        const wide = await h.stats(T, { from: day - 5 * 86_400_000, to: day + 86_400_000, group_by: 'channel' });
        assert.equal(wide.find((r) => r.group === 'email')?.sent, 4);
        await assert.rejects(h.stats(T, { ...range, group_by: 'user; DROP' as 'day' }), HistoryQueryError);
      });
    });
  });
}
