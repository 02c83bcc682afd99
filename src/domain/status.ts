// Pure: the status the API shows, adding what delivery records alone cannot tell — held until send_at, or cancelled.
import { notificationStatus, type DeliveryRecord, type NotificationStatus } from './record.js';

export type ShownStatus = NotificationStatus | 'scheduled' | 'cancelled';

export interface StatusFacts {
  deliveries: readonly DeliveryRecord[];
  /** Set when the notification has a send_at. */
  sendAt?: number;
  /** Set once DELETE cancelled it. */
  cancelledAt?: number;
}

/**
 * Pure: `scheduled` while held for its send_at; `cancelled` once cancelled and nothing of it went out;
 * otherwise the status its deliveries give.
 */
export function shownStatus(n: StatusFacts): ShownStatus {
  const base = notificationStatus(n.deliveries);
  if (n.cancelledAt !== undefined && (base === 'accepted' || base === 'not_sent')) return 'cancelled';
  if (base === 'accepted' && n.sendAt !== undefined) return 'scheduled';
  return base;
}
