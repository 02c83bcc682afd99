// Human views of what the API answers: a notification with its deliveries, dead letters, users.
import { fields, table, text } from './output.js';

export interface Delivery {
  user_id?: string;
  channel?: string;
  provider?: string;
  to?: string;
  status?: string;
  attempts?: number;
  last_error?: string;
  deferred_until?: string;
  feedback?: { event?: string };
  updated_at?: unknown;
}

export interface Notification {
  id: string;
  status: string;
  created_at: string;
  category?: string;
  send_at?: string;
  cancelled_at?: string;
  not_planned?: { reason?: string; message?: string };
  deliveries: Delivery[];
}

/** What else there is to say of a delivery: its error, what the provider said, or how long it is held. */
const detail = (d: Delivery): string => d.last_error ?? (d.deferred_until ? `until ${d.deferred_until}` : d.feedback?.event ? `feedback: ${d.feedback.event}` : '');

export function notificationText(n: Notification): string {
  const head = fields([
    ['id', n.id], ['status', n.status], ['created_at', n.created_at], ['category', n.category], ['send_at', n.send_at],
    ['cancelled_at', n.cancelled_at], ['not_planned', n.not_planned && `${n.not_planned.reason}: ${n.not_planned.message}`],
  ]);
  if (n.deliveries.length === 0) return `${head}\n(no deliveries yet)`;
  const rows = n.deliveries.map((d) => [d.user_id, d.channel, d.provider, d.to, d.status, d.attempts, detail(d)].map(text));
  return `${head}\n\n${table(['USER', 'CHANNEL', 'PROVIDER', 'TO', 'STATUS', 'ATTEMPTS', 'DETAIL'], rows)}`;
}

/** One notification per row (search). */
export function notificationRows(ns: readonly Notification[]): string {
  const rows = ns.map((n) => [n.id, n.created_at, n.status, n.deliveries.map((d) => `${d.channel}:${d.status}`).join(' ')]);
  return table(['ID', 'CREATED', 'STATUS', 'DELIVERIES'], rows);
}

export interface DeadLetter {
  id: string;
  kind?: string;
  reason?: string;
  error?: string;
  dead_at?: string;
  channel?: string;
  lane?: string;
  notification_id?: string;
  user_id?: string;
  attempts?: number;
  history?: { at?: unknown; provider?: string; code?: string; message?: string }[];
}

export function deadLetterRows(ds: readonly DeadLetter[]): string {
  const rows = ds.map((d) => [d.id, d.dead_at, d.kind, d.reason, d.channel, d.notification_id, d.user_id, d.attempts].map(text));
  return table(['ID', 'DEAD_AT', 'KIND', 'REASON', 'CHANNEL', 'NOTIFICATION', 'USER', 'ATTEMPTS'], rows);
}

export function deadLetterText(d: DeadLetter): string {
  const head = fields([
    ['id', d.id], ['kind', d.kind], ['reason', d.reason], ['error', d.error], ['dead_at', d.dead_at], ['channel', d.channel],
    ['lane', d.lane], ['notification_id', d.notification_id], ['user_id', d.user_id], ['attempts', d.attempts],
  ]);
  if (!d.history?.length) return head;
  const rows = d.history.map((h) => [h.at, h.provider, h.code, h.message].map(text));
  return `${head}\n\n${table(['AT', 'PROVIDER', 'CODE', 'MESSAGE'], rows)}`;
}

export function userText(u: Record<string, unknown>): string {
  const devices = (u.devices as { platform: string; active: boolean }[] | undefined) ?? [];
  return fields([
    ...Object.entries(u).filter(([k]) => k !== 'devices' && k !== 'preferences'),
    ['devices', devices.length ? devices.map((d) => `${d.platform}${d.active ? '' : ' (inactive)'}`).join(', ') : 'none'],
    ['preferences', u.preferences],
  ]);
}
