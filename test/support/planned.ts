// Which worker process planned what: each worker's own `notify_deliveries_total` (its /metrics), read before and
// after a step, shows how many deliveries that process planned — so a test can show two workers both took part.
import type { ServiceProcess } from './process.js';

/** The port a worker process serves /metrics on (from its start-up log). */
export async function metricsPort(w: ServiceProcess): Promise<number> {
  const line = await w.waitForLog((l) => l.msg === 'health and metrics listening');
  return line.port as number;
}

/** Sum of this process's `notify_deliveries_total` for a channel and the given statuses. */
export async function deliveriesCounted(port: number, channel: string, statuses: readonly string[]): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^notify_deliveries_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (labels.channel === channel && statuses.includes(labels.status!)) sum += Number(m[2]);
  }
  return sum;
}

/** Per worker, how many deliveries of `channel` it planned with one of `statuses` while `step` ran. */
export async function plannedBy(ports: readonly number[], channel: string, statuses: readonly string[], step: () => Promise<void>): Promise<number[]> {
  const before = await Promise.all(ports.map((p) => deliveriesCounted(p, channel, statuses)));
  await step();
  const after = await Promise.all(ports.map((p) => deliveriesCounted(p, channel, statuses)));
  return after.map((n, i) => n - before[i]!);
}
