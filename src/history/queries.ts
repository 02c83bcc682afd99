// Reading the history: one notification (the same StoredNotification the Redis store gives, so notificationView shows
// it the same), search with cursor paging, and delivery and engagement statistics. Every query is scoped to a tenant,
// and every value from a caller is a bound parameter; only fixed SQL fragments chosen here are put into the text.
import type { DeliveryFeedback, DeliveryRecord, NotificationMeta, NotPlanned } from '../domain/record.js';
import type { StoredNotification } from '../store/notifications.js';
import type { Queryable } from './db.js';
import type { Tables } from './schema.js';
import { msOf } from './writer.js';

/** A caller's mistake (a bad cursor, an unknown group_by…): the HTTP layer answers 400. */
export class HistoryQueryError extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
    this.name = 'HistoryQueryError';
  }
}

interface Row {
  id: string;
  meta: NotificationMeta;
  c: number;
  cancelled: number | null;
  not_planned: NotPlanned | null;
  deliveries: { key: string; r: DeliveryRecord; f: DeliveryFeedback | null }[];
}

/** The columns a StoredNotification is made of, for a notification aliased `n`. */
const storedColumns = (t: Tables) => `n.id, n.meta, ${msOf('n.created_at')} AS c, ${msOf('n.cancelled_at')} AS cancelled, n.not_planned,
  COALESCE((SELECT jsonb_agg(jsonb_build_object('key', d.key, 'r', d.record, 'f', d.feedback)) FROM ${t.deliveries} d
             WHERE d.tenant = n.tenant AND d.notification_id = n.id AND d.created_at = n.created_at AND d.record IS NOT NULL),
           '[]'::jsonb) AS deliveries`;

/** Pure: a row as the Redis store reads a record (NotificationStore.get): same fields, deliveries by key. */
export function toStored(row: Row): StoredNotification {
  const deliveries: StoredNotification['deliveries'] = row.deliveries.map(({ key, r, f }) => ({
    key, ...r, ...(f?.status && { status: f.status }), ...(f && { feedback: f }),
  }));
  deliveries.sort((a, b) => a.key.localeCompare(b.key));
  return {
    id: row.id, meta: row.meta, deliveries, ...(row.cancelled !== null && { cancelledAt: Number(row.cancelled) }),
    ...(row.not_planned && { notPlanned: row.not_planned }),
  };
}

/** The tenant's notification `id` from the history, or null. */
export async function getNotification(q: Queryable, t: Tables, tenant: string, id: string): Promise<StoredNotification | null> {
  const { rows } = await q.query<Row>(
    `SELECT ${storedColumns(t)} FROM ${t.notifications} n WHERE n.tenant = $1 AND n.id = $2 ORDER BY n.created_at DESC LIMIT 1`,
    [tenant, id],
  );
  return rows[0] ? toStored(rows[0]) : null;
}

export interface SearchFilter {
  /** Notifications with a delivery to this user (so from when the user's part is planned). */
  user_id?: string;
  /** The notification's shown status (accepted, processing, sent, partially_sent, failed, not_sent, scheduled, cancelled). */
  status?: string;
  /** Notifications with a delivery on this channel (to user_id, when both are given). */
  channel?: string;
  category?: string;
  template?: string;
  /** created_at ≥ since (ms since epoch). */
  since?: number;
  /** created_at < until (ms since epoch). */
  until?: number;
  /** next_cursor of the previous page. */
  cursor?: string;
  /** 1–500; default 50. */
  limit?: number;
}

export interface SearchPage {
  /** Newest first (created_at, then id, descending). */
  notifications: StoredNotification[];
  /** Give it as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

export const MAX_LIMIT = 500;

/** Pure: the opaque cursor of a page's last row (created_at ms and id), and back; throws HistoryQueryError if bad. */
export const encodeCursor = (c: number, id: string): string => Buffer.from(JSON.stringify([c, id]), 'utf8').toString('base64url');
export function decodeCursor(cursor: string): { c: number; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return { c: v[0] as number, id: v[1] };
  } catch { /* reported below */ }
  throw new HistoryQueryError('cursor is not one this service gave', 'cursor');
}

const ts = (p: string) => `(timestamptz 'epoch' + ${p}::bigint * interval '1 millisecond')`;

/** The tenant's notifications matching `f`, newest first, one page (keyset paging: stable while new ones arrive). */
export async function search(q: Queryable, t: Tables, tenant: string, f: SearchFilter): Promise<SearchPage> {
  const limit = f.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new HistoryQueryError(`limit must be 1-${MAX_LIMIT}`, 'limit');
  const params: unknown[] = [tenant];
  const p = (v: unknown) => `$${params.push(v)}`;
  const where = ['n.tenant = $1'];
  for (const col of ['status', 'category', 'template'] as const) {
    if (f[col] !== undefined) where.push(`n.${col} = ${p(f[col])}`);
  }
  if (f.since !== undefined) where.push(`n.created_at >= ${ts(p(checkMs(f.since, 'since')))}`);
  if (f.until !== undefined) where.push(`n.created_at < ${ts(p(checkMs(f.until, 'until')))}`);
  if (f.cursor !== undefined) {
    const cur = decodeCursor(f.cursor);
    where.push(`(n.created_at, n.id) < (${ts(p(cur.c))}, ${p(cur.id)})`);
  }
  if (f.user_id !== undefined || f.channel !== undefined) {
    const d = ['d.tenant = n.tenant', 'd.notification_id = n.id', 'd.created_at = n.created_at', 'd.record IS NOT NULL'];
    if (f.user_id !== undefined) d.push(`d.user_id = ${p(f.user_id)}`);
    if (f.channel !== undefined) d.push(`d.channel = ${p(f.channel)}`);
    where.push(`EXISTS (SELECT 1 FROM ${t.deliveries} d WHERE ${d.join(' AND ')})`);
  }
  const { rows } = await q.query<Row>(
    `SELECT ${storedColumns(t)} FROM ${t.notifications} n WHERE ${where.join(' AND ')}
      ORDER BY n.created_at DESC, n.id DESC LIMIT ${p(limit + 1)}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { notifications: page.map(toStored), next_cursor: rows.length > limit && last ? encodeCursor(Number(last.c), last.id) : null };
}

function checkMs(v: number, field: string): number {
  if (!Number.isSafeInteger(v)) throw new HistoryQueryError(`${field} must be a time (ms since epoch)`, field);
  return v;
}

export const GROUP_BY = ['channel', 'template', 'category', 'provider', 'day'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** The SQL of each grouping (fixed text: group_by picks one, it is never put into SQL itself). */
const GROUP_SQL: Record<GroupBy, string> = {
  channel: 'd.channel', provider: 'd.provider', template: 'n.template', category: 'n.category',
  day: `to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

export interface StatsQuery {
  /** Notifications created from (ms since epoch, inclusive) … */
  from: number;
  /** … to (exclusive). */
  to: number;
  group_by: GroupBy;
}

/**
 * One group's counts, of deliveries (with a record) of the notifications created in [from, to):
 * - sent: handed to a provider (the record says sent, or the provider reported on it since);
 * - delivered: the provider confirmed arrival (delivered, or complained: a complaint is about a message that arrived);
 * - failed: failed or undelivered (not bounced); bounced; complained;
 * - opened / clicked: deliveries with at least one open / click (an app's engagement event, or SES's Open / Click);
 * - delivery_rate = delivered / sent; open_rate = opened / sent; click_rate = clicked / sent (per sent, not per
 *   delivered: APNs and FCM never confirm arrival). Null when sent is 0. Rounded to 4 decimals.
 * `group` is null for deliveries without that value (no template, no provider).
 */
export interface StatsRow {
  group: string | null;
  sent: number;
  delivered: number;
  failed: number;
  bounced: number;
  complained: number;
  opened: number;
  clicked: number;
  delivery_rate: number | null;
  open_rate: number | null;
  click_rate: number | null;
}

/** Pure: a rate, as documented on StatsRow. */
export const rate = (n: number, sent: number): number | null => (sent > 0 ? Math.round((n / sent) * 10_000) / 10_000 : null);

/** Events counting as an open or a click of the delivery `d` (unkeyed engagement: the notification's deliveries on its channel, or all). */
const engaged = (t: Tables, app: string, ses: string) => `EXISTS (SELECT 1 FROM ${t.events} e
  WHERE e.tenant = d.tenant AND e.notification_id = d.notification_id AND e.created_at = d.created_at
    AND ((e.kind = 'engagement' AND e.status = '${app}') OR (e.kind = 'feedback' AND e.data->>'event' = '${ses}'))
    AND (e.delivery_key = d.key OR (e.delivery_key IS NULL AND COALESCE(e.data->>'channel', d.channel) = d.channel)))`;

export async function stats(q: Queryable, t: Tables, tenant: string, s: StatsQuery): Promise<StatsRow[]> {
  if (!GROUP_BY.includes(s.group_by)) throw new HistoryQueryError(`group_by must be one of ${GROUP_BY.join(', ')}`, 'group_by');
  checkMs(s.from, 'from');
  checkMs(s.to, 'to');
  const { rows } = await q.query<Omit<StatsRow, 'delivery_rate' | 'open_rate' | 'click_rate'>>(
    `WITH x AS (
       SELECT ${GROUP_SQL[s.group_by]} AS grp, d.status, d.record->>'status' AS recorded,
              ${engaged(t, 'opened', 'open')} AS opened, ${engaged(t, 'clicked', 'click')} AS clicked
         FROM ${t.deliveries} d JOIN ${t.notifications} n ON n.tenant = d.tenant AND n.id = d.notification_id AND n.created_at = d.created_at
        WHERE d.tenant = $1 AND d.created_at >= ${ts('$2')} AND d.created_at < ${ts('$3')} AND d.record IS NOT NULL)
     SELECT grp AS "group",
            (count(*) FILTER (WHERE recorded = 'sent' OR status IN ('delivered', 'bounced', 'complained', 'undelivered')))::int AS sent,
            (count(*) FILTER (WHERE status IN ('delivered', 'complained')))::int AS delivered,
            (count(*) FILTER (WHERE status IN ('failed', 'undelivered')))::int AS failed,
            (count(*) FILTER (WHERE status = 'bounced'))::int AS bounced,
            (count(*) FILTER (WHERE status = 'complained'))::int AS complained,
            (count(*) FILTER (WHERE opened))::int AS opened,
            (count(*) FILTER (WHERE clicked))::int AS clicked
       FROM x GROUP BY grp ORDER BY grp NULLS LAST`,
    [tenant, s.from, s.to],
  );
  return rows.map((r) => ({
    ...r, delivery_rate: rate(r.delivered, r.sent), open_rate: rate(r.opened, r.sent), click_rate: rate(r.clicked, r.sent),
  }));
}
