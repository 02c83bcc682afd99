// The history's writing side against both databases it runs on: the real PostgreSQL on this machine
// (HISTORY_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and embedded PGlite in a temp folder.
// Each suite works in its own random schema, dropped after. Migrations, partitions, archiveBatch's rules and erasure.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { DeliveryRecord } from '../src/domain/record.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite, type Db } from '../src/history/db.js';
import { historyBackends } from './support/history.js';
import type { HistoryEvent } from '../src/history/events.js';
import { createHistory, type History } from '../src/history/index.js';
import { migrate } from '../src/history/migrate.js';
import { DAY_MS, dayStart, listPartitions } from '../src/history/partitions.js';
import { tables } from '../src/history/schema.js';


const NOW = Date.UTC(2026, 11, 3, 12);
const TODAY = dayStart(NOW);
let seq = 0;
const sid = (ms = NOW) => `${ms}-${seq++}`;

const accepted = (tenant: string, id: string, c = NOW, extra: object = {}): HistoryEvent =>
  ({ id: sid(), kind: 'accepted', tenant, notificationId: id, createdAt: c, data: { tenant, created_at: c, recipients: 1, ...extra } }) as HistoryEvent;
const delivery = (tenant: string, id: string, key: string, rec: Partial<DeliveryRecord>, c = NOW, evId = sid()): HistoryEvent => ({
  id: evId, kind: 'delivery', tenant, notificationId: id, createdAt: c, key,
  data: { user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status: 'sent', attempts: 1, updated_at: new Date(NOW).toISOString(), ...rec },
});
const feedback = (tenant: string, id: string, key: string, status: string | undefined, rank: number, event: string, c = NOW, evId = sid()): HistoryEvent =>
  ({ id: evId, kind: 'feedback', tenant, notificationId: id, createdAt: c, key, data: { event, at: new Date(NOW).toISOString(), rank, ...(status && { status }) } }) as HistoryEvent;
const erased = (tenant: string, user: string, evId = sid()): HistoryEvent =>
  ({ id: evId, kind: 'user_erased', tenant, notificationId: '', createdAt: 0, data: { user_id: user } });

for (const backend of historyBackends()) {
  describe(`history store on ${backend.name}`, () => {
    const schema = `h_${randomBytes(4).toString('hex')}`;
    const other = `${schema}_b`;
    let db: Db;
    let h: History;
    const t = tables(schema);
    const rows = async (table: 'notifications' | 'deliveries' | 'events', schemaName = schema) =>
      (await db.query<{ r: Record<string, unknown> }>(`SELECT to_jsonb(x) AS r FROM ${schemaName}.${table} x ORDER BY 1`)).rows.map((r) => r.r);
    const deliveryRow = async (tenant: string, id: string, key: string) =>
      (await db.query<Record<string, unknown>>(`SELECT * FROM ${schema}.deliveries WHERE tenant = $1 AND notification_id = $2 AND key = $3`, [tenant, id, key])).rows[0];

    before(async () => {
      db = await backend.open();
      h = await createHistory({ db, schema, now: NOW });
    });
    after(async () => {
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${other} CASCADE;`);
      await backend.close(db);
      await backend.done();
    });

    it('applies each migration once: again is a no-op, and concurrent starters apply it once between them', async () => {
      assert.deepEqual(await migrate(db, schema), []);
      const dbs = backend.shared ? [db, db, db] : await Promise.all([1, 2, 3].map(() => backend.open()));
      try {
        const applied = await Promise.all(dbs.map((d) => migrate(d, other)));
        assert.deepEqual(applied.flat(), [1]);
      } finally {
        await Promise.all(dbs.map((d) => backend.close(d)));
      }
      const { rows: versions } = await db.query<{ version: number }>(`SELECT version FROM ${other}.schema_migrations`);
      assert.deepEqual(versions.map((v) => v.version), [1]);
    });

    it('makes the coming days partitions at start, one on demand for an older day, and drops those past the retention', async () => {
      const days = async () => [...new Set((await listPartitions(db, t)).map((p) => p.day))].sort((a, b) => a - b);
      assert.deepEqual(await days(), [0, 1, 2, 3].map((i) => TODAY + i * DAY_MS));
      const old = TODAY - 10 * DAY_MS;
      const r = await h.archiveBatch([accepted('acme', 'old-1', old + 5_000)], NOW);
      assert.deepEqual(r.skipped, []);
      assert.ok((await days()).includes(old));
      assert.equal((await listPartitions(db, t)).filter((p) => p.day === old).length, 3, 'one per table');
      // Past the retention: not archived (it would land in a partition about to be dropped), reported.
      const ancient = await h.archiveBatch([accepted('acme', 'old-2', TODAY - 95 * DAY_MS)], NOW);
      assert.equal(ancient.skipped[0]?.error, 'past the history retention');
      // 85 days on, the day 10 days ago is 95 days old: dropped with its rows; the rest stays.
      const later = NOW + 85 * DAY_MS;
      const changes = await h.maintainPartitions(later);
      assert.deepEqual(changes.dropped, ['deliveries', 'events', 'notifications'].map((x) => `${x}_p20261123`));
      assert.ok(!(await days()).includes(old));
      assert.ok((await days()).includes(dayStart(later) + 3 * DAY_MS));
      assert.equal((await rows('notifications')).filter((n) => n.id === 'old-1').length, 0);
      // After the drop, an event of the day that is still in retention makes its partition again.
      const again = await h.archiveBatch([accepted('acme', 'old-3', later - 80 * DAY_MS)], later);
      assert.deepEqual(again.skipped, []);
    });

    it('writes a batch idempotently: the same batch again changes no row', async () => {
      const batch = [
        accepted('acme', 'idem', NOW, { category: 'news', template: 'welcome' }),
        delivery('acme', 'idem', 'jane:email', { status: 'sent', provider_message_id: 'm1' }),
        delivery('acme', 'idem', 'jane:push', { channel: 'push', provider: 'apns', to: null, status: 'sent' }),
        feedback('acme', 'idem', 'jane:email', 'delivered', 1, 'delivery'),
        { id: sid(), kind: 'engagement', tenant: 'acme', notificationId: 'idem', createdAt: NOW, key: 'jane:push', data: { type: 'opened', at: NOW } },
      ] as HistoryEvent[];
      const first = await h.archiveBatch(batch, NOW);
      assert.deepEqual(first.terminal, [{ tenant: 'acme', id: 'idem' }]);
      const snapshot = await Promise.all([rows('notifications'), rows('deliveries'), rows('events')]);
      const second = await h.archiveBatch([...batch].reverse(), NOW);
      assert.deepEqual(second.skipped, []);
      assert.deepEqual(await Promise.all([rows('notifications'), rows('deliveries'), rows('events')]), snapshot);
      const n = snapshot[0].find((r) => r.id === 'idem')!;
      assert.equal(n.status, 'sent');
      assert.equal(n.category, 'news');
      assert.equal(n.template, 'welcome');
      assert.equal(snapshot[2].filter((e) => e.notification_id === 'idem').length, 5);
      const email = await deliveryRow('acme', 'idem', 'jane:email');
      assert.equal(email?.status, 'delivered', 'feedback status over the record');
      assert.equal((email?.record as DeliveryRecord).status, 'sent');
    });

    it('takes the same batch from two archivers at once (a new day too): one set of rows, no error', async () => {
      const day = TODAY - 20 * DAY_MS;
      const batch = [accepted('acme', 'race', day), delivery('acme', 'race', 'k', {}, day), feedback('acme', 'race', 'k', 'delivered', 1, 'delivery', day)];
      const dbs = backend.shared ? [db] : await Promise.all([1, 2].map(() => backend.open()));
      try {
        const hs = await Promise.all(dbs.map((d) => createHistory({ db: d, schema, now: NOW })));
        const [a, b] = await Promise.all([hs[0]!.archiveBatch(batch, NOW), (hs[1] ?? h).archiveBatch([...batch].reverse(), NOW)]);
        assert.deepEqual(a.terminal, [{ tenant: 'acme', id: 'race' }]);
        assert.deepEqual(b.terminal, a.terminal);
      } finally {
        await Promise.all(dbs.map((d) => backend.close(d)));
      }
      assert.equal((await rows('events')).filter((e) => e.notification_id === 'race').length, 3);
      assert.equal((await deliveryRow('acme', 'race', 'k'))?.status, 'delivered');
    });

    it('keeps the newer record when an older delivery event arrives later', async () => {
      const newer = sid(NOW + 2000);
      const older = sid(NOW + 1000);
      await h.archiveBatch([accepted('acme', 'ord'), delivery('acme', 'ord', 'k', { status: 'sent' }, NOW, newer)], NOW);
      const r = await h.archiveBatch([delivery('acme', 'ord', 'k', { status: 'retrying', attempts: 0 }, NOW, older)], NOW);
      const row = await deliveryRow('acme', 'ord', 'k');
      assert.equal(row?.status, 'sent');
      assert.equal(row?.record_event, newer);
      assert.deepEqual(r.terminal, [{ tenant: 'acme', id: 'ord' }]);
      // Stream ids compare as numbers: "…-10" is after "…-9".
      await h.archiveBatch([delivery('acme', 'ord', 'k2', { status: 'sent' }, NOW, `${NOW + 5000}-10`)], NOW);
      await h.archiveBatch([delivery('acme', 'ord', 'k2', { status: 'queued' }, NOW, `${NOW + 5000}-9`)], NOW);
      assert.equal((await deliveryRow('acme', 'ord', 'k2'))?.status, 'sent');
    });

    it('never lets weaker feedback replace stronger, while an equal or stronger one does', async () => {
      await h.archiveBatch([accepted('acme', 'fb'), delivery('acme', 'fb', 'k', { status: 'sent' })], NOW);
      await h.archiveBatch([feedback('acme', 'fb', 'k', 'bounced', 2, 'bounce')], NOW);
      await h.archiveBatch([feedback('acme', 'fb', 'k', 'delivered', 1, 'delivery'), feedback('acme', 'fb', 'k', undefined, 0, 'open')], NOW);
      let row = await deliveryRow('acme', 'fb', 'k');
      assert.equal(row?.status, 'bounced');
      assert.equal(row?.feedback_rank, 2);
      const notification = (await rows('notifications')).find((n) => n.id === 'fb');
      assert.equal(notification?.status, 'failed');
      await h.archiveBatch([feedback('acme', 'fb', 'k', 'complained', 3, 'complaint')], NOW);
      row = await deliveryRow('acme', 'fb', 'k');
      assert.equal(row?.status, 'complained');
      // The events are all kept (the open counts in stats), whatever the delivery shows.
      assert.equal((await rows('events')).filter((e) => e.notification_id === 'fb' && e.kind === 'feedback').length, 4);
    });

    it('keeps feedback read before its delivery event, and shows the delivery once its record comes', async () => {
      const late = sid(NOW + 1);
      const early = sid(NOW);
      await h.archiveBatch([accepted('acme', 'ooo'), feedback('acme', 'ooo', 'k', 'delivered', 1, 'delivery', NOW, late)], NOW);
      assert.equal((await h.getNotification('acme', 'ooo'))?.deliveries.length, 0);
      await h.archiveBatch([delivery('acme', 'ooo', 'k', { status: 'sent' }, NOW, early)], NOW);
      const n = await h.getNotification('acme', 'ooo');
      assert.equal(n?.deliveries[0]?.status, 'delivered');
      assert.equal((await rows('notifications')).find((x) => x.id === 'ooo')?.status, 'sent');
    });

    it('sets cancelled and not_planned, and recomputes the shown status', async () => {
      const r = await h.archiveBatch([
        accepted('acme', 'can', NOW, { send_at: NOW + 3_600_000 }),
        accepted('acme', 'np', NOW, { recipients: 2 }),
        delivery('acme', 'np', 'k', { status: 'sent' }),
      ], NOW);
      assert.deepEqual(r.terminal, [{ tenant: 'acme', id: 'np' }]);
      const status = async (id: string) => (await rows('notifications')).find((x) => x.id === id)?.status;
      assert.equal(await status('can'), 'scheduled');
      await h.archiveBatch([
        { id: sid(), kind: 'cancelled', tenant: 'acme', notificationId: 'can', createdAt: NOW, data: { cancelled_at: NOW + 10 } },
        { id: sid(), kind: 'not_planned', tenant: 'acme', notificationId: 'np', createdAt: NOW, data: { reason: 'poison', message: 'bad', dead_letter_id: 'd1', at: new Date(NOW).toISOString() } },
      ], NOW);
      assert.equal(await status('can'), 'cancelled');
      assert.equal(await status('np'), 'partially_sent');
      assert.equal((await h.getNotification('acme', 'can'))?.cancelledAt, NOW + 10);
    });

    it('skips and reports malformed events and writes the rest; stores no field a record does not define', async () => {
      const good = delivery('acme', 'mal', 'k', { status: 'sent', body: 'secret text', token: 'abcd' } as Partial<DeliveryRecord>);
      const r = await h.archiveBatch([
        accepted('acme', 'mal'), good,
        { ...delivery('acme', 'mal', 'k2', {}), id: 'not-an-id' },
        { ...delivery('acme', 'mal', 'k3', {}), data: { channel: 'email' } } as unknown as HistoryEvent,
      ], NOW);
      assert.equal(r.written, 2);
      assert.deepEqual(r.skipped.map((s) => s.error), ['id is not a stream entry id', 'record.user_id missing']);
      const row = await deliveryRow('acme', 'mal', 'k');
      assert.equal((row?.record as Record<string, unknown>).body, undefined);
      assert.equal((row?.record as Record<string, unknown>).token, undefined);
      assert.equal(await deliveryRow('acme', 'mal', 'k3'), undefined);
    });

    it('erases one user: their deliveries, events and sole notifications; others stay; a late re-read does not bring them back', async () => {
      const zoeOnly = delivery('acme', 'er-1', 'zoe:email', { user_id: 'zoe' });
      // Feedback archived before its delivery: its event row has no user yet.
      await h.archiveBatch([feedback('acme', 'er-2', 'zoe:sms', 'delivered', 1, 'delivery')], NOW);
      await h.archiveBatch([
        accepted('acme', 'er-1'), zoeOnly, feedback('acme', 'er-1', 'zoe:email', 'delivered', 1, 'delivery'),
        accepted('acme', 'er-2', NOW, { recipients: 2 }),
        delivery('acme', 'er-2', 'zoe:sms', { user_id: 'zoe', channel: 'sms', provider: 'twilio' }),
        delivery('acme', 'er-2', 'bob:sms', { user_id: 'bob', channel: 'sms', provider: 'twilio' }),
        accepted('other', 'er-3'), delivery('other', 'er-3', 'zoe:email', { user_id: 'zoe' }),
      ], NOW);
      const r = await h.archiveBatch([erased('acme', 'zoe')], NOW);
      assert.deepEqual(r.erased, [{ tenant: 'acme', user_id: 'zoe', deliveries: 2, notifications: 1 }]);
      assert.equal(await h.getNotification('acme', 'er-1'), null);
      const shared = await h.getNotification('acme', 'er-2');
      assert.deepEqual(shared?.deliveries.map((d) => d.user_id), ['bob']);
      assert.ok(await h.getNotification('other', 'er-3'), "another tenant's zoe is another user");
      const left = (await rows('events')).filter((e) => e.tenant === 'acme' && String(e.notification_id).startsWith('er-'));
      assert.ok(left.every((e) => e.user_id !== 'zoe' && !String(e.delivery_key).startsWith('zoe:')));
      assert.ok(left.every((e) => e.notification_id === 'er-2'));
      assert.equal((await rows('deliveries')).filter((d) => d.tenant === 'acme' && d.user_id === 'zoe').length, 0);
      // An older batch read again (another archiver claimed it late) does not write the erased user back …
      await h.archiveBatch([zoeOnly], NOW);
      assert.equal(await deliveryRow('acme', 'er-1', 'zoe:email'), undefined);
      // … but what comes after the erasure is a new history.
      await h.archiveBatch([accepted('acme', 'er-4'), delivery('acme', 'er-4', 'zoe:email', { user_id: 'zoe' })], NOW);
      assert.ok(await deliveryRow('acme', 'er-4', 'zoe:email'));
    });
  });
}

describe('history in an embedded PGlite folder', () => {
  it('keeps the history across restarts, and does not migrate twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'history-'));
    try {
      let h = await createHistory({ db: await openPglite(dir), now: NOW });
      await h.archiveBatch([accepted('acme', 'kept'), delivery('acme', 'kept', 'k', {})], NOW);
      await h.close();
      const db = await openPglite(dir);
      assert.deepEqual(await migrate(db, 'notify_history'), []);
      h = await createHistory({ db, now: NOW });
      assert.equal((await h.getNotification('acme', 'kept'))?.deliveries[0]?.status, 'sent');
      await h.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
