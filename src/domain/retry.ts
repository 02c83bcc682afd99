// Retry policy: capped exponential backoff with full jitter, honouring Retry-After, bounded by attempts and age.

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A delivery older than this (since accepted) is not retried again. */
  maxAgeMs: number;
  /**
   * How long a send waits for the provider's answer before its attempt is noted as unanswered (NOTIFY_SEND_TIMEOUT_MS).
   * Unset: the adapter's own bound is the only one.
   */
  sendTimeoutMs?: number;
}

/**
 * How long an unanswered request is still listened to after the send timeout. An answer-less send has an unknown
 * outcome and none of the providers offers a way to send again without risking a second copy (APNs does not
 * deduplicate by apns-id; FCM names a message only in its answer; Twilio, SES and SNS take no idempotency key): so the
 * request is kept open this much longer, its late answer is the attempt's answer, and only a request that never
 * answered is retried (see README, Reliability).
 */
export const LATE_ANSWER_MS = 30_000;

/** The bound the SDKs are given for one request: the send timeout plus the time a late answer is still heard. */
export const answerBoundMs = (sendTimeoutMs: number): number => sendTimeoutMs + LATE_ANSWER_MS;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 300_000, maxAgeMs: 86_400_000 };

/**
 * Pure: delay before attempt `attempt + 1` after attempt `attempt` failed. Full jitter (AWS architecture blog):
 * uniform in [0, min(cap, base·2^(attempt-1))]; never sooner than the provider's Retry-After, even past the cap
 * (coming back sooner than asked only earns another refusal; the maximum age still bounds it, see `mayRetry`).
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number, retryAfterMs?: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
}

/** Pure: whether another attempt is allowed after `attempt` failed at `now`, for a delivery accepted at `acceptedAt`. */
export function mayRetry(policy: RetryPolicy, attempt: number, acceptedAt: number, now: number, delayMs: number): boolean {
  return attempt < policy.maxAttempts && now + delayMs - acceptedAt <= policy.maxAgeMs;
}
