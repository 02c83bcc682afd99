// The one configuration schema: every setting comes from the environment, is validated here, and fails start-up clearly.
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RetryPolicy } from './domain/retry.js';
import type { DurabilityMode } from './domain/durability.js';
import type { Controls } from './domain/controls.js';
import { parseBypass, parseRateLimits } from './domain/rate-limit.js';
import { parseTenantLimits, type TenantLimits } from './domain/tenant-limit.js';
import type { ProviderName } from './domain/types.js';
import { ConfigError } from './config-error.js';
import { providersFromEnv } from './config-providers.js';
import { SES_EVENTS_TOPIC } from './fakes/sns-topics.js';
import type { ProvidersConfig } from './providers/config.js';
import type { TracingConfig } from './telemetry/tracing.js';
import { loadWebhookConfig, type WebhookConfig } from './webhooks/config.js';
import { loadAlertConfig, type AlertConfig } from './alerts/config.js';

export { ConfigError };

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const bool = (def: boolean) => z.stringbool().default(def);
const opt = z.string().min(1).optional();

const EnvSchema = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z.string().regex(/^\s*[A-Za-z0-9.-]+:\d{1,5}\s*(,\s*[A-Za-z0-9.-]+:\d{1,5}\s*)*$/, 'must be a comma-separated list of host:port').optional(),
  NOTIFY_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/).default('notify'),
  NOTIFY_HTTP_HOST: z.string().default('127.0.0.1'),
  NOTIFY_HTTP_PORT: int(3000),
  NOTIFY_HTTP_HEADERS_TIMEOUT_MS: int(10_000, 100),
  NOTIFY_HTTP_REQUEST_TIMEOUT_MS: int(30_000, 100),
  NOTIFY_API_KEYS: z.string().optional(),
  NOTIFY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NOTIFY_RETENTION_DAYS: z.coerce.number().positive().default(7),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  NOTIFY_HISTORY: z.enum(['on', 'off']).default('on'),
  NOTIFY_HISTORY_DIR: z.string().min(1).default('data/history'),
  NOTIFY_HISTORY_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case SQL identifier').default('notify_history'),
  NOTIFY_HISTORY_DAYS: int(90, 1),
  NOTIFY_HOT_RETENTION_MS: int(3_600_000, 0),
  NOTIFY_ARCHIVE_BATCH: int(1000, 1),
  NOTIFY_MAX_BODY_BYTES: int(1_048_576, 1024),
  NOTIFY_SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  NOTIFY_SANDBOX_HTTP_PORT: int(4010),
  NOTIFY_SANDBOX_APNS_PORT: int(4011),
  NOTIFY_SANDBOX_URL: z.url({ protocol: /^https?$/ }).optional(),
  NOTIFY_INTAKE_BATCH: int(256, 1),
  NOTIFY_INTAKE_MAX_INFLIGHT: int(2048, 1),
  NOTIFY_INTAKE_MAX_RECIPIENTS: int(2048, 1),
  NOTIFY_BULK_THRESHOLD: int(100, 0),
  NOTIFY_TENANT_RATE: z.string().default('2000'),
  NOTIFY_TENANT_BURST: z.string().default('20000'),
  NOTIFY_TENANT_LIMITS: z.string().default(''),
  NOTIFY_CHANNEL_BATCH: int(256, 1),
  NOTIFY_CHANNEL_CONCURRENCY: int(256, 1),
  NOTIFY_RENDER_THREADS: int(1, 1),
  NOTIFY_RENDER_BATCH: int(400, 1),
  NOTIFY_RENDER_TIMEOUT_MS: int(1000, 10),
  NOTIFY_RENDER_HEAP_MB: int(256, 32),
  NOTIFY_SEND_TIMEOUT_MS: int(10_000, 100),
  NOTIFY_BLOCK_MS: int(1000, 10),
  NOTIFY_SHUTDOWN_TIMEOUT_MS: int(15_000, 0),
  NOTIFY_CLAIM_IDLE_MS: int(60_000, 1_000),
  NOTIFY_RETRY_MAX_ATTEMPTS: int(5, 1),
  NOTIFY_RETRY_BASE_MS: int(1_000, 1),
  NOTIFY_RETRY_MAX_DELAY_MS: int(300_000, 1),
  NOTIFY_RETRY_MAX_AGE_MS: int(86_400_000, 1_000),
  NOTIFY_DURABILITY: z.enum(['standard', 'strict']).default('standard'),
  NOTIFY_TRACING: z.enum(['on', 'off']).default('off'),
  NOTIFY_TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:4318'),
  OTEL_SERVICE_NAME: z.string().min(1).default('notify'),
  NOTIFY_MAX_DELIVERIES: int(5, 1),
  NOTIFY_MAX_HANDLE_MS: int(300_000, 1_000),
  NOTIFY_PROVIDER_RATES: z.string().regex(/^(\s*(apns|fcm|twilio|ses|sns):\d+(\.\d+)?\s*)(,\s*(apns|fcm|twilio|ses|sns):\d+(\.\d+)?\s*)*$/, 'must look like twilio:50,ses:14').optional(),
  NOTIFY_PROVIDER_CONCURRENCY: int(128, 1),
  NOTIFY_BREAKER_THRESHOLD: int(5, 1),
  NOTIFY_BREAKER_OPEN_MS: int(30_000, 100),
  NOTIFY_THROTTLE_PAUSE_MS: int(1_000, 1),
  NOTIFY_THROTTLE_MAX_WAIT_MS: int(2_000, 0),
  NOTIFY_CONTROLS: bool(true),
  NOTIFY_IDEMPOTENCY_TTL_MS: int(86_400_000, 1_000),
  NOTIFY_IDEMPOTENCY_IN_FLIGHT_MS: int(30_000, 100),
  NOTIFY_DEDUPE_WINDOW_MS: int(86_400_000, 1_000),
  NOTIFY_COLLAPSE_WINDOW_MS: int(60_000, 10),
  NOTIFY_COLLAPSE_MAX_ITEMS: int(50, 1),
  NOTIFY_RATE_LIMITS: z.string().default(''),
  NOTIFY_RATE_LIMIT_MODE: z.enum(['defer', 'drop']).default('defer'),
  NOTIFY_RATE_LIMIT_BYPASS: z.string().default('priority:high,category:transactional'),
  NOTIFY_RATE_LIMIT_MAX_DEFER_MS: int(86_400_000, 1_000),
  NOTIFY_SCHEDULE_HORIZON_DAYS: z.coerce.number().positive().default(30),
  NOTIFY_APNS_KEY_FILE: opt,
  NOTIFY_APNS_KEY_ID: opt,
  NOTIFY_APNS_TEAM_ID: opt,
  NOTIFY_APNS_TOPIC: opt,
  NOTIFY_APNS_PRODUCTION: bool(false),
  NOTIFY_APNS_HOST: opt,
  NOTIFY_APNS_PORT: z.coerce.number().int().positive().optional(),
  NOTIFY_APNS_CA_FILE: opt,
  NOTIFY_FCM_PROJECT_ID: opt,
  NOTIFY_FCM_SERVICE_ACCOUNT_FILE: opt,
  NOTIFY_FCM_ACCESS_TOKEN: opt,
  NOTIFY_FCM_ENDPOINT: z.string().regex(/^((https?):\/\/)?[A-Za-z0-9.-]+:\d{1,5}\/?$/, 'must be host:port, http://host:port or https://host:port').optional(),
  NOTIFY_FCM_CA_FILE: opt,
  NOTIFY_TWILIO_ACCOUNT_SID: opt,
  NOTIFY_TWILIO_AUTH_TOKEN: opt,
  NOTIFY_TWILIO_FROM: opt,
  NOTIFY_TWILIO_MESSAGING_SERVICE_SID: opt,
  NOTIFY_TWILIO_BASE_URL: opt,
  NOTIFY_SES_REGION: opt,
  NOTIFY_SES_FROM: opt,
  NOTIFY_SES_ENDPOINT: opt,
  NOTIFY_SES_CONFIGURATION_SET: opt,
  NOTIFY_SNS_REGION: opt,
  NOTIFY_SNS_ENDPOINT: opt,
  NOTIFY_SNS_SENDER_ID: opt,
  NOTIFY_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  NOTIFY_SES_EVENTS_TOPIC_ARNS: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(,arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256})*$/, 'must be a comma-separated list of SNS topic ARNs').optional(),
});
export type Env = z.infer<typeof EnvSchema>;

export type Role = 'all' | 'ingress' | 'worker';

/** Provider feedback: SES events via SNS, Twilio status callbacks. */
export interface FeedbackConfig {
  /** This service's public base URL (what Twilio calls back); Twilio status callbacks are on when it is set. */
  publicUrl?: string;
  /** SNS topics whose SES events are accepted at POST /v1/feedback/ses; none: the endpoint is off. */
  sesTopicArns: string[];
}

export interface Config {
  redisUrl: string;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); when set, REDIS_URL is not used. */
  redisCluster?: ClusterNode[];
  /**
   * What every key starts with: NOTIFY_PREFIX, and on a cluster `{NOTIFY_PREFIX}`, a hash tag that puts every key in
   * one slot, so each script and MULTI stays on one node (see README "Redis Cluster").
   */
  prefix: string;
  /** `headersTimeoutMs` / `requestTimeoutMs`: a request's headers / the whole request must arrive within these (else 408). */
  http: { host: string; port: number; maxBodyBytes: number; headersTimeoutMs: number; requestTimeoutMs: number };
  /** sha256(api key) hex → tenant id. */
  apiKeys: Map<string, string>;
  logLevel: string;
  retentionMs: number;
  /**
   * The notification log in PostgreSQL (src/history): `url` a server (DATABASE_URL), else an embedded PostgreSQL in
   * `dir`, which only one process can open (so only `--role all` uses it). `hotRetentionMs`: how long a terminal
   * notification's record stays in Redis once archived.
   */
  history: { enabled: boolean; url?: string; dir: string; schema: string; days: number; hotRetentionMs: number; batch: number };
  /**
   * Send to the fake providers instead of real ones: started in-process on these ports, or, with `url`,
   * already running elsewhere (`npm run fakes`).
   */
  sandbox: { enabled: boolean; httpPort: number; apnsPort: number; url?: string };
  /** `maxRecipients`: recipients being planned at once, shared round-robin between tenants. */
  intake: { batch: number; maxInflight: number; maxRecipients: number; bulkThreshold: number; blockMs: number };
  channels: { batch: number; concurrency: number; blockMs: number };
  render: { threads: number; batch: number; timeoutMs: number; heapMb: number };
  shutdownTimeoutMs: number;
  /** Pending entries idle this long are taken over from their (presumed dead) consumer. */
  claimIdleMs: number;
  retry: RetryPolicy;
  tracing: TracingConfig;
  /** strict: answer 202 only once the notification is fsynced (WAITAOF, or appendfsync always), else 503. */
  durability: DurabilityMode;
  /** Claims beyond this count mark an entry as poison: it goes to the dead-letter stream instead of looping. */
  maxDeliveries: number;
  /** An entry in hand longer than this is considered stalled and is no longer kept from other consumers. */
  maxHandleMs: number;
  /** Per provider: rate (per process, per second), concurrency, circuit breaker, throttling. */
  gates: {
    rates: Partial<Record<ProviderName, number>>;
    concurrency: number;
    breaker: { failureThreshold: number; openMs: number };
    throttlePauseMs: number;
    maxWaitMs: number;
  };
  providers: ProvidersConfig;
  /** Idempotency, de-duplication, coalescing, rate limits, quiet hours, scheduling. */
  controls: Controls;
  feedback: FeedbackConfig;
  /** Per-tenant admission limits at the ingress (deliveries requested per second, burst). */
  tenantLimits: TenantLimits;
  /** Producers' signed webhooks (src/webhooks; its NOTIFY_WEBHOOK_* settings are read there). */
  webhooks: WebhookConfig;
  /** Alerts to operators (src/alerts; its NOTIFY_ALERT* settings are read there). */
  alerts: AlertConfig;
}

export interface ClusterNode {
  host: string;
  port: number;
}

/** `host:port,host:port,…` (REDIS_CLUSTER_NODES) as seed nodes. */
export function parseClusterNodes(raw: string): ClusterNode[] {
  return raw.split(',').map((s) => {
    const [host, port] = s.trim().split(':') as [string, string];
    return { host, port: Number(port) };
  });
}

/** The key a fresh sandbox accepts when NOTIFY_API_KEYS is unset; never accepted outside sandbox mode. */
export const SANDBOX_API_KEY = 'sandbox-key';


/** Parses and validates the environment; throws ConfigError with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv, readFile = (p: string) => readFileSync(p, 'utf8')): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const timeoutMs = e.NOTIFY_SEND_TIMEOUT_MS;
  const providers = providersFromEnv(e, timeoutMs, readFile);
  const anyProvider = Object.keys(providers).length > 0;
  const sandbox = e.NOTIFY_SANDBOX === 'on' || (e.NOTIFY_SANDBOX === 'auto' && !anyProvider);
  const apiKeys = parseApiKeys(e.NOTIFY_API_KEYS);
  if (e.NOTIFY_HTTP_HEADERS_TIMEOUT_MS > e.NOTIFY_HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('NOTIFY_HTTP_HEADERS_TIMEOUT_MS must not exceed NOTIFY_HTTP_REQUEST_TIMEOUT_MS');
  }
  if (apiKeys.size === 0) {
    if (!sandbox) throw new ConfigError('NOTIFY_API_KEYS is required when real providers are configured');
    apiKeys.set(sha256Hex(SANDBOX_API_KEY), 'sandbox');
  }
  return {
    redisUrl: e.REDIS_URL,
    ...(e.REDIS_CLUSTER_NODES && { redisCluster: parseClusterNodes(e.REDIS_CLUSTER_NODES) }),
    prefix: e.REDIS_CLUSTER_NODES ? `{${e.NOTIFY_PREFIX}}` : e.NOTIFY_PREFIX,
    http: {
      host: e.NOTIFY_HTTP_HOST, port: e.NOTIFY_HTTP_PORT, maxBodyBytes: e.NOTIFY_MAX_BODY_BYTES,
      headersTimeoutMs: e.NOTIFY_HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.NOTIFY_HTTP_REQUEST_TIMEOUT_MS,
    },
    apiKeys,
    logLevel: e.NOTIFY_LOG_LEVEL,
    retentionMs: Math.round(e.NOTIFY_RETENTION_DAYS * 86_400_000),
    history: {
      enabled: e.NOTIFY_HISTORY === 'on', ...(e.DATABASE_URL && { url: e.DATABASE_URL }), dir: e.NOTIFY_HISTORY_DIR,
      schema: e.NOTIFY_HISTORY_SCHEMA, days: e.NOTIFY_HISTORY_DAYS, hotRetentionMs: e.NOTIFY_HOT_RETENTION_MS, batch: e.NOTIFY_ARCHIVE_BATCH,
    },
    sandbox: {
      enabled: sandbox, httpPort: e.NOTIFY_SANDBOX_HTTP_PORT, apnsPort: e.NOTIFY_SANDBOX_APNS_PORT,
      ...(e.NOTIFY_SANDBOX_URL && { url: e.NOTIFY_SANDBOX_URL.replace(/\/$/, '') }),
    },
    intake: { batch: e.NOTIFY_INTAKE_BATCH, maxInflight: e.NOTIFY_INTAKE_MAX_INFLIGHT, maxRecipients: e.NOTIFY_INTAKE_MAX_RECIPIENTS, bulkThreshold: e.NOTIFY_BULK_THRESHOLD, blockMs: e.NOTIFY_BLOCK_MS },
    channels: { batch: e.NOTIFY_CHANNEL_BATCH, concurrency: e.NOTIFY_CHANNEL_CONCURRENCY, blockMs: e.NOTIFY_BLOCK_MS },
    render: { threads: e.NOTIFY_RENDER_THREADS, batch: e.NOTIFY_RENDER_BATCH, timeoutMs: e.NOTIFY_RENDER_TIMEOUT_MS, heapMb: e.NOTIFY_RENDER_HEAP_MB },
    shutdownTimeoutMs: e.NOTIFY_SHUTDOWN_TIMEOUT_MS,
    claimIdleMs: e.NOTIFY_CLAIM_IDLE_MS,
    durability: e.NOTIFY_DURABILITY,
    tracing: {
      enabled: e.NOTIFY_TRACING === 'on', endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      sampleRatio: e.NOTIFY_TRACE_SAMPLE_RATIO, serviceName: e.OTEL_SERVICE_NAME,
    },
    maxDeliveries: e.NOTIFY_MAX_DELIVERIES,
    maxHandleMs: e.NOTIFY_MAX_HANDLE_MS,
    gates: {
      rates: Object.fromEntries((e.NOTIFY_PROVIDER_RATES ?? '').split(',').filter((s) => s.trim()).map((s) => {
        const [name, rate] = s.trim().split(':');
        return [name!, Number(rate)];
      })),
      concurrency: e.NOTIFY_PROVIDER_CONCURRENCY,
      breaker: { failureThreshold: e.NOTIFY_BREAKER_THRESHOLD, openMs: e.NOTIFY_BREAKER_OPEN_MS },
      throttlePauseMs: e.NOTIFY_THROTTLE_PAUSE_MS,
      maxWaitMs: e.NOTIFY_THROTTLE_MAX_WAIT_MS,
    },
    retry: {
      maxAttempts: e.NOTIFY_RETRY_MAX_ATTEMPTS, baseDelayMs: e.NOTIFY_RETRY_BASE_MS,
      maxDelayMs: e.NOTIFY_RETRY_MAX_DELAY_MS, maxAgeMs: e.NOTIFY_RETRY_MAX_AGE_MS,
      // Here, not only in the providers' settings: the sandbox's providers are built apart from this configuration.
      sendTimeoutMs: timeoutMs,
    },
    providers,
    controls: controlsFromEnv(e),
    feedback: feedbackFromEnv(e, sandbox),
    tenantLimits: tenantLimitsFromEnv(e),
    webhooks: webhooksFromEnv(env),
    alerts: alertsFromEnv(env),
  };
}

function webhooksFromEnv(env: NodeJS.ProcessEnv): WebhookConfig {
  try {
    return loadWebhookConfig(env);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
}

function alertsFromEnv(env: NodeJS.ProcessEnv): AlertConfig {
  try {
    return loadAlertConfig(env);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
}

function tenantLimitsFromEnv(e: Env): TenantLimits {
  try {
    return parseTenantLimits(e.NOTIFY_TENANT_RATE, e.NOTIFY_TENANT_BURST, e.NOTIFY_TENANT_LIMITS);
  } catch (err) {
    throw new ConfigError(`NOTIFY_TENANT_RATE / NOTIFY_TENANT_BURST / NOTIFY_TENANT_LIMITS: ${(err as Error).message}`);
  }
}

/** The fake SNS topic of the sandbox's SES events. */
export const SANDBOX_SES_EVENTS_TOPIC = SES_EVENTS_TOPIC;

/**
 * In the self-contained sandbox (fakes in this process) feedback is on by default: the fakes' topic, and this
 * process' own address as the public URL. With fakes elsewhere (NOTIFY_SANDBOX_URL: the bench, several processes)
 * it is on only when configured, so the fakes' callbacks do not add load nobody asked for.
 */
function feedbackFromEnv(e: Env, sandbox: boolean): FeedbackConfig {
  const selfContained = sandbox && !e.NOTIFY_SANDBOX_URL;
  const own = selfContained && e.NOTIFY_HTTP_PORT !== 0 ? `http://127.0.0.1:${e.NOTIFY_HTTP_PORT}` : undefined;
  const publicUrl = e.NOTIFY_PUBLIC_URL?.replace(/\/$/, '') ?? own;
  const topics = e.NOTIFY_SES_EVENTS_TOPIC_ARNS?.split(',') ?? (selfContained ? [SANDBOX_SES_EVENTS_TOPIC] : []);
  return { ...(publicUrl && { publicUrl }), sesTopicArns: topics };
}

function controlsFromEnv(e: Env): Controls {
  let rules;
  let bypass;
  try {
    rules = parseRateLimits(e.NOTIFY_RATE_LIMITS);
    bypass = parseBypass(e.NOTIFY_RATE_LIMIT_BYPASS);
  } catch (err) {
    throw new ConfigError(`NOTIFY_RATE_LIMITS / NOTIFY_RATE_LIMIT_BYPASS: ${(err as Error).message}`);
  }
  return {
    enabled: e.NOTIFY_CONTROLS,
    idempotency: { ttlMs: e.NOTIFY_IDEMPOTENCY_TTL_MS, inFlightMs: e.NOTIFY_IDEMPOTENCY_IN_FLIGHT_MS },
    dedupeWindowMs: e.NOTIFY_DEDUPE_WINDOW_MS,
    collapse: { windowMs: e.NOTIFY_COLLAPSE_WINDOW_MS, maxItems: e.NOTIFY_COLLAPSE_MAX_ITEMS },
    rateLimit: { rules, mode: e.NOTIFY_RATE_LIMIT_MODE, ...bypass, maxDeferMs: e.NOTIFY_RATE_LIMIT_MAX_DEFER_MS },
    scheduleHorizonMs: Math.round(e.NOTIFY_SCHEDULE_HORIZON_DAYS * 86_400_000),
  };
}

export const sha256Hex = (s: string): string => hash('sha256', s, 'hex');

/** `tenant:key` or `tenant:sha256:<hex>` pairs, comma-separated. Plain keys are hashed at once. */
function parseApiKeys(raw: string | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  for (const item of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_-]{1,64}):(?:sha256:([0-9a-f]{64})|(.{16,}))$/.exec(item);
    if (!m) throw new ConfigError(`NOTIFY_API_KEYS: "${item.split(':')[0]}:…" must be tenant:key (key ≥ 16 chars) or tenant:sha256:<64 hex>`);
    keys.set(m[2] ?? sha256Hex(m[3]!), m[1]!);
  }
  return keys;
}
