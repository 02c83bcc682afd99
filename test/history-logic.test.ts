// The history's pure parts: stream id order, folding a batch into rows, what an event keeps, partition days, cursors,
// migration file order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkEvent } from '../src/history/clean.js';
import type { HistoryEvent } from '../src/history/events.js';
import { migrationFiles } from '../src/history/migrate.js';
import { DAY_MS, dayOfPartition, dayStart, daysAhead, daySuffix, pastRetention } from '../src/history/partitions.js';
import { compareIds, planBatch } from '../src/history/plan.js';
import { decodeCursor, encodeCursor, HistoryQueryError, rate } from '../src/history/queries.js';
import { checkSchema } from '../src/history/schema.js';

const NOW = Date.UTC(2026, 11, 3, 12);
const base = { tenant: 'acme', notificationId: 'n1', createdAt: NOW };
const record = (status: string, extra: object = {}) => ({
  user_id: 'jane', channel: 'email', provider: 'ses', to: 'j***@example.com', status, attempts: 1, updated_at: new Date(NOW).toISOString(), ...extra,
});

describe('history logic', () => {
  it('orders stream ids numerically, not as text', () => {
    assert.equal(compareIds('9-0', '10-0'), -1);
    assert.equal(compareIds('10-2', '10-10'), -1);
    assert.equal(compareIds('10-1', '10-1'), 0);
    assert.equal(compareIds('1700000000000-5', '1699999999999-9'), 1);
  });

  it('folds a batch: the newest record, the strongest feedback (ties: the later), the latest meta; events once each', () => {
    const evs = [
      { ...base, id: '5-0', kind: 'delivery', key: 'k', data: record('sent') },
      { ...base, id: '3-0', kind: 'delivery', key: 'k', data: record('queued') },
      { ...base, id: '6-0', kind: 'feedback', key: 'k', data: { event: 'bounce', at: '2026-12-03T12:00:00Z', status: 'bounced', rank: 2 } },
      { ...base, id: '7-0', kind: 'feedback', key: 'k', data: { event: 'delivery', at: '2026-12-03T12:00:00Z', status: 'delivered', rank: 1 } },
      { ...base, id: '2-0', kind: 'accepted', data: { tenant: 'acme', created_at: NOW } },
      { ...base, id: '5-0', kind: 'delivery', key: 'k', data: record('sent') },
    ] as HistoryEvent[];
    const [seg, ...rest] = planBatch(evs);
    assert.equal(rest.length, 0);
    assert.equal(seg!.records.length, 1);
    assert.equal(seg!.records[0]!.ev, '5-0');
    assert.equal(seg!.feedback[0]!.ev, '6-0');
    assert.equal(seg!.notifications[0]!.meta_event, '2-0');
    assert.deepEqual(seg!.events.map((e) => e.id), ['2-0', '3-0', '5-0', '6-0', '7-0']);
  });

  it('cuts a batch at each erasure, so what follows it is kept', () => {
    const segs = planBatch([
      { ...base, id: '1-0', kind: 'delivery', key: 'k', data: record('sent') },
      { tenant: 'acme', notificationId: '', createdAt: 0, id: '2-0', kind: 'user_erased', data: { user_id: 'jane' } },
      { ...base, notificationId: 'n2', id: '3-0', kind: 'delivery', key: 'k', data: record('sent') },
    ] as HistoryEvent[]);
    assert.equal(segs.length, 2);
    assert.deepEqual(segs[0]!.erase, { tenant: 'acme', user_id: 'jane', ev: '2-0' });
    assert.equal(segs[1]!.records[0]!.nid, 'n2');
  });

  it('keeps only the fields an event kind defines (no body, no token) and reports a malformed event', () => {
    const ok = checkEvent({ ...base, id: '1-0', kind: 'delivery', key: 'k', data: { ...record('sent'), body: 'hi', token: 'abc', tp: '00-x' } } as HistoryEvent, NOW);
    assert.ok(ok.ok);
    assert.deepEqual(ok.event.data, { ...record('sent'), tp: '00-x' });
    const bad = (ev: object) => checkEvent(ev as HistoryEvent, NOW);
    assert.deepEqual(bad({ ...base, id: 'x', kind: 'accepted', data: {} }), { ok: false, id: 'x', error: 'id is not a stream entry id' });
    assert.equal(bad({ ...base, id: '1-0', kind: 'delivery', data: record('sent') }).ok, false); // no key
    assert.equal(bad({ ...base, id: '1-0', kind: 'accepted', data: { tenant: 'other', created_at: NOW } }).ok, false);
    assert.equal(bad({ ...base, id: '1-0', kind: 'feedback', key: 'k', data: { event: 'x', at: 'never', rank: 1 } }).ok, false);
    assert.equal(bad({ ...base, id: '1-0', kind: 'engagement', data: { type: 'liked', at: NOW } }).ok, false);
    assert.equal(bad({ ...base, createdAt: NOW + 2 * DAY_MS, id: '1-0', kind: 'cancelled', data: { cancelled_at: NOW } }).ok, false);
    assert.equal(bad({ ...base, id: '1-0', kind: 'nonsense', data: {} }).ok, false);
  });

  it('names day partitions and knows which are past the retention', () => {
    const day = dayStart(NOW);
    assert.equal(daySuffix(day), 'p20261203');
    assert.equal(dayOfPartition('events_p20261203'), day);
    assert.equal(dayOfPartition('events_p20261301'), undefined);
    assert.equal(dayOfPartition('events'), undefined);
    assert.deepEqual(daysAhead(NOW, 2), [day, day + DAY_MS, day + 2 * DAY_MS]);
    // A day is dropped once all of it is older than the retention.
    assert.equal(pastRetention(day - 90 * DAY_MS, day + 1, 90), false);
    assert.equal(pastRetention(day - 91 * DAY_MS, day, 90), true);
    assert.equal(pastRetention(day - 90 * DAY_MS, day + DAY_MS, 90), true);
  });

  it('round-trips cursors and refuses one it did not make', () => {
    assert.deepEqual(decodeCursor(encodeCursor(NOW, 'a:b')), { c: NOW, id: 'a:b' });
    assert.throws(() => decodeCursor('nope'), HistoryQueryError);
    assert.throws(() => decodeCursor(Buffer.from('[1.5,"x"]').toString('base64url')), HistoryQueryError);
  });

  it('rates per sent, null when nothing was sent', () => {
    assert.equal(rate(1, 3), 0.3333);
    assert.equal(rate(0, 0), null);
  });

  it('orders migration files by number and refuses a version twice', () => {
    assert.deepEqual(migrationFiles(['010_b.sql', '002_a.sql', 'README.md']).map((f) => f.version), [2, 10]);
    assert.throws(() => migrationFiles(['001_a.sql', '001_b.sql']));
  });

  it('takes only a plain identifier as schema', () => {
    assert.equal(checkSchema('h_1'), 'h_1');
    assert.throws(() => checkSchema('x; DROP TABLE y'));
    assert.throws(() => checkSchema('Public'));
  });
});
