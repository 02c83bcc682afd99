// Feedback that comes after a delivery's Redis record expired (past NOTIFY_HOT_RETENTION_MS, once archived): an SES
// bounce or a Twilio callback hours late. The history still has the delivery, so the feedback goes to it as the
// same `feedback` event feedback.lua would have appended, and the archiver applies it with the same rank rule.
import type { History } from '../history/index.js';
import type { LateFeedback, StatusEvents } from '../store/feedback.js';

export function lateFeedbackToHistory(history: Pick<History, 'getNotification'>, events: StatusEvents): LateFeedback {
  return async (ref, feedback) => {
    const n = await history.getNotification(ref.tenant, ref.nid);
    if (!n?.deliveries.some((d) => d.key === ref.dk)) return false;
    await events.append({
      kind: 'feedback', tenant: ref.tenant, notificationId: ref.nid, createdAt: n.meta.created_at, key: ref.dk, data: feedback,
    });
    return true;
  };
}
