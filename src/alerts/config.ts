// Alert settings, read from the environment on their own (src/config.ts need not know them).
import { z } from 'zod';
import { parseSchedule } from '../webhooks/schedule.js';
import { parseSettings, type Settings } from './rules.js';

export interface AlertConfig {
  /** NOTIFY_ALERTS=off: no /v1/alerts, no evaluator or sender (the consumer group `alerts` is not created). */
  enabled: boolean;
  /** The operator's destinations and rules (NOTIFY_ALERT_RULES); undefined when unset (the sandbox then uses its own). */
  rules?: Settings;
  /** NOTIFY_ALERT_ALLOW_PRIVATE=on: destinations may be loopback, private, link-local or CGNAT (never metadata). */
  allowPrivate: boolean;
  /** How often windows are decided and the circuits and queues sampled. */
  tickMs: number;
  /** Messages sent to one destination per minute at most; more wait for the next minute. */
  destinationPerMinute: number;
  /** Waits before each retry of a message that could not be sent; after the last it is dropped (logged, counted). */
  retrySchedule: number[];
  timeoutMs: number;
  /** One process evaluates and sends at a time; another takes over this long after it died. */
  leaseMs: number;
  batch: number;
  blockMs: number;
}

const on = z.enum(['on', 'off']).transform((v) => v === 'on');
const int = (min: number) => z.coerce.number().int().min(min);

const Env = z.object({
  NOTIFY_ALERTS: on.default(true),
  NOTIFY_ALERT_RULES: z.string().optional(),
  NOTIFY_ALERT_ALLOW_PRIVATE: on.default(false),
  NOTIFY_ALERT_TICK_MS: int(10).default(5_000),
  NOTIFY_ALERT_DESTINATION_PER_MINUTE: int(1).default(10),
  NOTIFY_ALERT_RETRY_SCHEDULE: z.string().default('5s,30s,2m'),
  NOTIFY_ALERT_TIMEOUT_MS: int(1).default(10_000),
  NOTIFY_ALERT_LEASE_MS: int(100).default(30_000),
  NOTIFY_ALERT_BATCH: int(1).default(500),
  NOTIFY_ALERT_BLOCK_MS: int(10).default(1_000),
});

/** Throws an Error naming the setting (and, for NOTIFY_ALERT_RULES, the field) when one is malformed. */
export function loadAlertConfig(env: Record<string, string | undefined> = process.env): AlertConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  let retrySchedule: number[];
  try {
    retrySchedule = parseSchedule(e.NOTIFY_ALERT_RETRY_SCHEDULE);
  } catch (err) {
    throw new Error(`NOTIFY_ALERT_RETRY_SCHEDULE: ${(err as Error).message}`);
  }
  let rules: Settings | undefined;
  if (e.NOTIFY_ALERT_RULES !== undefined && e.NOTIFY_ALERT_RULES.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(e.NOTIFY_ALERT_RULES);
    } catch {
      throw new Error('NOTIFY_ALERT_RULES: not JSON');
    }
    const r = parseSettings(json, 'operator');
    if ('problem' in r) throw new Error(`NOTIFY_ALERT_RULES: ${r.problem.field}: ${r.problem.message}`);
    rules = r.settings;
  }
  return {
    enabled: e.NOTIFY_ALERTS, ...(rules && { rules }), allowPrivate: e.NOTIFY_ALERT_ALLOW_PRIVATE, tickMs: e.NOTIFY_ALERT_TICK_MS,
    destinationPerMinute: e.NOTIFY_ALERT_DESTINATION_PER_MINUTE, retrySchedule, timeoutMs: e.NOTIFY_ALERT_TIMEOUT_MS,
    leaseMs: e.NOTIFY_ALERT_LEASE_MS, batch: e.NOTIFY_ALERT_BATCH, blockMs: e.NOTIFY_ALERT_BLOCK_MS,
  };
}

/** The sandbox's operator rules when NOTIFY_ALERT_RULES is unset: every kind, one-minute windows, to the fake Slack. */
export function sandboxAlertRules(slackUrl: string): Settings {
  const to = ['sandbox-slack'];
  const w = 60_000;
  return {
    destinations: [{ name: 'sandbox-slack', type: 'slack', url: slackUrl, trusted: true }],
    rules: [
      { name: 'feedback', kind: 'feedback', window_ms: w, destinations: to, events: ['bounce', 'complaint', 'reject'], min_count: 1 },
      { name: 'dead-letters', kind: 'dead_letter', window_ms: w, destinations: to, min_count: 1 },
      { name: 'circuits', kind: 'circuit', window_ms: w, destinations: to },
      { name: 'failure-rate', kind: 'failure_rate', window_ms: w, destinations: to, threshold_percent: 20, min_deliveries: 10 },
      { name: 'queue-lag', kind: 'queue_lag', window_ms: w, destinations: to, oldest_pending_ms: 60_000 },
      { name: 'webhooks-disabled', kind: 'webhook_disabled', window_ms: w, destinations: to },
    ],
  };
}
