// Signed webhooks to producers: endpoints per tenant (routes.ts), a dispatcher fanning the status event stream out to
// per-endpoint queues (dispatcher.ts), and a sender working those queues with retries (sender.ts).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Keys } from '../streams/keys.js';
import type { WebhookConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { webhookKeys } from './keys.js';
import { Sender, type SenderCounters } from './sender.js';

export { loadWebhookConfig, type WebhookConfig } from './config.js';
export { webhookRoutes, type WebhookRouteDeps } from './routes.js';
export { WEBHOOK_GROUP } from './dispatcher.js';

export interface WebhookWorkerDeps {
  redis: Redis;
  /** A connection of its own for XREADGROUP BLOCK (disconnected on stop). */
  blocking: Redis;
  keys: Keys;
  prefix: string;
  config: WebhookConfig;
  log: Logger;
  counters?: SenderCounters;
  /** Told of each endpoint the sender disables after persistent failure (the alerts' webhook_disabled rules). */
  onDisabled?: (tenant: string, endpoint: string) => void;
}

/** Starts the dispatcher (the consumer group `webhooks`) and the sender; `stop` finishes the requests in flight. */
export async function startWebhookWorker(deps: WebhookWorkerDeps): Promise<{ stop(): Promise<void> }> {
  const wk = webhookKeys(deps.prefix);
  const onDisabled = deps.onDisabled;
  const counters: SenderCounters | undefined = onDisabled
    ? { attempt: (o) => deps.counters?.attempt(o), disabled: (t, n) => { deps.counters?.disabled?.(t, n); onDisabled(t, n); } }
    : deps.counters;
  const sender = new Sender(deps.redis, wk, deps.config, deps.log, counters);
  const dispatcher = new Dispatcher(deps.redis, deps.blocking, deps.keys, wk, {
    owner: `dispatcher-${randomUUID()}`, batch: deps.config.batch, blockMs: deps.config.blockMs, leaseMs: deps.config.leaseMs,
  }, deps.log, () => sender.wake());
  await dispatcher.start();
  sender.start();
  return {
    async stop() {
      await dispatcher.stop();
      await sender.stop();
    },
  };
}
