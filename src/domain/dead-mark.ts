// Pure: what a dead-lettered stream entry leaves on its notification record, so the record reaches a terminal state
// too (dead-letter.lua applies it in the same step as the dead letter).
import { tryJson } from './dead-letter.js';
import { idForEntry } from './entry.js';
import { DELIVERY_FIELD_PREFIX } from './record.js';
import { FLUSH_FIELD, TASK_FIELD, type FlushRef, type Held } from './reentry.js';
import type { DeliveryTask } from './task.js';

/**
 * `delivery`: that delivery becomes `failed` (if it was still open). `held`: the user's held (deferred) deliveries of
 * the notification become `failed` (a collapse window's end). `notification`: the notification is marked not planned.
 */
export type DeadMark =
  | { nid: string; tenant: string; kind: 'delivery'; field: string }
  | { nid: string; tenant: string; kind: 'held'; userId: string }
  | { nid: string; tenant: string; kind: 'notification' };

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** A lane entry carries its task in field `d`; without a readable nid, dk and tenant there is nothing to mark. */
export function laneDeadMark(fields: Record<string, string>): DeadMark | undefined {
  const t = tryJson(fields.d) as Partial<DeliveryTask> | undefined;
  if (!t || !isText(t.nid) || !isText(t.dk) || !isText(t.tenant)) return undefined;
  return { nid: t.nid, tenant: t.tenant, kind: 'delivery', field: DELIVERY_FIELD_PREFIX + t.dk };
}

/**
 * An ingest entry: a notification (its own id, or the one derived from the entry id), a held delivery coming back,
 * or a collapse window's end. The record is only touched when it belongs to the tenant the entry names.
 */
export function ingestDeadMark(entryId: string, fields: Record<string, string>): DeadMark | undefined {
  if (fields.payload !== undefined) {
    const n = tryJson(fields.payload) as { tenant?: unknown; id?: unknown } | undefined;
    if (!n || !isText(n.tenant)) return undefined;
    return { nid: isText(n.id) ? n.id : idForEntry(entryId), tenant: n.tenant, kind: 'notification' };
  }
  if (fields[TASK_FIELD] !== undefined) {
    const d = (tryJson(fields[TASK_FIELD]) as Partial<Held> | undefined)?.d;
    if (!d || !isText(d.nid) || !isText(d.dk) || !isText(d.tenant)) return undefined;
    return { nid: d.nid, tenant: d.tenant, kind: 'delivery', field: DELIVERY_FIELD_PREFIX + d.dk };
  }
  const f = tryJson(fields[FLUSH_FIELD]) as Partial<FlushRef> | undefined;
  if (!f || !isText(f.nid) || !isText(f.tenant) || !isText(f.user_id)) return undefined;
  return { nid: f.nid, tenant: f.tenant, kind: 'held', userId: f.user_id };
}

/** dead-letter.lua's mark arguments: kind, delivery field or user id, tenant ('' when there is no mark). */
export function markArgs(m: DeadMark | undefined): [string, string, string] {
  if (!m) return ['', '', ''];
  return [m.kind, m.kind === 'delivery' ? m.field : m.kind === 'held' ? m.userId : '', m.tenant];
}

/** Pairs a mark with its record's key (records are per tenant). */
export const keyedMark = (m: DeadMark | undefined, record: (tenant: string, nid: string) => string): { key: string; mark: DeadMark } | undefined =>
  m && { key: record(m.tenant, m.nid), mark: m };
