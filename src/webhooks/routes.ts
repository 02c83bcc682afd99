// /v1/webhooks: a tenant's endpoints, their recent attempts and dead letters, test sends and secret rotation.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { AuthEnv } from '../http/auth.js';
import { onlyLimit, pathParam, readJson } from '../http/body.js';
import { ApiError } from '../http/errors.js';
import type { WebhookConfig } from './config.js';
import { TEST_EVENT_TYPE, WEBHOOK_EVENT_TYPES, type WebhookPayload } from './events.js';
import { webhookKeys } from './keys.js';
import { send } from './sender.js';
import { checkTarget, UrlRefused } from './ssrf.js';
import { WebhookStore, type Endpoint } from './store.js';

export interface WebhookRouteDeps {
  redis: Redis;
  prefix: string;
  config: WebhookConfig;
  now?: () => number;
}

export const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const NAME_RULE = 'webhook names are 1-64 characters of letters, digits and ._-';
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

export const EndpointInput = z.strictObject({
  url: z.string().max(2048),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length),
  enabled: z.boolean().default(true),
});
export const Redrive = z.strictObject({
  ids: z.array(z.string().regex(ENTRY_ID, 'dead-letter ids look like 1732262400000-0')).min(1).max(1000).optional(),
  all: z.boolean().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
}).refine((r) => (r.ids !== undefined) !== (r.all === true), { path: ['all'], message: 'name the dead letters (ids) or say all: true (up to limit), not both' });

export function webhookRoutes(deps: WebhookRouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const now = deps.now ?? Date.now;
  const store = new WebhookStore(deps.redis, webhookKeys(deps.prefix), now);
  const name = (c: Parameters<typeof pathParam>[0]) => pathParam(c, 'name', NAME, NAME_RULE);
  const found = async (tenant: string, n: string): Promise<Endpoint> => {
    const ep = await store.get(tenant, n);
    if (!ep) throw new ApiError('not_found', 'no such webhook');
    return ep;
  };
  const view = async (tenant: string, ep: Endpoint, withSecret = false) => {
    const counts = await store.counts(tenant, ep.name);
    return {
      name: ep.name, url: ep.url, events: ep.events, enabled: ep.enabled,
      disabled_reason: ep.disabledReason ?? null, disabled_at: ep.disabledAt ?? null,
      queued: counts.queued, dead_letters: counts.dead_letters, consecutive_failures: counts.failures,
      ...(withSecret && { secret: ep.secret }),
      ...(ep.previousUntil !== undefined && ep.previousUntil > now() && { previous_secret_expires_at: new Date(ep.previousUntil).toISOString() }),
      created_at: ep.createdAt, updated_at: ep.updatedAt,
    };
  };

  app.get('/', async (c) => {
    const tenant = c.get('tenant');
    return c.json({ webhooks: await Promise.all((await store.list(tenant)).map((ep) => view(tenant, ep))) });
  });

  app.put('/:name', async (c) => {
    const tenant = c.get('tenant');
    const n = name(c);
    const input = await readJson(c, EndpointInput);
    try {
      await checkTarget(input.url, deps.config.allowPrivate);
    } catch (err) {
      if (err instanceof UrlRefused) throw new ApiError('validation_failed', `url: ${err.message}`, 'url');
      throw err;
    }
    const { endpoint, created } = await store.put(tenant, n, input);
    return c.json(await view(tenant, endpoint, created), created ? 201 : 200);
  });

  app.get('/:name', async (c) => {
    const tenant = c.get('tenant');
    return c.json(await view(tenant, await found(tenant, name(c))));
  });

  app.delete('/:name', async (c) => {
    if (!(await store.delete(c.get('tenant'), name(c)))) throw new ApiError('not_found', 'no such webhook');
    return c.body(null, 204);
  });

  app.post('/:name/rotate-secret', async (c) => {
    const tenant = c.get('tenant');
    const n = name(c);
    await found(tenant, n);
    return c.json(await view(tenant, (await store.rotate(tenant, n, deps.config.previousSecretMs))!, true));
  });

  // Sent at once, whatever the endpoint subscribes to and even while it is disabled; recorded among its attempts.
  app.post('/:name/test', async (c) => {
    const tenant = c.get('tenant');
    const ep = await found(tenant, name(c));
    const at = now();
    const payload: WebhookPayload = {
      type: TEST_EVENT_TYPE, timestamp: new Date(at).toISOString(),
      data: { notification_id: 'test', delivery_key: null, user_id: null, channel: null, provider: null, status: 'test' },
    };
    const webhookId = `test_${randomUUID()}`;
    const res = await send(ep, webhookId, JSON.stringify(payload), deps.config, at);
    const attempt = {
      at: new Date(at).toISOString(), webhook_id: webhookId, type: TEST_EVENT_TYPE, attempt: 1, status_code: res.status ?? null,
      duration_ms: res.durationMs, ...(res.error !== undefined && { error: res.error }), outcome: 'test' as const,
    };
    const key = webhookKeys(deps.prefix).attempts(tenant, ep.name);
    await deps.redis.multi().lpush(key, JSON.stringify(attempt)).ltrim(key, 0, deps.config.attemptsKept - 1).exec();
    return c.json({ ok: res.error === undefined, ...attempt });
  });

  app.get('/:name/attempts', async (c) => {
    const tenant = c.get('tenant');
    const n = name(c);
    await found(tenant, n);
    return c.json({ attempts: await store.attempts(tenant, n, onlyLimit(c, 50, deps.config.attemptsKept)) });
  });

  app.get('/:name/dead-letters', async (c) => {
    const tenant = c.get('tenant');
    const n = name(c);
    await found(tenant, n);
    return c.json({ dead_letters: await store.deadLetters(tenant, n, onlyLimit(c, 50, 500)) });
  });

  app.post('/:name/dead-letters/redrive', async (c) => {
    const tenant = c.get('tenant');
    const n = name(c);
    await found(tenant, n);
    const { ids, limit } = await readJson(c, Redrive);
    return c.json({ redriven: await store.redrive(tenant, n, ids, limit) });
  });

  return app;
}
