// Writes a batch of events in one transaction, a handful of multi-row statements whatever its size (each takes its
// rows as one JSON parameter, read with jsonb_to_recordset). Idempotent: every upsert keeps the newer of what is
// stored and what comes (by stream id, or feedback rank then stream id), events are ON CONFLICT DO NOTHING, and
// updated_at is the stream time of the newest event, not the clock: the same batch applied again changes nothing,
// and batches applied out of order end the same.
import { createHash } from 'node:crypto';
import type { DeliveryFeedback, DeliveryRecord, NotificationMeta } from '../domain/record.js';
import { shownStatus, type ShownStatus } from '../domain/status.js';
import type { Queryable } from './db.js';
import type { Segment } from './plan.js';
import { compareIds } from './plan.js';
import type { Tables } from './schema.js';

/** Shown statuses after which nothing more is sent (feedback may still come): the archiver shortens their Redis life. */
const OPEN_STATUSES: ReadonlySet<ShownStatus> = new Set(['accepted', 'processing', 'scheduled']);
export const isTerminal = (s: ShownStatus): boolean => !OPEN_STATUSES.has(s);

/** A timestamptz from a column of ms since the epoch, exactly (no float seconds). */
const ts = (col: string) => `(timestamptz 'epoch' + ${col} * interval '1 millisecond')`;
/** A timestamptz column as ms since the epoch (float8: a plain number from either driver). */
export const msOf = (col: string) => `(extract(epoch from ${col}) * 1000)::float8`;

const json = (rows: unknown) => JSON.stringify(rows);

export interface NotificationRef { tenant: string; id: string; c: number }

export interface Erased { tenant: string; user_id: string; deliveries: number; notifications: number }

/** Writes one segment's rows; returns the notifications it touched. */
export async function writeSegment(tx: Queryable, t: Tables, seg: Segment): Promise<NotificationRef[]> {
  const k = t.streamKey;
  const records = await withoutErased(tx, t, seg);
  const kept = new Set(records);
  const erasedEvents = new Set(seg.records.filter((r) => !kept.has(r)).map((r) => r.ev));
  const events = seg.events.filter((e) => !erasedEvents.has(e.id));

  if (seg.notifications.length > 0) {
    const newerMeta = `(EXCLUDED.meta_event IS NOT NULL AND (n.meta_event IS NULL OR ${k('EXCLUDED.meta_event')} > ${k('n.meta_event')}))`;
    const newerNp = `(EXCLUDED.not_planned_event IS NOT NULL AND (n.not_planned_event IS NULL OR ${k('EXCLUDED.not_planned_event')} > ${k('n.not_planned_event')}))`;
    const fromMeta = ['meta', 'meta_event', 'category', 'event_id', 'template'].map((c) => `${c} = CASE WHEN ${newerMeta} THEN EXCLUDED.${c} ELSE n.${c} END`);
    await tx.query(
      `INSERT INTO ${t.notifications} AS n
         (tenant, id, created_at, meta, meta_event, category, event_id, template, status, cancelled_at, not_planned, not_planned_event, updated_at)
       SELECT x.tenant, x.id, ${ts('x.c')}, x.meta, x.meta_event, x.meta->>'category', x.meta->>'event_id', x.meta->>'template',
              'accepted', ${ts('x.cancelled_at')}, x.not_planned, x.np_event, ${ts('x.updated')}
         FROM jsonb_to_recordset($1::jsonb)
           AS x(tenant text, id text, c bigint, meta jsonb, meta_event text, cancelled_at bigint, not_planned jsonb, np_event text, updated bigint)
       ON CONFLICT (tenant, id, created_at) DO UPDATE SET ${fromMeta.join(', ')},
         cancelled_at = LEAST(n.cancelled_at, EXCLUDED.cancelled_at),
         not_planned = CASE WHEN ${newerNp} THEN EXCLUDED.not_planned ELSE n.not_planned END,
         not_planned_event = CASE WHEN ${newerNp} THEN EXCLUDED.not_planned_event ELSE n.not_planned_event END,
         updated_at = GREATEST(n.updated_at, EXCLUDED.updated_at)`,
      [json(seg.notifications.map((n) => ({ ...n, meta: metaRow(n.meta) })))],
    );
  }
  if (records.length > 0) {
    await tx.query(
      `INSERT INTO ${t.deliveries} AS d
         (tenant, notification_id, key, created_at, user_id, channel, provider, to_masked, status, record, record_event, updated_at)
       SELECT x.tenant, x.nid, x.key, ${ts('x.c')}, x.record->>'user_id', x.record->>'channel', x.record->>'provider', x.record->>'to',
              x.record->>'status', x.record, x.ev, ${ts('x.updated')}
         FROM jsonb_to_recordset($1::jsonb) AS x(tenant text, nid text, key text, c bigint, record jsonb, ev text, updated bigint)
       ON CONFLICT (tenant, notification_id, created_at, key) DO UPDATE SET
         user_id = EXCLUDED.user_id, channel = EXCLUDED.channel, provider = EXCLUDED.provider, to_masked = EXCLUDED.to_masked,
         record = EXCLUDED.record, record_event = EXCLUDED.record_event,
         status = COALESCE(d.feedback->>'status', EXCLUDED.status), updated_at = GREATEST(d.updated_at, EXCLUDED.updated_at)
       WHERE d.record_event IS NULL OR ${k('EXCLUDED.record_event')} > ${k('d.record_event')}`,
      [json(records)],
    );
  }
  if (seg.feedback.length > 0) {
    // A row made here (feedback read before its delivery event) has no record yet: it is not shown until it has one.
    await tx.query(
      `INSERT INTO ${t.deliveries} AS d (tenant, notification_id, key, created_at, status, feedback, feedback_rank, feedback_event, updated_at)
       SELECT x.tenant, x.nid, x.key, ${ts('x.c')}, x.feedback->>'status', x.feedback, x.rank, x.ev, ${ts('x.updated')}
         FROM jsonb_to_recordset($1::jsonb) AS x(tenant text, nid text, key text, c bigint, feedback jsonb, rank int, ev text, updated bigint)
       ON CONFLICT (tenant, notification_id, created_at, key) DO UPDATE SET
         feedback = EXCLUDED.feedback, feedback_rank = EXCLUDED.feedback_rank, feedback_event = EXCLUDED.feedback_event,
         status = COALESCE(EXCLUDED.feedback->>'status', d.record->>'status'), updated_at = GREATEST(d.updated_at, EXCLUDED.updated_at)
       WHERE d.feedback_event IS NULL OR EXCLUDED.feedback_rank > d.feedback_rank
          OR (EXCLUDED.feedback_rank = d.feedback_rank AND ${k('EXCLUDED.feedback_event')} > ${k('d.feedback_event')})`,
      [json(seg.feedback)],
    );
  }
  if (events.length > 0) {
    // Events about a delivery carry its user (from the record, or the stored delivery), so erasure finds them.
    await tx.query(
      `INSERT INTO ${t.events} (id, tenant, notification_id, delivery_key, user_id, kind, status, at, created_at, data)
       SELECT x.id, x.tenant, x.nid, x.key,
              COALESCE(x.user_id, (SELECT d.user_id FROM ${t.deliveries} d
                                    WHERE d.tenant = x.tenant AND d.notification_id = x.nid AND d.created_at = ${ts('x.c')} AND d.key = x.key)),
              x.kind, x.status, ${ts('x.at')}, ${ts('x.c')}, x.data
         FROM jsonb_to_recordset($1::jsonb)
           AS x(id text, tenant text, nid text, key text, user_id text, kind text, status text, at bigint, c bigint, data jsonb)
       ON CONFLICT DO NOTHING`,
      [json(events)],
    );
  }
  return seg.notifications.map((n) => ({ tenant: n.tenant, id: n.id, c: n.c }));
}

/** meta as stored: its template kept only if a string (the column is text). */
function metaRow(meta: NotificationMeta): NotificationMeta {
  const tpl = (meta as { template?: unknown }).template;
  return tpl === undefined || typeof tpl === 'string' ? meta : ({ ...meta, template: undefined } as NotificationMeta);
}

export const userHash = (tenant: string, userId: string): string => createHash('sha256').update(`${tenant}\u0000${userId}`).digest('hex');

/** The segment's records, less those of users erased by a later event than the record's (a batch read again late). */
async function withoutErased(tx: Queryable, t: Tables, seg: Segment): Promise<Segment['records']> {
  if (seg.records.length === 0) return seg.records;
  const pairs = [...new Map(seg.records.map((r) => [userHash(r.tenant, r.record.user_id), { tenant: r.tenant, h: userHash(r.tenant, r.record.user_id) }])).values()];
  const { rows } = await tx.query<{ tenant: string; user_hash: string; event: string }>(
    `SELECT e.tenant, e.user_hash, e.event FROM ${t.erasures} e JOIN jsonb_to_recordset($1::jsonb) AS x(tenant text, h text)
        ON e.tenant = x.tenant AND e.user_hash = x.h`,
    [json(pairs)],
  );
  if (rows.length === 0) return seg.records;
  const erasedAt = new Map(rows.map((r) => [r.user_hash, r.event]));
  return seg.records.filter((r) => {
    const at = erasedAt.get(userHash(r.tenant, r.record.user_id));
    return at === undefined || compareIds(r.ev, at) > 0;
  });
}

/**
 * Erases a user's history in a tenant: their deliveries and every event about them, and the notifications left with
 * no delivery (with all their events). A notification that still has other users' deliveries stays (its meta names
 * no user). The erasure is remembered (hashed), see withoutErased. Returns the notifications that stay, to restatus.
 */
export async function eraseUser(tx: Queryable, t: Tables, e: NonNullable<Segment['erase']>): Promise<{ erased: Erased; kept: NotificationRef[] }> {
  // By user, and by the user's deliveries (feedback archived before its delivery was written carries no user).
  await tx.query(`DELETE FROM ${t.events} WHERE tenant = $1 AND user_id = $2`, [e.tenant, e.user_id]);
  await tx.query(
    `DELETE FROM ${t.events} ev USING ${t.deliveries} d WHERE d.tenant = $1 AND d.user_id = $2
        AND ev.tenant = d.tenant AND ev.notification_id = d.notification_id AND ev.created_at = d.created_at AND ev.delivery_key = d.key`,
    [e.tenant, e.user_id],
  );
  const { rows } = await tx.query<{ nid: string; c: number }>(
    `DELETE FROM ${t.deliveries} WHERE tenant = $1 AND user_id = $2 RETURNING notification_id AS nid, ${msOf('created_at')} AS c`,
    [e.tenant, e.user_id],
  );
  const touched = [...new Map(rows.map((r) => [`${r.nid}\u0000${r.c}`, { nid: r.nid, c: Number(r.c) }])).values()];
  let gone: string[] = [];
  if (touched.length > 0) {
    const empty = `WITH t AS (SELECT x.nid, ${ts('x.c')} AS c FROM jsonb_to_recordset($2::jsonb) AS x(nid text, c bigint)),
      empty AS (SELECT t.nid, t.c FROM t WHERE NOT EXISTS
        (SELECT 1 FROM ${t.deliveries} d WHERE d.tenant = $1 AND d.notification_id = t.nid AND d.created_at = t.c))`;
    await tx.query(`${empty} DELETE FROM ${t.events} ev USING empty WHERE ev.tenant = $1 AND ev.notification_id = empty.nid AND ev.created_at = empty.c`,
      [e.tenant, json(touched)]);
    const res = await tx.query<{ id: string }>(
      `${empty} DELETE FROM ${t.notifications} n USING empty WHERE n.tenant = $1 AND n.id = empty.nid AND n.created_at = empty.c RETURNING n.id`,
      [e.tenant, json(touched)],
    );
    gone = res.rows.map((r) => r.id);
  }
  await tx.query(
    `INSERT INTO ${t.erasures} AS er (tenant, user_hash, event) VALUES ($1, $2, $3)
     ON CONFLICT (tenant, user_hash) DO UPDATE SET event = EXCLUDED.event WHERE ${t.streamKey('EXCLUDED.event')} > ${t.streamKey('er.event')}`,
    [e.tenant, userHash(e.tenant, e.user_id), e.ev],
  );
  const goneSet = new Set(gone);
  return {
    erased: { tenant: e.tenant, user_id: e.user_id, deliveries: rows.length, notifications: gone.length },
    kept: touched.filter((n) => !goneSet.has(n.nid)).map((n) => ({ tenant: e.tenant, id: n.nid, c: n.c })),
  };
}

/**
 * Recomputes the shown status of `refs` from what is stored (shownStatus over the deliveries that have a record, each
 * with feedback's status over the record's) and stores the ones that changed. Returns each one's status.
 */
export async function restatus(tx: Queryable, t: Tables, refs: readonly NotificationRef[]): Promise<{ tenant: string; id: string; status: ShownStatus }[]> {
  if (refs.length === 0) return [];
  const { rows } = await tx.query<{
    tenant: string; id: string; c: number; meta: NotificationMeta; status: string; cancelled: number | null; np: boolean;
    deliveries: { r: DeliveryRecord; f: DeliveryFeedback | null }[];
  }>(
    `SELECT n.tenant, n.id, ${msOf('n.created_at')} AS c, n.meta, n.status, ${msOf('n.cancelled_at')} AS cancelled,
            n.not_planned IS NOT NULL AS np,
            COALESCE((SELECT jsonb_agg(jsonb_build_object('r', d.record, 'f', d.feedback)) FROM ${t.deliveries} d
                       WHERE d.tenant = n.tenant AND d.notification_id = n.id AND d.created_at = n.created_at AND d.record IS NOT NULL),
                     '[]'::jsonb) AS deliveries
       FROM jsonb_to_recordset($1::jsonb) AS x(tenant text, id text, c bigint)
       JOIN ${t.notifications} n ON n.tenant = x.tenant AND n.id = x.id AND n.created_at = ${ts('x.c')}`,
    [json(uniqueRefs(refs))],
  );
  const out = rows.map((r) => {
    const status = shownStatus({
      deliveries: r.deliveries.map((d) => ({ ...d.r, status: d.f?.status ?? d.r.status })),
      ...(r.meta.send_at !== undefined && { sendAt: r.meta.send_at }),
      ...(r.cancelled !== null && { cancelledAt: Number(r.cancelled) }),
      ...(r.np && { notPlanned: true }),
    });
    return { tenant: r.tenant, id: r.id, c: Number(r.c), status, changed: status !== r.status };
  });
  const changed = out.filter((r) => r.changed);
  if (changed.length > 0) {
    await tx.query(
      `UPDATE ${t.notifications} n SET status = x.status FROM jsonb_to_recordset($1::jsonb) AS x(tenant text, id text, c bigint, status text)
        WHERE n.tenant = x.tenant AND n.id = x.id AND n.created_at = ${ts('x.c')}`,
      [json(changed.map(({ tenant, id, c, status }) => ({ tenant, id, c, status })))],
    );
  }
  return out.map(({ tenant, id, status }) => ({ tenant, id, status }));
}

function uniqueRefs(refs: readonly NotificationRef[]): NotificationRef[] {
  return [...new Map(refs.map((r) => [`${r.tenant}\u0000${r.id}\u0000${r.c}`, r])).values()];
}
