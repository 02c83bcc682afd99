// The settings of the per-user controls: idempotency, event de-duplication, coalescing, rate limits, quiet hours, scheduling.
import type { RateLimitPolicy } from './rate-limit.js';

export interface Controls {
  /**
   * Off: Idempotency-Key, event_id de-duplication, collapse_key coalescing, rate limits and quiet hours are not
   * applied (so the bench can show what they cost). Scheduling and cancelling work either way.
   */
  enabled: boolean;
  /** How long a completed Idempotency-Key is kept, and how long a reservation lives while its request runs. */
  idempotency: { ttlMs: number; inFlightMs: number };
  /** A repeated event_id (per tenant) within this window is not sent again. */
  dedupeWindowMs: number;
  /** Notifications for one user with one collapse_key within this window become one delivery per channel. */
  collapse: { windowMs: number; maxItems: number };
  rateLimit: RateLimitPolicy;
  /** `send_at` at most this far ahead. */
  scheduleHorizonMs: number;
}

export const DEFAULT_CONTROLS: Controls = {
  enabled: true,
  idempotency: { ttlMs: 86_400_000, inFlightMs: 30_000 },
  dedupeWindowMs: 86_400_000,
  collapse: { windowMs: 60_000, maxItems: 50 },
  rateLimit: { rules: [], mode: 'defer', bypassHighPriority: true, bypassCategories: ['transactional'], maxDeferMs: 86_400_000 },
  scheduleHorizonMs: 30 * 86_400_000,
};
