// Pure: the facts alert rules count — read from status events, dead letters, the alerts' own facts stream and the
// samples of circuits and queues — and what one fact adds to a rule's window.
import type { DeadLetter } from '../domain/dead-letter.js';
import type { DeliveryRecord } from '../domain/record.js';
import type { HistoryEvent } from '../history/events.js';
import type { Rule } from './rules.js';

export type Fact =
  | { kind: 'feedback'; tenant: string; event: string; what: string; nid: string }
  | { kind: 'attempt'; tenant: string; channel: string; failed: boolean; what: string; nid: string }
  | { kind: 'dead_letter'; tenant?: string; reason: string; what: string; nid?: string }
  | { kind: 'webhook_disabled'; tenant: string; what: string }
  /** Sampled: the providers whose circuit is open in some worker (half-open, waiting for a probe, is not). */
  | { kind: 'circuit'; open: string[] }
  /** Sampled: each watched stream's oldest pending age and lag. */
  | { kind: 'queue'; streams: { name: string; oldestAgeMs: number; lag: number }[] };

const ATTEMPT_STATUSES = new Set(['sent', 'retrying', 'failed']);

/** The fact of a status event, if it is one any rule counts; `record` names a feedback event's provider and channel. */
export function factOfEvent(ev: HistoryEvent, record?: Pick<DeliveryRecord, 'provider' | 'channel'>): Fact | undefined {
  if (ev.kind === 'feedback') {
    const via = record ? `${record.provider ?? 'unknown'}/${record.channel}` : 'unknown';
    return { kind: 'feedback', tenant: ev.tenant, event: ev.data.event, what: `${ev.data.event} · ${via}`, nid: ev.notificationId };
  }
  if (ev.kind === 'delivery' && ATTEMPT_STATUSES.has(ev.data.status)) {
    const d = ev.data;
    return { kind: 'attempt', tenant: ev.tenant, channel: d.channel, failed: d.status !== 'sent', what: `${d.provider ?? 'none'}/${d.channel}`, nid: ev.notificationId };
  }
  return undefined;
}

export function factOfDeadLetter(d: DeadLetter): Fact {
  return {
    kind: 'dead_letter', reason: d.reason, what: `${d.reason}${d.channel ? ` · ${d.channel}` : ` · ${d.kind}`}`,
    ...(d.tenant !== undefined && !d.orphan && { tenant: d.tenant }), ...(d.notification_id !== undefined && !d.orphan && { nid: d.notification_id }),
  };
}

/** Whether a feedback, attempt or dead-letter event may need the record (feedback alone does). */
export const needsRecord = (ev: HistoryEvent): string | undefined => (ev.kind === 'feedback' ? ev.key : undefined);

export interface Contribution {
  matched: number;
  total: number;
  what: string[];
  sample?: string;
  ageMs?: number;
  lag?: number;
}

/**
 * What one fact adds to a rule's window, or undefined when the rule does not count it. `scopeTenant`: the tenant
 * whose rule it is (undefined: the operator's, which sees every tenant's facts); a tenant's rule sees only its own.
 */
export function contribution(rule: Rule, scopeTenant: string | undefined, f: Fact): Contribution | undefined {
  if (scopeTenant !== undefined && (!('tenant' in f) || f.tenant !== scopeTenant)) return undefined;
  switch (rule.kind) {
    case 'feedback':
      if (f.kind !== 'feedback' || !(rule.events as string[]).includes(f.event)) return undefined;
      return { matched: 1, total: 1, what: [f.what], sample: f.nid };
    case 'dead_letter':
      if (f.kind !== 'dead_letter' || (rule.reasons && !rule.reasons.includes(f.reason))) return undefined;
      return { matched: 1, total: 1, what: [f.what], ...(f.nid !== undefined && { sample: f.nid }) };
    case 'failure_rate':
      if (f.kind !== 'attempt' || (rule.channel && rule.channel !== f.channel)) return undefined;
      return { matched: f.failed ? 1 : 0, total: 1, what: f.failed ? [f.what] : [], ...(f.failed && { sample: f.nid }) };
    case 'webhook_disabled':
      if (f.kind !== 'webhook_disabled') return undefined;
      return { matched: 1, total: 1, what: [f.what] };
    case 'circuit': {
      if (f.kind !== 'circuit') return undefined;
      const open = f.open.filter((p) => !rule.providers || (rule.providers as string[]).includes(p));
      return { matched: open.length > 0 ? 1 : 0, total: 1, what: open };
    }
    case 'queue_lag': {
      if (f.kind !== 'queue') return undefined;
      const over = f.streams.filter((s) => (rule.oldest_pending_ms !== undefined && s.oldestAgeMs > rule.oldest_pending_ms)
        || (rule.lag_entries !== undefined && s.lag > rule.lag_entries));
      return {
        matched: over.length > 0 ? 1 : 0, total: 1, what: over.map((s) => s.name),
        ageMs: Math.max(0, ...f.streams.map((s) => s.oldestAgeMs)), lag: Math.max(0, ...f.streams.map((s) => s.lag)),
      };
    }
  }
}
