// Pure: a rule's windows. Facts are counted into the window their time falls in ([start, start + window_ms)); once a
// window has ended, it is decided once: condition met → one `firing` message with its counts; clear after firing → one
// `resolved` message; otherwise nothing. Testable with any clock.
import { describeRule, type Rule, type RuleKind } from './rules.js';

export interface WindowCounts {
  /** Matching facts: events, dead letters, failed attempts, samples over the threshold or with a circuit open. */
  matched: number;
  /** failure_rate: attempts (sent, retrying, failed); circuit and queue_lag: samples taken. */
  total: number;
  /** queue_lag: the highest oldest-pending age (ms) and lag (entries) sampled. */
  maxAgeMs?: number;
  maxLag?: number;
  /** One notification the matching facts were about (the first counted). */
  sample?: string;
  /** What the matching facts were about (provider/channel, reason, stream, endpoint) → how many. */
  breakdown: Record<string, number>;
}

export const emptyCounts = (): WindowCounts => ({ matched: 0, total: 0, breakdown: {} });

export interface RuleState {
  /** Start of the next window to decide (unset: the rule has not been looked at yet). */
  next?: number;
  firing: boolean;
  /** When the last message was queued (ms), and which. */
  lastSentAt?: number;
  lastState?: AlertState;
  /** The last decided window's end and count. */
  lastWindowEnd?: number;
  lastCount?: number;
}

export type AlertState = 'firing' | 'resolved';

export interface AlertMessage {
  state: AlertState;
  rule: string;
  kind: RuleKind;
  /** The tenant whose rule it is; null for the operator's. */
  tenant: string | null;
  /** What the rule watches, in words. */
  what: string;
  window_start: string;
  window_end: string;
  count: number;
  total?: number;
  /** Largest first, at most 10. */
  breakdown: { what: string; count: number }[];
  sample_notification_id?: string;
  max_oldest_pending_ms?: number;
  max_lag?: number;
}

/** Windows decided late (the evaluator was down) beyond this many are skipped: only the newest ones count. */
export const MAX_CATCH_UP = 3;

export const windowStart = (at: number, windowMs: number): number => Math.floor(at / windowMs) * windowMs;

/** The starts of the windows that have ended by `now` and are not decided yet, oldest first; and where to go on from. */
export function dueWindows(rule: Pick<Rule, 'window_ms'>, state: RuleState, now: number): { starts: number[]; next: number } {
  const w = rule.window_ms;
  const current = windowStart(now, w);
  // A rule seen for the first time starts with the window now open (facts before it were not watched for it).
  let from = state.next ?? current;
  if (from > current) from = current;
  const starts: number[] = [];
  for (let s = Math.max(from, current - MAX_CATCH_UP * w); s < current; s += w) starts.push(s);
  return { starts, next: current };
}

/** Whether a window's counts meet the rule's condition. */
export function conditionMet(rule: Rule, c: WindowCounts): boolean {
  switch (rule.kind) {
    case 'feedback':
    case 'dead_letter':
      return c.matched >= rule.min_count;
    case 'failure_rate':
      return c.total >= rule.min_deliveries && (c.matched * 100) / c.total > rule.threshold_percent;
    case 'circuit':
    case 'queue_lag':
    case 'webhook_disabled':
      return c.matched > 0;
  }
}

/** Decides one ended window: the new state, and the message to send (if any). */
export function decide(rule: Rule, tenant: string | null, state: RuleState, start: number, c: WindowCounts, now: number): { state: RuleState; message?: AlertMessage } {
  const met = conditionMet(rule, c);
  const end = start + rule.window_ms;
  const decided: RuleState = { ...state, next: Math.max(state.next ?? 0, end), lastWindowEnd: end, lastCount: c.matched };
  if (!met && !state.firing) return { state: { ...decided, firing: false } };
  const kind: AlertState = met ? 'firing' : 'resolved';
  const message: AlertMessage = {
    state: kind, rule: rule.name, kind: rule.kind, tenant, what: describeRule(rule),
    window_start: new Date(start).toISOString(), window_end: new Date(end).toISOString(), count: c.matched,
    ...((rule.kind === 'failure_rate' || rule.kind === 'queue_lag' || rule.kind === 'circuit') && { total: c.total }),
    breakdown: Object.entries(c.breakdown).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10).map(([what, count]) => ({ what, count })),
    ...(c.sample !== undefined && met && { sample_notification_id: c.sample }),
    ...(c.maxAgeMs !== undefined && { max_oldest_pending_ms: c.maxAgeMs }),
    ...(c.maxLag !== undefined && { max_lag: c.maxLag }),
  };
  return { state: { ...decided, firing: met, lastSentAt: now, lastState: kind }, message };
}
