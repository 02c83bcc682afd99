// Operational endpoints every process serves: liveness, readiness, Prometheus metrics.
import { Hono } from 'hono';
import type { Metrics } from '../telemetry/metrics.js';

export interface OpsDeps {
  metrics: Metrics;
  /** Readiness checks; each names what it checked. */
  ready: () => Promise<Record<string, boolean>>;
}

export function opsRoutes(deps: OpsDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await deps.ready().catch(() => ({ redis: false }));
    const ok = Object.values(checks).every(Boolean);
    return c.json({ status: ok ? 'ready' : 'not_ready', checks }, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => c.text(await deps.metrics.text(), 200, { 'content-type': deps.metrics.registry.contentType }));
  return app;
}
