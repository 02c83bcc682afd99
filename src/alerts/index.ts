// Alerts to operators: rules over the service's facts (rules.ts, facts.ts, window.ts), an evaluator that counts and
// decides them (evaluator.ts), per-destination outboxes sent to Slack or a JSON webhook (sender.ts, deliver.ts), and
// /v1/alerts (routes.ts).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Keys } from '../streams/keys.js';
import type { AlertConfig } from './config.js';
import { Evaluator, publishCircuits, recordWebhookDisabled, type EvaluatorCounters, type WatchedQueue } from './evaluator.js';
import { alertKeys } from './keys.js';
import type { Settings } from './rules.js';
import { AlertSender, type AlertSendCounters } from './sender.js';

export { loadAlertConfig, sandboxAlertRules, type AlertConfig } from './config.js';
export { alertRoutes, type AlertRouteDeps } from './routes.js';
export { ALERT_GROUP } from './evaluator.js';

export interface AlertWorkerDeps {
  redis: Redis;
  /** A connection of its own for XREADGROUP BLOCK (disconnected on stop). */
  blocking: Redis;
  keys: Keys;
  prefix: string;
  config: AlertConfig & { rateWindowMs?: number };
  /** The operator's rules (NOTIFY_ALERT_RULES, or the sandbox's). */
  operator: Settings;
  /** Streams whose oldest pending age and lag queue_lag rules watch. */
  queues: readonly WatchedQueue[];
  /** This worker's name, and its providers' circuit states (published every tick for whichever process evaluates). */
  consumer: string;
  circuits?: () => Iterable<[provider: string, state: string]>;
  log: Logger;
  counters?: EvaluatorCounters & AlertSendCounters;
  now?: () => number;
}

export interface AlertWorker {
  stop(): Promise<void>;
  /** For the webhooks' sender: an endpoint it disabled. */
  webhookDisabled(tenant: string, endpoint: string): void;
}

/** Starts the evaluator (the consumer group `alerts`), the sender, and this worker's circuit reports. */
export async function startAlertWorker(deps: AlertWorkerDeps): Promise<AlertWorker> {
  const ak = alertKeys(deps.prefix);
  const now = deps.now ?? Date.now;
  let evaluator: Evaluator | undefined;
  const sender = new AlertSender(deps.redis, ak, deps.config, deps.log, () => evaluator?.holding === true, deps.counters, now);
  evaluator = new Evaluator(deps.redis, deps.blocking, deps.keys, ak, deps.config, deps.operator, deps.queues, `alerts-${randomUUID()}`,
    deps.log, deps.counters, () => sender.wake(), now);
  const report = async () => {
    if (deps.circuits) await publishCircuits(deps.redis, ak, deps.consumer, deps.circuits(), now()).catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'alerts: publishing circuit states failed'));
  };
  await report();
  const timer = setInterval(() => void report(), deps.config.tickMs).unref();
  await evaluator.start();
  sender.start();
  return {
    async stop() {
      clearInterval(timer);
      await evaluator!.stop();
      await sender.stop();
    },
    webhookDisabled(tenant, endpoint) {
      void recordWebhookDisabled(deps.redis, ak, tenant, endpoint).catch((err: unknown) => deps.log.warn({ err: (err as Error).message, tenant, endpoint }, 'alerts: recording a disabled webhook failed'));
    },
  };
}
