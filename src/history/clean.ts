// Pure: checks an event before it is archived, and keeps of its data only the fields the history stores. A field the
// record does not define (a body, a token, anything a later version adds carelessly) never reaches PostgreSQL: the
// lists below are the whole of what is kept. A malformed event is reported, not written, and never fails its batch.
import type { HistoryEvent } from './events.js';

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
/** created_at further ahead of the archiver's clock than this is taken for garbage (it would make a far partition). */
export const MAX_FUTURE_MS = 86_400_000;

const META_FIELDS = ['tenant', 'created_at', 'event_id', 'category', 'recipients', 'send_at', 'collapse_key', 'template'] as const;
const RECORD_FIELDS = [
  'user_id', 'channel', 'provider', 'to', 'status', 'attempts', 'provider_message_id', 'last_error', 'duplicate_of',
  'coalesced_into', 'deferred_until', 'updated_at', 'tp',
] as const;
const FEEDBACK_FIELDS = ['event', 'at', 'status', 'detail', 'provider_message_id', 'rank', 'received_at'] as const;
const NOT_PLANNED_FIELDS = ['reason', 'message', 'dead_letter_id', 'at', 'cleared'] as const;
const ENGAGEMENT_FIELDS = ['type', 'channel', 'at'] as const;

export type Checked = { ok: true; event: HistoryEvent } | { ok: false; id: string; error: string };

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isTime = (v: unknown): boolean => isStr(v) && Number.isFinite(Date.parse(v));

function pick(data: object, fields: readonly string[]): Record<string, unknown> {
  const src = data as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (src[f] !== undefined) out[f] = src[f];
  return out;
}

/** What is wrong with an event's data for its kind, or undefined. */
function dataError(ev: HistoryEvent): string | undefined {
  const d = ev.data as unknown as Record<string, unknown>;
  switch (ev.kind) {
    case 'accepted':
      if (d.tenant !== ev.tenant) return 'meta.tenant is not the event tenant';
      return isNum(d.created_at) ? undefined : 'meta.created_at is not a number';
    case 'delivery':
      if (!isStr(d.user_id) || d.user_id === '') return 'record.user_id missing';
      if (!isStr(d.channel) || !isStr(d.status)) return 'record.channel or record.status missing';
      return isTime(d.updated_at) ? undefined : 'record.updated_at is not a time';
    case 'feedback':
      if (!isStr(d.event) || !isNum(d.rank)) return 'feedback.event or feedback.rank missing';
      if (d.status !== undefined && !isStr(d.status)) return 'feedback.status is not a string';
      return isTime(d.at) ? undefined : 'feedback.at is not a time';
    case 'cancelled':
      return isNum(d.cancelled_at) ? undefined : 'cancelled_at is not a number';
    case 'not_planned':
      // {cleared: true, at}: the dead letter was redriven, so the notification is planned again.
      if (d.cleared === true) return isTime(d.at) ? undefined : 'not_planned.at missing';
      return isStr(d.reason) && isTime(d.at) ? undefined : 'not_planned.reason or .at missing';
    case 'engagement':
      if (d.type !== 'opened' && d.type !== 'clicked') return 'engagement.type is not opened or clicked';
      return isNum(d.at) ? undefined : 'engagement.at is not a number';
    case 'user_erased':
      return isStr(d.user_id) && d.user_id !== '' ? undefined : 'user_id missing';
    default:
      return 'unknown kind';
  }
}

const KEPT: Record<HistoryEvent['kind'], readonly string[]> = {
  accepted: META_FIELDS, delivery: RECORD_FIELDS, feedback: FEEDBACK_FIELDS, cancelled: ['cancelled_at'],
  not_planned: NOT_PLANNED_FIELDS, engagement: ENGAGEMENT_FIELDS, user_erased: ['user_id'],
};

/** Checks one event (decoded by decodeEvent, or built in JS) and strips its data to the stored fields. */
export function checkEvent(ev: HistoryEvent, now: number): Checked {
  const id = isStr(ev?.id) ? ev.id : String(ev?.id);
  const bad = (error: string): Checked => ({ ok: false, id, error });
  if (!STREAM_ID.test(id)) return bad('id is not a stream entry id');
  if (!isStr(ev.tenant) || ev.tenant === '') return bad('tenant missing');
  if (typeof ev.data !== 'object' || ev.data === null) return bad('data is not an object');
  if (!(ev.kind in KEPT)) return bad(`unknown event kind "${String(ev.kind)}"`);
  if (ev.kind !== 'user_erased') {
    if (!isStr(ev.notificationId) || ev.notificationId === '') return bad('notification id missing');
    if (!isNum(ev.createdAt) || ev.createdAt < 0) return bad('createdAt is not a time');
    if (ev.createdAt > now + MAX_FUTURE_MS) return bad('createdAt is more than a day ahead');
  }
  if ((ev.kind === 'delivery' || ev.kind === 'feedback') && (!isStr(ev.key) || ev.key === '')) return bad(`a ${ev.kind} event needs a key`);
  if (ev.kind === 'engagement' && ev.key !== undefined && !isStr(ev.key)) return bad('key is not a string');
  const error = dataError(ev);
  if (error) return bad(error);
  return { ok: true, event: { ...ev, data: pick(ev.data, KEPT[ev.kind]) } as HistoryEvent };
}
