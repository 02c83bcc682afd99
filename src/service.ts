// Wires the service's parts for a role: the HTTP ingress, the workers (intake, channel actors, delayed mover), or both.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import type { Redis } from 'ioredis';
import type { Config, Role } from './config.js';
import type { Logger } from './log.js';
import { ChannelActor } from './actors/channel-actor.js';
import { Intake } from './actors/intake.js';
import { ProviderGate } from './actors/provider-gate.js';
import { createApp } from './http/app.js';
import { TenantAdmission } from './http/admission.js';
import { KnownTemplates } from './http/known-templates.js';
import type { ProvidersConfig } from './providers/config.js';
import type https from 'node:https';
import { feedbackDeps, withStatusCallback } from './feedback/index.js';
import { createAdapters, type ProviderAdapter } from './providers/index.js';
import type { ProviderName } from './domain/types.js';
import { RenderPool } from './render/render-pool.js';
import { DeadLetterStore } from './store/dead-letters.js';
import { NotificationStore } from './store/notifications.js';
import { moveLegacyRecords } from './store/legacy-records.js';
import { TemplateStore } from './store/templates.js';
import { UserStore } from './store/users.js';
import { SuppressionList } from './store/feedback.js';
import { DelayedMover } from './streams/delayed.js';
import { INTAKE_GROUP, LANE_PROVIDERS, LANES, SEND_GROUP, makeKeys, type Keys } from './streams/keys.js';
import { pairs } from './streams/replies.js';
import { Metrics } from './telemetry/metrics.js';
import { watchQueues } from './telemetry/queue-metrics.js';
import { tracingOn } from './telemetry/tracing.js';
import { opsRoutes } from './http/ops.js';
import { Trimmer } from './streams/trimmer.js';
import { DurableWrites } from './streams/durable-writes.js';
import { createBlockingConnection, createCommandConnection, isCluster } from './streams/redis.js';
import { stopInOrder, type StopStage } from './shutdown.js';
import { ARCHIVE_GROUP, Archiver } from './history/archiver.js';
import { historyFor } from './history/for-service.js';
import type { History } from './history/index.js';
import { startWebhookWorker, WEBHOOK_GROUP } from './webhooks/index.js';
import { ALERT_GROUP, sandboxAlertRules, startAlertWorker } from './alerts/index.js';
import type { Settings as AlertSettings } from './alerts/rules.js';

export interface ServiceOptions {
  config: Config;
  role: Role;
  log: Logger;
  /** Provider settings to use (the sandbox's, when it runs); defaults to config.providers. */
  providers?: ProvidersConfig;
  /** Sandbox only: what the fake providers received for a tenant. */
  sandboxMessages?: (tenant: string, limit: number) => Promise<unknown[]>;
  /** Sandbox only: told the tenant of every message a provider accepted, so the listing can be per tenant. */
  sandboxSent?: (providerMessageId: string, tenant: string) => void;
  /** Sandbox and tests only: fetch SNS signing certificates through this agent (see src/fakes/sns-cert-agent.ts). */
  snsCertAgent?: https.Agent;
  /** Sandbox only: the fake Slack (its operator alert rules send there when NOTIFY_ALERT_RULES is unset) and what it received. */
  sandboxAlerts?: { slackUrl?: string; received: (limit: number) => Promise<unknown[]> };
  /** More readiness checks, for what is set up after the server listens (the sandbox's SES events subscription). */
  readyChecks?: (() => Promise<Record<string, boolean>>)[];
}

export interface Service {
  /** The HTTP port actually bound: the API (ingress roles) or health and metrics (worker role). */
  readonly port: number;
  readonly consumer: string;
  /** Stops reading, finishes or hands back in-flight work, closes connections. */
  stop(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<Service> {
  const { config, role, log } = opts;
  const keys = makeKeys(config.prefix);
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const redis = createCommandConnection(config, log);
  await redis.connect();
  const durable = new DurableWrites(redis, config.redisUrl, config.durability, log, undefined, keys.ingest);
  const durability = await durable.start();
  if (durability.evicting) {
    redis.disconnect();
    throw new Error(`refusing to run: ${durability.summary}. Set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction).`);
  }
  log.info({ durability: durability.summary, mode: config.durability }, 'what an accepted notification survives');
  const metrics = new Metrics();
  watchQueues(metrics, redis, [
    { name: 'ingest', key: keys.ingest, group: INTAKE_GROUP },
    ...LANES.map((lane) => ({ name: lane, key: keys.lane(lane), group: SEND_GROUP })),
    ...LANES.map((lane) => ({ name: `${lane}:bulk`, key: keys.bulkLane(lane), group: SEND_GROUP })),
    { name: 'events', key: keys.events, group: ARCHIVE_GROUP },
    ...(config.webhooks.enabled ? [{ name: 'events:webhooks', key: keys.events, group: WEBHOOK_GROUP }] : []),
    ...(config.alerts.enabled ? [{ name: 'events:alerts', key: keys.events, group: ALERT_GROUP }] : []),
  ], keys.delayed, keys.dead);
  // Opened in the background: accepting and sending need only Redis (see src/history/for-service.ts).
  const served = historyFor(config.history, role, log);
  // The embedded database (PGlite) opens in this process and holds its event loop while it does (seconds, the first
  // time: it creates the database): let it finish before the ingress and the consumers start, so their Redis
  // commands and requests do not time out behind it. Bounded: a folder it cannot open is retried in the background.
  if (served && !config.history.url) await Promise.race([served.opened, new Promise((r) => setTimeout(r, 30_000).unref())]);
  const history = served?.history;
  const checks: (() => Promise<Record<string, boolean>>)[] = [async () => ({
    // Disconnected: say so at once rather than queue a PING behind the reconnection.
    redis: redis.status === 'ready' && (await redis.ping()) === 'PONG', durability: durable.ready,
  }), ...(opts.readyChecks ?? [])];
  const ready = async () => Object.assign({}, ...(await Promise.all(checks.map((c) => c()))));
  const stops: StopStage[] = [];

  if (role !== 'ingress') {
    const worker = await startWorker(opts, redis, consumer, metrics, history);
    stops.push(...worker.stops);
    checks.push(worker.ready);
  }
  // Template previews render in a thread of their own, started on the first preview (never on the event loop).
  let previews: RenderPool | undefined;
  stops.push(async () => previews?.close());
  const app = role === 'worker'
    ? opsRoutes({ metrics, ready })
    : createApp({
      apiKeys: config.apiKeys, maxBodyBytes: config.http.maxBodyBytes, log, metrics, ready,
      users: new UserStore(redis, keys), templates: new TemplateStore(redis, keys),
      knownTemplates: new KnownTemplates(redis, keys),
      notifications: new NotificationStore(redis, keys, config.retentionMs, config.controls, durable),
      admission: new TenantAdmission(redis, keys, config.tenantLimits),
      deadLetters: new DeadLetterStore(redis, keys),
      feedback: feedbackDeps({
        config: config.feedback, providers: opts.providers ?? config.providers, redis, keys, retentionMs: config.retentionMs,
        metrics, log, maxBodyBytes: config.http.maxBodyBytes, ...(opts.snsCertAgent && { snsCertAgent: opts.snsCertAgent }),
        ...(history && { history }),
      }),
      ...(opts.sandboxMessages && { sandboxMessages: opts.sandboxMessages }),
      render: (...args) => (previews ??= new RenderPool({ ...config.render, threads: 1 })).render(...args),
      ...(history && { history }),
      ...(config.webhooks.enabled && { webhooks: { redis, prefix: config.prefix, config: config.webhooks } }),
      ...(config.alerts.enabled && { alerts: { redis, prefix: config.prefix, config: config.alerts } }),
      ...(opts.sandboxAlerts && { sandboxAlerts: opts.sandboxAlerts.received }),
    });
  const server = await listen(app.fetch, config.http);
  const port = (server.address() as { port: number }).port;
  log.info({ host: config.http.host, port, api: role !== 'worker' }, role === 'worker' ? 'health and metrics listening' : 'HTTP ingress listening');
  // The server stops first so no request is accepted that the workers would not see.
  stops.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())));

  let stopped: Promise<void> | undefined;
  return {
    port, consumer,
    stop() {
      stopped ??= (async () => {
        // One deadline for everything in hand: plans first, then the sends they lead to.
        await stopInOrder(stops, config.shutdownTimeoutMs);
        await served?.close();
        await durable.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return stopped;
    },
  };
}

interface Worker {
  stops: StopStage[];
  ready: () => Promise<Record<string, boolean>>;
}

async function startWorker(opts: ServiceOptions, redis: Redis, consumer: string, metrics: Metrics, history: History | undefined): Promise<Worker> {
  const { config, log } = opts;
  const keys = makeKeys(config.prefix);
  const adapters = tagSends(await createAdapters(withStatusCallback(opts.providers ?? config.providers, config.feedback.publicUrl)), opts.sandboxSent);
  const gates = new Map([...adapters].map(([name, adapter]) => [name, new ProviderGate(adapter, {
    ...(config.gates.rates[name] !== undefined && { ratePerSec: config.gates.rates[name] }),
    maxConcurrent: config.gates.concurrency, breaker: config.gates.breaker,
    throttlePauseMs: config.gates.throttlePauseMs, maxWaitMs: config.gates.maxWaitMs,
  })]));
  const render = new RenderPool({ ...config.render, timed: tracingOn() });
  const tenants = new Set(config.apiKeys.values());
  const lanes = new Set(LANES.filter((lane) => LANE_PROVIDERS[lane].some((p) => gates.has(p))));
  const suppressions = new SuppressionList(redis, keys);
  const blocking = (name: string) => createBlockingConnection(config, log, config.intake.blockMs, name);

  const intake = new Intake(redis, blocking('intake'), keys, render, {
    consumer, batch: config.intake.batch, maxInflight: config.intake.maxInflight, maxRecipients: config.intake.maxRecipients, bulkThreshold: config.intake.bulkThreshold, blockMs: config.intake.blockMs,
    claimIdleMs: config.claimIdleMs, maxDeliveries: config.maxDeliveries, maxHandleMs: config.maxHandleMs,
    retentionMs: config.retentionMs, tenants, controls: config.controls, lanes,
  }, log, metrics);
  // Each lane is read twice: its own stream, and its bulk stream with half the sends in flight (weighted 2:1), sharing
  // the providers' gates, so a burst parked in the bulk stream adds at most that many sends ahead of anyone else's.
  const channels = LANES.flatMap((lane) => [false, true].map((bulk) => {
    const providers = LANE_PROVIDERS[lane].map((p) => gates.get(p)).filter((g): g is ProviderGate => g !== undefined);
    return new ChannelActor(redis, blocking(`lane-${lane}${bulk ? '-bulk' : ''}`), keys, lane, providers, {
      consumer, batch: config.channels.batch, blockMs: config.channels.blockMs,
      concurrency: bulk ? Math.max(1, config.channels.concurrency >> 1) : config.channels.concurrency,
      ...(bulk && { stream: keys.bulkLane(lane) }),
      claimIdleMs: config.claimIdleMs, maxDeliveries: config.maxDeliveries, maxHandleMs: config.maxHandleMs, retry: config.retry,
      suppressed: (tenant, address) => suppressions.has(tenant, address),
    }, log, metrics);
  }));
  const delayed = new DelayedMover(redis, keys, log);
  const trimmer = new Trimmer(redis, [
    { stream: keys.ingest, group: INTAKE_GROUP },
    ...LANES.flatMap((lane) => [keys.lane(lane), keys.bulkLane(lane)].map((stream) => ({ stream, group: SEND_GROUP }))),
    // With no archiver anywhere (its group missing) nobody reads the events: they are dropped, not kept for good.
    // Below what every group (the archiver, the webhooks dispatcher) has handled, whichever of them runs.
    { stream: keys.events, group: ARCHIVE_GROUP, emptyWithoutGroup: true, allGroups: true },
  ], keys.dead, { everyMs: 5_000, deadRetentionMs: config.retentionMs, consumerIdleMs: 86_400_000 }, log);
  metrics.gauge('notify_user_actors', 'User actors alive (users with work in hand) in this process', [], (g) => g.set(intake.actors.size));
  metrics.gauge('notify_inflight', 'Entries in hand in this process, by stage', ['stage'], (g) => {
    g.set({ stage: 'intake' }, intake.inflight);
    for (const c of channels) g.set({ stage: c.stream === keys.lane(c.lane) ? c.lane : `${c.lane}:bulk` }, c.inflight);
  });
  metrics.gauge('notify_circuit_state', 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open', ['provider'], (g) => {
    for (const [name, gate] of gates) g.set({ provider: name }, { closed: 0, half_open: 1, open: 2 }[gate.breakerState()]);
  });

  // Records older versions kept under the id alone go to their tenant's key before any work for them is read.
  // (A cluster never held them: the service ran on a single Redis before it ran on a cluster.)
  const moved = isCluster(redis) ? 0 : await moveLegacyRecords(redis, keys);
  if (moved > 0) log.info({ moved }, 'notification records of an older version moved to their tenant\'s key');
  const archiver = history && new Archiver(redis, blocking('archiver'), keys, history, {
    consumer, batch: config.history.batch, blockMs: config.intake.blockMs, claimIdleMs: config.claimIdleMs, hotRetentionMs: config.history.hotRetentionMs,
  }, log, { archived: (n) => metrics.archived.inc(n), failed: () => metrics.archiveFailures.inc() });
  // Today's and the coming days' partitions, and the oldest dropped, every hour (createHistory did it once at start).
  const partitions = history && setInterval(() => void history.maintainPartitions().catch((err: unknown) => log.warn({ err }, 'history: maintaining partitions failed')), 3_600_000).unref();
  await Promise.all([intake.start(), ...channels.map((c) => c.start()), archiver?.start()]);
  const alerts = config.alerts.enabled ? await startAlertWorker({
    redis, blocking: blocking('alerts'), keys, prefix: config.prefix, config: config.alerts, operator: operatorAlertRules(opts), log, consumer,
    queues: [
      { name: 'ingest', key: keys.ingest, group: INTAKE_GROUP },
      ...LANES.flatMap((lane) => [{ name: lane, key: keys.lane(lane), group: SEND_GROUP }, { name: `${lane}:bulk`, key: keys.bulkLane(lane), group: SEND_GROUP }]),
    ],
    circuits: () => [...gates].map(([name, gate]) => [name, gate.breakerState()] as [string, string]),
    counters: {
      alert: (kind, state) => metrics.alerts.inc({ rule_kind: kind, state }),
      failed: (type) => metrics.alertSendFailures.inc({ destination_type: type }),
    },
  }) : undefined;
  const webhooks = config.webhooks.enabled ? await startWebhookWorker({
    redis, blocking: blocking('webhooks'), keys, prefix: config.prefix, config: config.webhooks, log,
    counters: { attempt: (outcome) => metrics.webhookAttempts.inc({ outcome }) },
    ...(alerts && { onDisabled: (tenant: string, endpoint: string) => alerts.webhookDisabled(tenant, endpoint) }),
  }) : undefined;
  delayed.start();
  trimmer.start();
  const unserved = LANES.filter((lane) => !lanes.has(lane));
  if (unserved.length > 0) log.warn({ lanes: unserved }, 'no provider for these lanes: default channels leave them out, named ones are recorded failed');
  log.info({ consumer, providers: [...adapters.keys()], renderThreads: render.threads }, 'worker started');

  return {
    ready: async () => ({ groups: await groupsPresent(redis, keys), renderPool: render.threads > 0 }),
    stops: [
      async (remainingMs) => {
        const left = await intake.stop(remainingMs);
        if (left > 0) log.warn({ left }, 'intake entries left pending; another worker will claim them');
      },
      async (remainingMs) => {
        const left = await Promise.all(channels.map((c) => c.stop(remainingMs)));
        const total = left.reduce((a, b) => a + b, 0);
        if (total > 0) log.warn({ left: total }, 'deliveries left pending; another worker will claim them');
      },
      async () => {
        delayed.stop();
        trimmer.stop();
        clearInterval(partitions);
        await archiver?.stop();
        await webhooks?.stop();
        await alerts?.stop();
        await render.close();
        await Promise.all([...adapters.values()].map((a) => a.close()));
      },
    ],
  };
}

/** The operator's alert rules: NOTIFY_ALERT_RULES, else in the sandbox its rules to the fake Slack, else none. */
function operatorAlertRules(opts: ServiceOptions): AlertSettings {
  const { rules } = opts.config.alerts;
  if (rules) return rules;
  const slack = opts.sandboxAlerts?.slackUrl;
  return slack ? sandboxAlertRules(slack) : { destinations: [], rules: [] };
}

/** With `onSent` (sandbox only), each adapter reports the tenant of every message its provider accepted. */
function tagSends(adapters: Map<ProviderName, ProviderAdapter>, onSent?: (providerMessageId: string, tenant: string) => void): Map<ProviderName, ProviderAdapter> {
  if (!onSent) return adapters;
  return new Map([...adapters].map(([name, a]) => [name, {
    ...a,
    async send(m) {
      const r = await a.send(m);
      if (r.ok && m.tenant !== undefined) onSent(r.providerMessageId, m.tenant);
      return r;
    },
  } satisfies ProviderAdapter]));
}

/** Every stream this worker reads still has its consumer group (a lost group is recreated by the consumer). */
async function groupsPresent(redis: Redis, keys: Keys): Promise<boolean> {
  const streams: [string, string][] = [[keys.ingest, INTAKE_GROUP], ...LANES.flatMap((l): [string, string][] => [[keys.lane(l), SEND_GROUP], [keys.bulkLane(l), SEND_GROUP]])];
  const pipe = redis.pipeline();
  for (const [key] of streams) pipe.call('XINFO', 'GROUPS', key);
  const replies = (await pipe.exec()) ?? [];
  return streams.every(([, group], i) => {
    const [err, groups] = replies[i]!;
    return !err && (groups as unknown[][]).some((g) => pairs(g).name === group);
  });
}

/**
 * A slow client (headers or body trickling in) is cut off with 408 once its headers / whole request took longer than
 * the configured timeouts, not after Node's default 300 s. Node checks them every `connectionsCheckingInterval`
 * (default 30 s), so that is kept well below the timeouts.
 */
function listen(fetch: Parameters<typeof serve>[0]['fetch'], http: Config['http']): Promise<ServerType> {
  const { host: hostname, port, headersTimeoutMs, requestTimeoutMs } = http;
  const serverOptions = {
    headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
  };
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port, serverOptions }, () => resolve(server));
    server.once('error', reject);
  });
}
