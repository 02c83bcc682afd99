// Pure: which status events become webhook events, and their payloads (only the fields listed: never an address,
// token or body).
import type { DeliveryRecord } from '../domain/record.js';
import type { HistoryEvent } from '../history/events.js';

export const WEBHOOK_EVENT_TYPES = [
  'delivery.sent', 'delivery.failed', 'delivery.delivered', 'delivery.bounced', 'delivery.complained',
  'delivery.undelivered', 'delivery.opened', 'delivery.clicked', 'notification.cancelled',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent by POST /v1/webhooks/{name}/test whatever the endpoint subscribes to. */
export const TEST_EVENT_TYPE = 'webhook.test';

export interface WebhookData {
  notification_id: string;
  delivery_key: string | null;
  user_id: string | null;
  channel: string | null;
  provider: string | null;
  status: string;
  provider_message_id?: string;
  error?: string;
}

export interface WebhookPayload {
  type: WebhookEventType | typeof TEST_EVENT_TYPE;
  /** ISO 8601: when the change was recorded (the stream entry's time). */
  timestamp: string;
  data: WebhookData;
}

const FEEDBACK_STATUSES = new Set(['delivered', 'bounced', 'complained', 'undelivered']);
const ENGAGED: Record<string, 'opened' | 'clicked'> = { open: 'opened', click: 'clicked', opened: 'opened', clicked: 'clicked' };

/** When a stream entry was written (its id's ms part). */
export const entryTime = (id: string): string => new Date(Number(id.split('-')[0])).toISOString();

/**
 * The webhook event of a status event, or undefined when it has none. `record` is the delivery's record (needed for a
 * `feedback` or `engagement` event, whose own data does not say the user, channel or provider; absent once expired).
 */
export function webhookEvent(ev: HistoryEvent, record?: DeliveryRecord): WebhookPayload | undefined {
  const base = { notification_id: ev.notificationId, delivery_key: null, user_id: null, channel: null, provider: null };
  const of = (key: string, rec: DeliveryRecord | undefined) => ({
    ...base, delivery_key: key, user_id: rec?.user_id ?? null, channel: rec?.channel ?? null, provider: rec?.provider ?? null,
  });
  const make = (status: string, data: WebhookData): WebhookPayload => ({
    type: (status === 'cancelled' ? 'notification.cancelled' : `delivery.${status}`) as WebhookEventType, timestamp: entryTime(ev.id), data,
  });
  switch (ev.kind) {
    case 'delivery': {
      const d = ev.data;
      if (d.status !== 'sent' && d.status !== 'failed') return undefined;
      return make(d.status, {
        ...of(ev.key, d), status: d.status,
        ...(d.provider_message_id !== undefined && { provider_message_id: d.provider_message_id }),
        ...(d.status === 'failed' && d.last_error !== undefined && { error: d.last_error }),
      });
    }
    case 'feedback': {
      const f = ev.data;
      const status = f.status !== undefined && FEEDBACK_STATUSES.has(f.status) ? f.status : ENGAGED[f.event];
      if (status === undefined) return undefined;
      const pmid = f.provider_message_id ?? record?.provider_message_id;
      return make(status, {
        ...of(ev.key, record), status, ...(pmid !== undefined && { provider_message_id: pmid }),
        ...(f.detail !== undefined && status !== 'opened' && status !== 'clicked' && status !== 'delivered' && { error: f.detail }),
      });
    }
    case 'engagement': {
      const status = ENGAGED[ev.data.type];
      if (status === undefined) return undefined;
      const data = ev.key !== undefined ? of(ev.key, record) : { ...base, channel: ev.data.channel ?? null };
      return make(status, { ...data, channel: data.channel ?? ev.data.channel ?? null, status });
    }
    case 'cancelled':
      return make('cancelled', { ...base, status: 'cancelled' });
    default:
      return undefined;
  }
}

/** The record a `feedback` or `engagement` event needs to name its user, channel and provider (its delivery key). */
export const needsRecord = (ev: HistoryEvent): string | undefined =>
  (ev.kind === 'feedback' || ev.kind === 'engagement') ? ev.key : undefined;
