// Pure: when a scheduled notification (`send_at`) may be accepted, and when it is due.

/** An entry whose time is this close is planned now: moving it back into the delayed set would cost more than it saves. */
export const DUE_TOLERANCE_MS = 500;

export type SendAtCheck = { ok: true; at: number } | { ok: false; message: string };

/** `send_at` must be a time in the future, at most `horizonMs` ahead. */
export function checkSendAt(iso: string, now: number, horizonMs: number): SendAtCheck {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return { ok: false, message: 'send_at must be an ISO 8601 time with an offset, e.g. 2030-01-01T09:00:00Z' };
  if (at <= now) return { ok: false, message: 'send_at must be in the future' };
  if (at - now > horizonMs) return { ok: false, message: `send_at must be within ${Math.round(horizonMs / 86_400_000)} days` };
  return { ok: true, at };
}

/** Whether a notification held until `at` should be planned now. */
export const isDue = (at: number, now: number): boolean => at <= now + DUE_TOLERANCE_MS;
