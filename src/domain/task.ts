// A delivery task: everything a lane worker needs to send one message, as carried in a lane stream entry.
import type { Lane } from '../streams/keys.js';
import type { Channel, Priority, ProviderName, RenderedContent } from './types.js';

/** One failed attempt, kept for the dead-letter history. */
export interface AttemptNote {
  at: number;
  provider: ProviderName;
  code: string;
  message: string;
}

export interface DeliveryTask {
  /** Notification id and delivery key (the record field is `d:<dk>`). */
  nid: string;
  dk: string;
  /** A UUID per delivery, the same on every attempt: the apns-id, and how a provider's records match ours. */
  mid?: string;
  tenant: string;
  user_id: string;
  channel: Channel;
  lane: Lane;
  to: string;
  content: RenderedContent;
  data?: Record<string, string>;
  priority: Priority;
  collapse_key?: string;
  category?: string;
  /** When the notification was accepted (ms): for accept-to-send latency and the maximum age. */
  accepted_at: number;
  /** The attempt this entry is for, from 1. */
  attempt: number;
  /** Times the provider (or our own gate) throttled this delivery; these do not count as attempts. */
  throttled?: number;
  /** The last throttle (throttles are not kept in `history`). */
  last_throttle?: AttemptNote;
  /** Real attempts that failed, the most recent last. */
  history?: AttemptNote[];
  /** W3C traceparent of the notification's trace. */
  tp?: string;
}

/** Notification `data` values as the strings FCM and APNs custom keys carry. */
export function stringifyData(data: Record<string, string | number | boolean> | undefined): Record<string, string> | undefined {
  if (!data) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = String(v);
  return out;
}

/** Whether a lane entry's decoded `d` has what sending and recording need (anything else is dead-lettered, not retried). */
export function isDeliveryTask(t: unknown): t is DeliveryTask {
  const d = t as Partial<DeliveryTask> | null;
  return typeof d === 'object' && d !== null && [d.nid, d.dk, d.tenant, d.user_id, d.channel, d.lane, d.to].every((v) => typeof v === 'string')
    && typeof d.content === 'object' && d.content !== null && Number.isInteger(d.attempt) && typeof d.accepted_at === 'number';
}
