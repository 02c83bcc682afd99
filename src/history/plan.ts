// Pure: a batch of checked events turned into the rows the writer upserts, a few multi-row statements per batch.
// One statement must not touch a row twice (ON CONFLICT DO UPDATE refuses), so each row's events are folded here by
// the same rules the SQL applies against what is stored: the newest record, the strongest feedback, the newest meta.
// A `user_erased` event cuts the batch into segments: what came before it is written, then erased, then the rest is
// written, so a user made again after the erasure keeps the new history.
import type { DeliveryFeedback, DeliveryRecord, NotificationMeta, NotPlanned } from '../domain/record.js';
import type { Engagement, HistoryEvent } from './events.js';

/** Compares two stream entry ids ("ms-seq") as the stream orders them. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm) || BigInt(as) - BigInt(bs);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/** The ms part of a stream id: when Redis appended the event. */
export const streamMs = (id: string): number => Number(id.split('-')[0]);

export interface NotificationRow {
  tenant: string;
  id: string;
  c: number;
  /** The newest accepted meta, or what the other events tell ({tenant, created_at}) with meta_event null. */
  meta: NotificationMeta;
  meta_event: string | null;
  /** The earliest cancel. */
  cancelled_at: number | null;
  not_planned: NotPlanned | null;
  np_event: string | null;
  /** Stream time of the newest event. */
  updated: number;
}

export interface RecordRow { tenant: string; nid: string; key: string; c: number; record: DeliveryRecord; ev: string; updated: number }
export interface FeedbackRow { tenant: string; nid: string; key: string; c: number; feedback: DeliveryFeedback; rank: number; ev: string; updated: number }
export interface EventRow {
  id: string; tenant: string; nid: string; key: string | null; user_id: string | null; kind: string; status: string | null;
  at: number; c: number; data: unknown;
}

export interface Segment {
  notifications: NotificationRow[];
  records: RecordRow[];
  feedback: FeedbackRow[];
  events: EventRow[];
  /** Applied after the rows above. */
  erase?: { tenant: string; user_id: string; ev: string };
}

const rowKey = (...parts: string[]) => parts.join('\u0000');

/** When the event says it happened (ms), for the events table. */
function eventAt(ev: HistoryEvent): number {
  switch (ev.kind) {
    case 'accepted': return ev.data.created_at;
    case 'delivery': return Date.parse(ev.data.updated_at);
    case 'feedback': return Date.parse(ev.data.received_at ?? ev.data.at);
    case 'cancelled': return ev.data.cancelled_at;
    case 'not_planned': return Date.parse(ev.data.at);
    case 'engagement': return (ev.data as Engagement).at;
    default: return streamMs(ev.id);
  }
}

function eventStatus(ev: HistoryEvent): string | null {
  switch (ev.kind) {
    case 'delivery': return ev.data.status;
    case 'feedback': return ev.data.status ?? null;
    case 'cancelled': return 'cancelled';
    case 'engagement': return ev.data.type;
    default: return null;
  }
}

/** Folds checked events (in any order) into segments of rows; events of one id beyond the first are dropped. */
export function planBatch(events: readonly HistoryEvent[]): Segment[] {
  const segments: Segment[] = [];
  let notes = new Map<string, NotificationRow>();
  let records = new Map<string, RecordRow>();
  let feedback = new Map<string, FeedbackRow>();
  let rows: EventRow[] = [];
  const seen = new Set<string>();
  // Rows in key order: concurrent archivers then lock rows in the same order, and do not deadlock on each other.
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  const flush = (erase?: Segment['erase']) => {
    segments.push({ notifications: sorted(notes), records: sorted(records), feedback: sorted(feedback), events: rows, ...(erase && { erase }) });
    notes = new Map();
    records = new Map();
    feedback = new Map();
    rows = [];
  };
  for (const ev of [...events].sort((a, b) => compareIds(a.id, b.id))) {
    if (seen.has(ev.id)) continue;
    seen.add(ev.id);
    if (ev.kind === 'user_erased') {
      flush({ tenant: ev.tenant, user_id: ev.data.user_id, ev: ev.id });
      continue;
    }
    const ms = streamMs(ev.id);
    const nk = rowKey(ev.tenant, ev.notificationId, String(ev.createdAt));
    let n = notes.get(nk);
    if (!n) {
      n = {
        tenant: ev.tenant, id: ev.notificationId, c: ev.createdAt, meta: { tenant: ev.tenant, created_at: ev.createdAt }, meta_event: null,
        cancelled_at: null, not_planned: null, np_event: null, updated: ms,
      };
      notes.set(nk, n);
    }
    n.updated = Math.max(n.updated, ms); // sorted, so this is ms; kept explicit
    const key = 'key' in ev && ev.key !== undefined ? ev.key : null;
    let userId: string | null = null;
    switch (ev.kind) {
      case 'accepted':
        n.meta = ev.data;
        n.meta_event = ev.id;
        break;
      case 'cancelled':
        n.cancelled_at = n.cancelled_at === null ? ev.data.cancelled_at : Math.min(n.cancelled_at, ev.data.cancelled_at);
        break;
      case 'not_planned':
        n.not_planned = 'cleared' in ev.data ? null : ev.data;
        n.np_event = ev.id;
        break;
      case 'delivery': {
        // Sorted by id: the last one seen is the newest.
        records.set(rowKey(nk, ev.key), { tenant: ev.tenant, nid: ev.notificationId, key: ev.key, c: ev.createdAt, record: ev.data, ev: ev.id, updated: ms });
        userId = ev.data.user_id;
        break;
      }
      case 'feedback': {
        const fk = rowKey(nk, ev.key);
        const rank = Math.trunc(ev.data.rank);
        const old = feedback.get(fk);
        // As feedback.lua: an equal rank replaces (the later wins), a lower one never does.
        if (!old || rank >= old.rank) {
          feedback.set(fk, { tenant: ev.tenant, nid: ev.notificationId, key: ev.key, c: ev.createdAt, feedback: { ...ev.data, rank }, rank, ev: ev.id, updated: ms });
        }
        break;
      }
      case 'engagement':
        break;
    }
    rows.push({
      id: ev.id, tenant: ev.tenant, nid: ev.notificationId, key, user_id: userId, kind: ev.kind, status: eventStatus(ev),
      at: eventAt(ev), c: ev.createdAt, data: ev.data,
    });
  }
  if (notes.size > 0 || rows.length > 0) flush();
  return segments;
}
