// Operational endpoints every process serves: liveness, readiness, Prometheus metrics.
import { Hono } from 'hono';
import { withDeadline } from '../domain/deadline.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface OpsDeps {
  metrics: Metrics;
  /** Readiness checks; each names what it checked. */
  ready: () => Promise<Record<string, boolean>>;
  /** How long readiness may take before it answers not ready (a stalled Redis must not stall the probe); default 1 s. */
  readyTimeoutMs?: number;
}

export function opsRoutes(deps: OpsDeps): Hono {
  const app = new Hono();
  const timeoutMs = deps.readyTimeoutMs ?? 1_000;
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await withDeadline(deps.ready(), timeoutMs, 'readiness').catch(() => ({ redis: false }));
    const ok = Object.values(checks).every(Boolean);
    return c.json({ status: ok ? 'ready' : 'not_ready', checks }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await deps.metrics.text(), 200, { 'content-type': deps.metrics.registry.contentType }));
  return app;
}
