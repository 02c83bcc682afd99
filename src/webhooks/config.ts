// Webhook settings, read from the environment on their own (src/config.ts need not know them).
import { z } from 'zod';
import { parseSchedule } from './schedule.js';

export interface WebhookConfig {
  /** NOTIFY_WEBHOOKS=off: no /v1/webhooks, no dispatcher or sender (the consumer group `webhooks` is not created). */
  enabled: boolean;
  /** NOTIFY_WEBHOOK_ALLOW_PRIVATE=on: endpoints may be loopback, private, link-local or CGNAT (never metadata). */
  allowPrivate: boolean;
  /** Whole request, connect to last byte. */
  timeoutMs: number;
  /** At most this much of a response is read (the rest is dropped). */
  maxResponseBytes: number;
  /** Waits before each retry (ms); one more failure after the last one dead-letters the event. */
  retrySchedule: number[];
  /** A Retry-After longer than this is capped to it. */
  maxRetryAfterMs: number;
  /** Auto-disable after at least this many consecutive failed attempts … */
  disableAfterFailures: number;
  /** … spanning at least this long. */
  disableAfterMs: number;
  /** After a rotation the previous secret still signs this long. */
  previousSecretMs: number;
  /** Endpoints sent to at once by one process (each endpoint has at most one request in flight). */
  concurrency: number;
  /** A sender that holds an endpoint renews its lease; another takes it over this long after a crash. */
  leaseMs: number;
  /** Attempts kept per endpoint for GET …/attempts. */
  attemptsKept: number;
  /** How often the sender looks for endpoints that are due (it is also woken by the dispatcher in-process). */
  pollMs: number;
  blockMs: number;
  batch: number;
}

const on = z.enum(['on', 'off']).transform((v) => v === 'on');
const int = (min: number) => z.coerce.number().int().min(min);

const Env = z.object({
  NOTIFY_WEBHOOKS: on.default(true),
  NOTIFY_WEBHOOK_ALLOW_PRIVATE: on.default(false),
  NOTIFY_WEBHOOK_TIMEOUT_MS: int(1).default(10_000),
  NOTIFY_WEBHOOK_MAX_RESPONSE_BYTES: int(0).default(65_536),
  NOTIFY_WEBHOOK_RETRY_SCHEDULE: z.string().default('5s,30s,2m,10m,30m,1h,2h,4h,8h,8h'),
  NOTIFY_WEBHOOK_MAX_RETRY_AFTER_MS: int(0).default(8 * 3_600_000),
  NOTIFY_WEBHOOK_DISABLE_AFTER_FAILURES: int(1).default(20),
  NOTIFY_WEBHOOK_DISABLE_AFTER_MS: int(0).default(5 * 86_400_000),
  NOTIFY_WEBHOOK_PREVIOUS_SECRET_MS: int(0).default(86_400_000),
  NOTIFY_WEBHOOK_CONCURRENCY: int(1).default(64),
  NOTIFY_WEBHOOK_LEASE_MS: int(100).default(30_000),
  NOTIFY_WEBHOOK_ATTEMPTS_KEPT: int(1).default(100),
  NOTIFY_WEBHOOK_POLL_MS: int(10).default(500),
  NOTIFY_WEBHOOK_BLOCK_MS: int(10).default(2_000),
  NOTIFY_WEBHOOK_BATCH: int(1).default(100),
});

/** Throws an Error naming the setting when one is malformed. */
export function loadWebhookConfig(env: Record<string, string | undefined> = process.env): WebhookConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  let retrySchedule: number[];
  try {
    retrySchedule = parseSchedule(e.NOTIFY_WEBHOOK_RETRY_SCHEDULE);
  } catch (err) {
    throw new Error(`NOTIFY_WEBHOOK_RETRY_SCHEDULE: ${(err as Error).message}`);
  }
  return {
    enabled: e.NOTIFY_WEBHOOKS, allowPrivate: e.NOTIFY_WEBHOOK_ALLOW_PRIVATE, timeoutMs: e.NOTIFY_WEBHOOK_TIMEOUT_MS,
    maxResponseBytes: e.NOTIFY_WEBHOOK_MAX_RESPONSE_BYTES, retrySchedule, maxRetryAfterMs: e.NOTIFY_WEBHOOK_MAX_RETRY_AFTER_MS,
    disableAfterFailures: e.NOTIFY_WEBHOOK_DISABLE_AFTER_FAILURES, disableAfterMs: e.NOTIFY_WEBHOOK_DISABLE_AFTER_MS,
    previousSecretMs: e.NOTIFY_WEBHOOK_PREVIOUS_SECRET_MS, concurrency: e.NOTIFY_WEBHOOK_CONCURRENCY, leaseMs: e.NOTIFY_WEBHOOK_LEASE_MS,
    attemptsKept: e.NOTIFY_WEBHOOK_ATTEMPTS_KEPT, pollMs: e.NOTIFY_WEBHOOK_POLL_MS, blockMs: e.NOTIFY_WEBHOOK_BLOCK_MS, batch: e.NOTIFY_WEBHOOK_BATCH,
  };
}
