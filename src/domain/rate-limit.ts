// Pure: per-user rate-limit rules (parsed from NOTIFY_RATE_LIMITS) and which caps apply to a delivery.
import type { Channel, Priority } from './types.js';

/** "At most `limit` deliveries on `channel` (of `category`, when given) per user in any `windowMs`." */
export interface RateLimitRule {
  channel: Channel;
  category?: string;
  limit: number;
  windowMs: number;
}

export interface RateLimitPolicy {
  rules: readonly RateLimitRule[];
  /** Over the cap: `defer` to when the window allows, or `drop` (recorded `rate_limited`). */
  mode: 'defer' | 'drop';
  /** `priority: "high"` is never capped. */
  bypassHighPriority: boolean;
  /** Categories never capped (e.g. `transactional`). */
  bypassCategories: readonly string[];
  /** A delivery is not deferred further than this past its first deferral; it is dropped as `rate_limited` instead. */
  maxDeferMs: number;
}

/** One cap that applies to a delivery: `scope` names its counter (`push`, `marketing.email`). */
export interface Cap {
  scope: string;
  limit: number;
  windowMs: number;
  /** For records and logs: "5 push per 1h". */
  label: string;
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "5m", "1h", "1d" (a bare number is seconds) → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0) throw new Error(`"${text}" is not a duration like 30s, 5m, 1h or 1d`);
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}

/**
 * Parses `push:5/1h,sms:3/1d,marketing.email:2/1d`: a channel, or a category and a channel, then count/window.
 * @example parseRateLimits('sms:3/1d') // [{ channel: 'sms', limit: 3, windowMs: 86_400_000 }]
 */
export function parseRateLimits(spec: string): RateLimitRule[] {
  const rules: RateLimitRule[] = [];
  for (const item of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:([A-Za-z0-9._-]{1,64})\.)?(push|sms|email):(\d+)\/(\S+)$/.exec(item);
    if (!m || Number(m[3]) < 1) throw new Error(`"${item}" must be [category.]channel:count/window, e.g. push:5/1h or marketing.email:2/1d`);
    rules.push({ channel: m[2] as Channel, ...(m[1] && { category: m[1] }), limit: Number(m[3]), windowMs: parseDuration(m[4]!) });
  }
  return rules;
}

/** Parses `priority:high,category:transactional` (or `none`). */
export function parseBypass(spec: string): { bypassHighPriority: boolean; bypassCategories: string[] } {
  const out = { bypassHighPriority: false, bypassCategories: [] as string[] };
  for (const item of spec.split(',').map((s) => s.trim()).filter((s) => s && s !== 'none')) {
    const m = /^(?:priority:(high)|category:([A-Za-z0-9._-]{1,64}))$/.exec(item);
    if (!m) throw new Error(`"${item}" must be priority:high or category:<name>`);
    if (m[1]) out.bypassHighPriority = true;
    else out.bypassCategories.push(m[2]!);
  }
  return out;
}

/** Pure: the caps a delivery counts against; none when it bypasses them. */
export function capsFor(policy: RateLimitPolicy, d: { channel: Channel; category?: string; priority: Priority }): Cap[] {
  if (policy.rules.length === 0) return [];
  if (policy.bypassHighPriority && d.priority === 'high') return [];
  if (d.category !== undefined && policy.bypassCategories.includes(d.category)) return [];
  const caps: Cap[] = [];
  for (const r of policy.rules) {
    if (r.channel !== d.channel || (r.category !== undefined && r.category !== d.category)) continue;
    const scope = r.category !== undefined ? `${r.category}.${r.channel}` : r.channel;
    caps.push({ scope, limit: r.limit, windowMs: r.windowMs, label: `${r.limit} ${scope} per ${formatDuration(r.windowMs)}` });
  }
  return caps;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
