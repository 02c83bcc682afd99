// Pure: the status event stream's entry format (`<prefix>:events`), the service's changelog. Every change of a
// notification or delivery record appends one entry in the same Lua script that writes the record; the archiver (and
// later webhooks and alerts) read it as consumer groups.
import type { DeliveryFeedback, DeliveryRecord, NotificationMeta, NotPlanned } from '../domain/record.js';

/**
 * Entry fields, all strings:
 * - `t` tenant; `n` notification id (empty for `user_erased`); `c` the notification's created_at (ms since epoch:
 *   history is partitioned by it, so every event of a notification lands in the same day);
 * - `e` the kind; `k` the delivery key (`delivery`, `feedback`, `engagement`);
 * - `d` the kind's JSON: what the script wrote into the record (`meta`, `d:<k>`, `f:<k>`, `np`), or the kind's own.
 */
export type HistoryEvent =
  | Base<'accepted', NotificationMeta>
  | Base<'delivery', DeliveryRecord> & { key: string }
  | Base<'feedback', DeliveryFeedback> & { key: string }
  | Base<'cancelled', { cancelled_at: number }>
  /** `{cleared: true, at}` when its dead letter was redriven (planned again). */
  | Base<'not_planned', NotPlanned | { cleared: true; at: string }>
  | Base<'engagement', Engagement> & { key?: string }
  | Base<'user_erased', { user_id: string }>;

export type EventKind = HistoryEvent['kind'];

interface Base<K extends string, D> {
  /** The stream entry id: unique, and the order of events (a re-read batch carries the same ids). */
  id: string;
  kind: K;
  tenant: string;
  notificationId: string;
  createdAt: number;
  data: D;
}

/** An app's report that a user opened or clicked a notification (POST /v1/notifications/{id}/events). */
export interface Engagement {
  type: 'opened' | 'clicked';
  channel?: string;
  /** ms since epoch. */
  at: number;
}

export const EVENT_KINDS: readonly EventKind[] = ['accepted', 'delivery', 'feedback', 'cancelled', 'not_planned', 'engagement', 'user_erased'];
const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS);
const KEYED: ReadonlySet<string> = new Set(['delivery', 'feedback']);

/** Decodes one stream entry; a malformed one (never written by this service) gives an error, never throws. */
export function decodeEvent(id: string, fields: Record<string, string>): HistoryEvent | { error: string } {
  const { t, n, c, e, k, d } = fields;
  if (t === undefined || n === undefined || c === undefined || e === undefined || d === undefined) {
    return { error: 'missing one of the fields t, n, c, e, d' };
  }
  if (!KINDS.has(e)) return { error: `unknown event kind "${e}"` };
  if (KEYED.has(e) && !k) return { error: `a ${e} event needs k (the delivery key)` };
  const createdAt = Number(c);
  if (!Number.isFinite(createdAt)) return { error: 'c is not a number' };
  let data: unknown;
  try {
    data = JSON.parse(d);
  } catch {
    return { error: 'd is not JSON' };
  }
  if (typeof data !== 'object' || data === null) return { error: 'd is not a JSON object' };
  return { id, kind: e, tenant: t, notificationId: n, createdAt, data, ...(k ? { key: k } : {}) } as HistoryEvent;
}

/** An event before the stream gives it an id (distributive: each kind keeps its own `data` and `key`). */
export type NewEvent = HistoryEvent extends infer E ? (E extends HistoryEvent ? Omit<E, 'id'> : never) : never;

/** The flat XADD field list of an event (what the scripts write, in this order), for producers written in JS. */
export function eventFields(ev: NewEvent): string[] {
  const out = ['t', ev.tenant, 'n', ev.notificationId, 'c', String(ev.createdAt), 'e', ev.kind];
  const key = (ev as { key?: string }).key;
  if (key !== undefined) out.push('k', key);
  out.push('d', JSON.stringify(ev.data));
  return out;
}
