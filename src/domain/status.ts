// Pure: the status the API shows, adding what delivery records alone cannot tell — held until send_at, or cancelled.
import { notificationStatus, type DeliveryRecord, type NotificationStatus } from './record.js';

export type ShownStatus = NotificationStatus | 'scheduled' | 'cancelled';

export interface StatusFacts {
  deliveries: readonly DeliveryRecord[];
  /** Set when the notification has a send_at. */
  sendAt?: number;
  /** Set once DELETE cancelled it. */
  cancelledAt?: number;
  /** Its ingest entry was dead-lettered: what was not planned by then fails. */
  notPlanned?: boolean;
}

/**
 * Pure: `scheduled` while held for its send_at; `cancelled` once cancelled and nothing of it went out;
 * otherwise the status its deliveries give, where recipients never planned (the entry was dead-lettered) count as
 * failed.
 */
export function shownStatus(n: StatusFacts): ShownStatus {
  const base = notificationStatus(n.deliveries);
  if (n.cancelledAt !== undefined && (base === 'accepted' || base === 'not_sent')) return 'cancelled';
  if (n.notPlanned) {
    if (base === 'sent' || base === 'partially_sent') return 'partially_sent';
    return base === 'processing' ? base : 'failed';
  }
  if (base === 'accepted' && n.sendAt !== undefined) return 'scheduled';
  return base;
}
