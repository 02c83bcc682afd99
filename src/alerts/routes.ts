// /v1/alerts: a tenant's alert destinations and rules (GET, PUT replaces them), with each rule's current state.
import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import type { AuthEnv } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import { checkTarget, UrlRefused } from '../webhooks/ssrf.js';
import type { AlertConfig } from './config.js';
import { alertKeys } from './keys.js';
import { parseSettings, type Settings } from './rules.js';
import { AlertStore } from './store.js';
import { windowStart } from './window.js';

export interface AlertRouteDeps {
  redis: Redis;
  prefix: string;
  config: AlertConfig;
  now?: () => number;
}

export function alertRoutes(deps: AlertRouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const now = deps.now ?? Date.now;
  const store = new AlertStore(deps.redis, alertKeys(deps.prefix));

  const view = async (tenant: string, s: Settings) => ({
    destinations: s.destinations.map(({ name, type, url }) => ({ name, type, url })),
    rules: s.rules,
    state: await Promise.all(s.rules.map(async (r) => {
      const st = await store.state(tenant, r.name);
      const current = await store.counts(tenant, r.name, windowStart(now(), r.window_ms));
      const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
      return {
        rule: r.name, state: st.firing ? 'firing' : 'clear', last_message: st.lastState ?? null, last_sent_at: iso(st.lastSentAt),
        last_window_end: iso(st.lastWindowEnd), last_window_count: st.lastCount ?? null, current_window_count: current.matched,
      };
    })),
  });

  app.get('/', async (c) => {
    const tenant = c.get('tenant');
    return c.json(await view(tenant, (await store.settings(tenant)) ?? { destinations: [], rules: [] }));
  });

  app.put('/', async (c) => {
    const tenant = c.get('tenant');
    const type = c.req.header('content-type')?.toLowerCase();
    if (type !== undefined && !type.startsWith('application/json')) throw new ApiError('unsupported_media_type');
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError('invalid_json');
    }
    const parsed = parseSettings(body, 'tenant');
    if ('problem' in parsed) throw new ApiError('validation_failed', `${parsed.problem.field}: ${parsed.problem.message}`, parsed.problem.field);
    for (const [i, d] of parsed.settings.destinations.entries()) {
      try {
        await checkTarget(d.url, deps.config.allowPrivate);
      } catch (err) {
        if (err instanceof UrlRefused) throw new ApiError('validation_failed', `destinations.${i}.url: ${err.message.replace('NOTIFY_WEBHOOK_ALLOW_PRIVATE', 'NOTIFY_ALERT_ALLOW_PRIVATE')}`, `destinations.${i}.url`);
        throw err;
      }
    }
    // Whatever a tenant sends, its destinations are never the service's own trusted ones.
    const settings: Settings = { ...parsed.settings, destinations: parsed.settings.destinations.map(({ name, type: t, url }) => ({ name, type: t, url })) };
    await store.put(tenant, settings);
    return c.json(await view(tenant, settings));
  });

  return app;
}
