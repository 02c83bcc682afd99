// What GET /v1/notifications/{id} shows: the stored delivery records and the notification status derived from them.
import type { Channel, DeliveryStatus, ProviderName } from './types.js';
import { TERMINAL_STATUSES } from './types.js';

/** One delivery as stored in the notification hash (field `d:<key>`) and returned by the API. */
export interface DeliveryRecord {
  user_id: string;
  channel: Channel;
  provider: ProviderName | null;
  /** Masked address. */
  to: string | null;
  status: DeliveryStatus;
  attempts: number;
  provider_message_id?: string;
  last_error?: string;
  /** `deduplicated`: the notification that owns the event_id. */
  duplicate_of?: string;
  /** `coalesced`: the notification this one was folded into. */
  coalesced_into?: string;
  /** `deferred`: when it is due again (ms since epoch). */
  deferred_until?: number;
  updated_at: string;
  /** W3C traceparent of the send (kept once sent), so feedback arriving later joins the notification's trace. */
  tp?: string;
}

/** The provider's latest word on a delivery (field `f:<key>`, see feedback.lua); its status wins over the record's. */
export interface DeliveryFeedback {
  event: string;
  at: string;
  status?: DeliveryStatus;
  detail?: string;
  provider_message_id?: string;
  rank: number;
  /** When this service applied it (ISO 8601, its own clock; `at` is the provider's): the delivery changed then. */
  received_at?: string;
}

/**
 * Pure: when a delivery last changed, as shown — the later of its record's time and the time feedback was applied
 * (feedback rewrites what the delivery shows without touching its record, see feedback.lua).
 */
export function lastChanged(updatedAt: string, feedback: Pick<DeliveryFeedback, 'received_at'> | undefined): string {
  const fb = feedback?.received_at;
  return fb !== undefined && Date.parse(fb) > Date.parse(updatedAt) ? fb : updatedAt;
}

/** The notification's own facts, stored once in field `meta`. */
export interface NotificationMeta {
  tenant: string;
  created_at: number;
  event_id?: string;
  category?: string;
  /** How many recipients it has (a cancel knows whether some are still to be planned). */
  recipients?: number;
  /** Held until then (ms since epoch). */
  send_at?: number;
  collapse_key?: string;
  /** The template it was sent with (not with inline content): history search and stats group by it. */
  template?: string;
}

export const META_FIELD = 'meta';
export const DELIVERY_FIELD_PREFIX = 'd:';
/**
 * Set when the notification's ingest entry was dead-lettered (poison, say): the recipients not planned by then never
 * will be (until the dead letter is redriven). Written by dead-letter.lua.
 */
export const NOT_PLANNED_FIELD = 'np';

export interface NotPlanned {
  reason: string;
  message: string;
  dead_letter_id: string;
  /** ISO 8601. */
  at: string;
}

/** Marks that a recipient's part of a notification was planned, so a re-read entry is not planned twice. */
export const PLANNED_FIELD_PREFIX = 'p:';
export const FEEDBACK_FIELD_PREFIX = 'f:';

/** Statuses that count as sent (it went out), and as failed (it did not, or did not arrive), for the overall status. */
const SENT = new Set<DeliveryStatus>(['sent', 'delivered', 'complained']);
const FAILED = new Set<DeliveryStatus>(['failed', 'bounced', 'undelivered']);

/**
 * Pure: whether a delivery is settled — sent, or failed (given up on; a redrive resets it to queued first) — so that a
 * lane entry of it read again must not be sent. Not `retrying`: the attempt behind it may be the very entry read again.
 * Attempts are not compared: once settled, no attempt of the delivery is still due.
 */
export function isSettled(rec: DeliveryRecord | undefined): boolean {
  return rec?.status === 'sent' || rec?.status === 'failed';
}

export type NotificationStatus = 'accepted' | 'processing' | 'sent' | 'partially_sent' | 'failed' | 'not_sent';

/**
 * Pure: the overall status. `accepted` until planned; `processing` while any delivery can still change;
 * then `sent` (all that were attempted went out, and arrived as far as the providers told), `partially_sent`,
 * `failed` (nothing arrived: failed, bounced, undelivered), or `not_sent` (nothing was attempted: opted out,
 * no address, deduplicated, suppressed…).
 */
export function notificationStatus(deliveries: readonly DeliveryRecord[]): NotificationStatus {
  if (deliveries.length === 0) return 'accepted';
  if (deliveries.some((d) => !TERMINAL_STATUSES.has(d.status))) return 'processing';
  const sent = deliveries.filter((d) => SENT.has(d.status)).length;
  const failed = deliveries.filter((d) => FAILED.has(d.status)).length;
  if (sent > 0) return failed > 0 ? 'partially_sent' : 'sent';
  return failed > 0 ? 'failed' : 'not_sent';
}
