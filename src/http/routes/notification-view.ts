// Turning a request into what the ingress accepts, and a stored notification into what the API shows.
import { randomUUID } from 'node:crypto';
import type { StoredResponse } from '../../domain/idempotency.js';
import { lastChanged, type NotificationMeta } from '../../domain/record.js';
import { checkSendAt } from '../../domain/schedule.js';
import type { NotificationInput } from '../../domain/schemas.js';
import { shownStatus } from '../../domain/status.js';
import type { Accepted, StoredNotification } from '../../store/notifications.js';
import { ApiError } from '../errors.js';

/** How long a notification is held (0: not scheduled); `send_at` must be ahead, within the horizon. */
export function holdFor(input: NotificationInput, now: number, horizonMs: number, field = 'send_at'): number {
  if (input.send_at === undefined) return 0;
  const check = checkSendAt(input.send_at, now, horizonMs);
  if (!check.ok) throw new ApiError('validation_failed', `${field}: ${check.message}`, field);
  return check.at - now;
}

export function toAccepted(tenant: string, input: NotificationInput, at: number, holdMs: number, traceparent?: string): Accepted {
  const id = randomUUID();
  const meta: NotificationMeta = {
    tenant, created_at: at, recipients: input.user_id !== undefined ? 1 : new Set(input.to!.map((t) => t.user_id)).size,
    ...(input.event_id && { event_id: input.event_id }), ...(input.category && { category: input.category }),
    ...(input.send_at && { send_at: Date.parse(input.send_at) }), ...(input.collapse_key && { collapse_key: input.collapse_key }),
    ...(input.template && { template: input.template }),
  };
  return {
    id, meta, payload: payloadOf(input, tenant, id, at),
    ...(holdMs > 0 && { holdMs }), ...(traceparent && { traceparent }),
  };
}

/**
 * The ingest entry's payload: the request body (less its Idempotency-Key) plus tenant, id and accept time — appended to
 * the body's JSON, which costs a fraction of copying the object to add them.
 */
function payloadOf(input: NotificationInput, tenant: string, id: string, at: number): string {
  const json = JSON.stringify(input.idempotency_key === undefined ? input : withoutKey(input));
  const extra = `"tenant":${JSON.stringify(tenant)},"id":${JSON.stringify(id)},"accepted_at":${at}}`;
  return json.length > 2 ? `${json.slice(0, -1)},${extra}` : `{${extra}`;
}
const withoutKey = ({ idempotency_key: _key, ...body }: NotificationInput) => body;

export const acceptedResponse = (item: Accepted): StoredResponse => ({ id: item.id, status: item.holdMs ? 'scheduled' : 'accepted' });

export function notificationView(n: StoredNotification) {
  const { meta } = n;
  return {
    id: n.id,
    status: shownStatus({
      deliveries: n.deliveries, ...(meta.send_at !== undefined && { sendAt: meta.send_at }), ...(n.cancelledAt !== undefined && { cancelledAt: n.cancelledAt }),
      ...(n.notPlanned && { notPlanned: true }),
    }),
    created_at: new Date(meta.created_at).toISOString(),
    ...(meta.event_id && { event_id: meta.event_id }),
    ...(meta.category && { category: meta.category }),
    ...(meta.collapse_key && { collapse_key: meta.collapse_key }),
    ...(meta.send_at !== undefined && { send_at: new Date(meta.send_at).toISOString() }),
    ...(n.cancelledAt !== undefined && { cancelled_at: new Date(n.cancelledAt).toISOString() }),
    ...(n.notPlanned && { not_planned: n.notPlanned }),
    deliveries: n.deliveries.map(({ key: _key, deferred_until, tp: _tp, feedback, ...d }) => ({
      ...d, updated_at: lastChanged(d.updated_at, feedback),
      ...(deferred_until !== undefined && { deferred_until: new Date(deferred_until).toISOString() }),
      ...(feedback && { feedback: { event: feedback.event, at: feedback.at, ...(feedback.detail && { detail: feedback.detail }) } }),
    })),
  };
}
