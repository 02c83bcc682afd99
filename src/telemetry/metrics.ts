// Prometheus metrics (prom-client), one registry per process: counts, latencies, and the queues' state read from Redis
// when scraped.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class Metrics {
  readonly registry = new Registry();

  readonly accepted = new Counter({
    name: 'notify_notifications_accepted_total', help: 'Notifications accepted (202) by the ingress', labelNames: ['tenant'] as const, registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'notify_deliveries_total', help: 'Delivery outcomes recorded, by channel, provider and status (queued, sent, failed, retrying, dead_lettered, opted_out, no_address, deduplicated, coalesced, rate_limited, deferred, cancelled, suppressed)',
    labelNames: ['channel', 'provider', 'status'] as const, registers: [this.registry],
  });
  readonly providerErrors = new Counter({
    name: 'notify_provider_errors_total', help: 'Failed provider calls by class (retryable, permanent, throttled, token_invalid)',
    labelNames: ['provider', 'class', 'code'] as const, registers: [this.registry],
  });
  readonly localThrottles = new Counter({
    name: 'notify_local_throttles_total', help: 'Sends this process held back before calling the provider (its rate limit, or a pause a 429 asked for); retried later without spending an attempt',
    labelNames: ['provider'] as const, registers: [this.registry],
  });
  readonly providerLatency = new Histogram({
    name: 'notify_provider_latency_seconds', help: 'Duration of provider calls (the SDK call only, not the waits for a rate limit or a free slot)', labelNames: ['provider'] as const,
    buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly acceptToSend = new Histogram({
    name: 'notify_accept_to_send_seconds', help: 'From accepted to the provider accepting the message', labelNames: ['channel'] as const,
    buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  readonly feedbackEvents = new Counter({
    name: 'notify_feedback_events_total', help: 'Provider feedback received (SES events, Twilio status callbacks), by provider, event type and result (applied, kept: a stronger status stands, duplicate, unknown: no such delivery, archived: its Redis record had expired and the history took it, unmatched: names no delivery)',
    labelNames: ['provider', 'type', 'result'] as const, registers: [this.registry],
  });
  readonly feedbackRejected = new Counter({
    name: 'notify_feedback_rejected_total', help: 'Feedback requests refused (bad signature, topic not allowed, malformed), by provider and error code',
    labelNames: ['provider', 'code'] as const, registers: [this.registry],
  });
  readonly intakeEntries = new Counter({
    name: 'notify_intake_entries_total', help: 'Ingest notification entries read, by result (read: handed to the user actors or held for send_at; dead_lettered: unusable, with the reason: missing_payload, invalid_json, invalid_entry, unknown_tenant)', labelNames: ['result', 'reason'] as const, registers: [this.registry],
  });
  readonly archived = new Counter({
    name: 'notify_archived_events_total', help: 'Status events written to the history database (and acknowledged) by this process', registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: 'notify_webhook_attempts_total', help: 'Webhook requests to producers\' endpoints made by this process, by outcome (succeeded, retrying, dead_lettered, disabled)',
    labelNames: ['outcome'] as const, registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'notify_alerts_total', help: 'Alert messages queued by this process\'s evaluator, by rule kind and state (firing, resolved)',
    labelNames: ['rule_kind', 'state'] as const, registers: [this.registry],
  });
  readonly alertSendFailures = new Counter({
    name: 'notify_alert_send_failures_total', help: 'Alert messages dropped after their retries (the destination never took them), by destination type (slack, webhook)',
    labelNames: ['destination_type'] as const, registers: [this.registry],
  });
  readonly archiveFailures = new Counter({
    name: 'notify_archive_failures_total', help: 'Batches of status events the history database refused or could not take (retried; the events wait in Redis)', registers: [this.registry],
  });

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'notify_' });
  }

  /** A gauge whose value is computed when scraped. */
  gauge(name: string, help: string, labelNames: string[], collect: (g: Gauge) => Promise<void> | void): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry], async collect() { await collect(this); } });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
