// Which worker process planned what: each worker's own `notify_deliveries_total` (its /metrics), read before and
// after a step, shows how many deliveries that process planned — so a test can show two workers both took part.
import { parseMetrics } from './metrics.js';
import type { ServiceProcess } from './process.js';

/** The port a worker process serves /metrics on (from its start-up log). */
export async function metricsPort(w: ServiceProcess): Promise<number> {
  const line = await w.waitForLog((l) => l.msg === 'health and metrics listening');
  return line.port as number;
}

/** Sum of this process's `notify_deliveries_total` for a channel and the given statuses. */
export async function deliveriesCounted(port: number, channel: string, statuses: readonly string[]): Promise<number> {
  const sum = parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  return statuses.reduce((a, status) => a + sum('notify_deliveries_total', { channel, status }), 0);
}

/** Per worker, how many deliveries of `channel` it planned with one of `statuses` while `step` ran. */
export async function plannedBy(ports: readonly number[], channel: string, statuses: readonly string[], step: () => Promise<void>): Promise<number[]> {
  const before = await Promise.all(ports.map((p) => deliveriesCounted(p, channel, statuses)));
  await step();
  const after = await Promise.all(ports.map((p) => deliveriesCounted(p, channel, statuses)));
  return after.map((n, i) => n - before[i]!);
}
