// Turns measurements into the summary table, the targets (ratios against the issue's goals), and the markdown report.
import type { Measurement, Options } from './context.js';
import { find } from './context.js';
import { formatTargetValue, markdownTable, maxTarget, num, ratioTarget, textTable, verdict, type Target } from './stats.js';

export const SUMMARY_HEADER = ['scenario', 'system', 'what', 'throughput', 'unit', 'p50 ms', 'p99 ms', 'max ms', 'CPU µs/unit', '+Redis µs'];

export function summaryRows(results: readonly Measurement[]): string[][] {
  return results.map((m) => [
    m.scenario, m.system, m.what, num(m.value), m.unit,
    m.latency ? num(m.latency.p50, 1) : '', m.latency ? num(m.latency.p99, 1) : '', m.latency ? num(m.latency.max, 1) : '',
    m.cpuUs ? num(m.cpuUs.system) : '', m.cpuUs ? num(m.cpuUs.redis) : '',
  ]);
}

/** The issue's targets, from whatever this run measured (n/a where a side was not run). */
export function targets(results: readonly Measurement[], o: Pick<Options, 'channels'>): Target[] {
  const v = (key: string) => find(results, key)?.value;
  const k = (n: number) => `${num(n)}/s`;
  const e2e = o.channels.length === 1 && o.channels[0] === 'push' ? 'e2e push' : `e2e ${o.channels.join('+')}`;
  const out: Target[] = [
    ratioTarget(`${e2e}: ours ÷ BullMQ`, v('end-to-end.ours.max'), v('end-to-end.bullmq.max'), 3, (a, b) => `${k(a)} vs ${k(b)}`),
    ratioTarget(`${e2e}: ours ÷ bare minimum`, v('end-to-end.ours.max'), v('end-to-end.bare-minimum.max'), 0.7, (a, b) => `${k(a)} vs ${k(b)}`, true),
    { ...ratioTarget(`${e2e}: ours ÷ bare ceiling`, v('end-to-end.ours.max'), v('end-to-end.bare-ceiling.max'), 0, (a, b) => `${k(a)} vs ${k(b)}`, true), goal: '(context)', met: undefined },
    ratioTarget('batch ingest: ours ÷ bare pipelined XADD', v('ingest-batch.ours'), v('ingest-batch.xadd-contract'), 0.5, (a, b) => `${k(a)} vs ${k(b)}`, true),
    ratioTarget('single HTTP ingest: ours ÷ empty Hono', v('ingest-http.ours'), v('ingest-http.empty-hono'), 0.8, (a, b) => `${k(a)} vs ${k(b)}`, true),
  ];
  const cpuOf = (key: string) => { const c = find(results, key)?.cpuUs; return c ? c.system + c.redis : undefined; };
  const eff = ratioTarget(`${e2e}: CPU per delivery, BullMQ ÷ ours (service + Redis)`, cpuOf('end-to-end.bullmq.max'), cpuOf('end-to-end.ours.max'), 0, (a, b) => `${num(a)} µs vs ${num(b)} µs`);
  out.push({ ...eff, goal: '(context)', met: undefined, show: '×' });
  const effMin = ratioTarget(`${e2e}: CPU per delivery, bare minimum ÷ ours`, cpuOf('end-to-end.bare-minimum.max'), cpuOf('end-to-end.ours.max'), 0, (a, b) => `${num(a)} µs vs ${num(b)} µs`, true);
  out.push({ ...effMin, goal: '(context)', met: undefined });
  // What the per-user checks and tracing cost (variants): the service's maximum with them ÷ without.
  const context = (name: string, a?: number, b?: number) => ({ ...ratioTarget(name, a, b, 0, (x, y) => `${k(x)} vs ${k(y)}`, true), goal: '(context)', met: undefined });
  if (v('end-to-end.ours-checks-off.max') !== undefined) out.push(context(`${e2e}: checks on ÷ checks off`, v('end-to-end.ours.max'), v('end-to-end.ours-checks-off.max')));
  for (const [key, label] of [['ours-trace-1pct', '1 %'], ['ours-trace-100pct', '100 %']] as const) {
    if (v(`end-to-end.${key}.max`) !== undefined) out.push(context(`${e2e}: tracing ${label} ÷ tracing off`, v(`end-to-end.${key}.max`), v('end-to-end.ours.max')));
  }
  const at50 = find(results, 'end-to-end.ours.50');
  const p99 = maxTarget('p99 accept→provider at 50 % of max', at50?.latency?.p99, 20, 'ms');
  if (at50) p99.detail = `at ${num(at50.value)} deliv/s`;
  out.push(p99);
  const drain = find(results, 'backlog.ours.drain');
  const lv = drain?.extra?.rssLevelsOff;
  out.push({
    name: 'memory levels off while draining the backlog', value: typeof lv === 'boolean' ? lv : undefined, goal: 'yes',
    met: typeof lv === 'boolean' ? lv : undefined,
    detail: drain ? `worker RSS peak ${num(Number(drain.extra?.peakRssMB))} MB, end ${num(Number(drain.extra?.endRssMB))} MB; Redis ${num(Number(drain.extra?.redisPeakMB))} MB peak` : undefined,
  });
  out.push(soakTarget(results));
  out.push(...logTargets(results));
  return out;
}

/** "No growth over a 10-minute run": the service's RSS over its longest fixed-rate phase, judged only if that ran 10 minutes. */
const SOAK_S = 600;
function soakTarget(results: readonly Measurement[]): Target {
  const name = `no memory growth at a fixed rate over ${SOAK_S / 60} minutes`;
  const phases = results.filter((m) => m.scenario === 'end-to-end' && m.system === 'ours' && typeof m.extra?.phaseS === 'number');
  const longest = phases.sort((a, b) => Number(b.extra!.phaseS) - Number(a.extra!.phaseS))[0];
  if (!longest) return { name, value: undefined, goal: 'yes', met: undefined };
  const x = longest.extra!;
  const lv = typeof x.rssLevelsOff === 'boolean' && Number(x.phaseS) >= SOAK_S ? x.rssLevelsOff : undefined;
  const mb = (v: unknown) => num(Number(v));
  const detail = `${longest.key}, ${mb(x.phaseS)} s: service RSS ${mb(x.rssStartMB)} → ${mb(x.endRssMB)} MB (peak ${mb(x.peakRssMB)}); Redis ${mb(x.redisStartMB)} → ${mb(x.redisEndMB)} MB`;
  return { name, value: lv, goal: 'yes', met: lv, detail: lv === undefined ? `${detail}; judged from a ${SOAK_S} s phase (--rates 50 --rate-duration ${SOAK_S})` : detail };
}

export const TARGET_HEADER = ['target', 'measured', 'goal', 'verdict', 'from'];
export const targetRows = (ts: readonly Target[]): string[][] =>
  ts.map((t) => [t.name, formatTargetValue(t), t.goal, verdict(t.met), t.detail ?? '']);

export function textSummary(results: readonly Measurement[], ts: readonly Target[]): string {
  return `${textTable(SUMMARY_HEADER, summaryRows(results))}\n\n${textTable(TARGET_HEADER, targetRows(ts))}`;
}

export interface RunMeta {
  startedAt: string;
  wallS: number;
  node: string;
  redis: string;
  cpu: string;
  cores: number;
  memGB: number;
  commit: string;
  command: string;
  /** Node flags of the service and the Node baselines. */
  nodeFlags: string;
  /** CPU used by other processes (% of one core) just before the run, the load average then, and on average during it. */
  otherCpuAtStart: number;
  loadavgAtStart: string;
  otherCpuDuringRun: number;
}

export function markdownReport(meta: RunMeta, o: Options, results: readonly Measurement[], ts: readonly Target[]): string {
  const extras = results.filter((m) => m.extra && Object.keys(m.extra).length);
  return [
    `# Bench run ${meta.startedAt}`,
    '',
    `\`${meta.command}\` — ${meta.wallS.toFixed(0)} s wall clock. Machine: ${meta.cores} cores (${meta.cpu}), ${meta.memGB} GB; ` +
      `Node ${meta.node} (flags of the service and the Node baselines: \`${meta.nodeFlags}\`), Redis ${meta.redis}; commit ${meta.commit}. Redis, the service, the baselines, the fake providers and the ` +
      'load generator all share this machine. ' +
      `Other processes used ${meta.otherCpuAtStart} % CPU at the start (load average ${meta.loadavgAtStart}) and ${meta.otherCpuDuringRun} % on average during the run` +
      `${meta.otherCpuDuringRun > 20 ? ' — **the machine was not quiet: figures are low and noisy**' : ''}.`,
    '',
    `Workload: ${o.users.toLocaleString('en-US')} users, channels ${o.channels.join('+')}, platform ${o.platform}, ` +
      `payload +${o.payloadBytes} B, per-user checks ${o.checks ? 'on' : 'off'}, fake latency ${o.fakeLatencyMs} ms, fake error rate ${o.fakeErrorRate}; ` +
      `${o.duration} s per measured phase after ${o.warmup} s warm-up; service ${o.workers > 0 ? `${o.workers} worker processes + 1 ingress` : 'one process (role all)'}.`,
    '',
    '## Targets',
    '',
    markdownTable(TARGET_HEADER, targetRows(ts)),
    '',
    '## Measurements',
    '',
    markdownTable(SUMMARY_HEADER, summaryRows(results)),
    '',
    '![throughput, memory and latency](chart.svg)',
    '',
    '## Details',
    '',
    ...extras.map((m) => `- **${m.key}**: ${Object.entries(m.extra!).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${typeof v === 'number' ? num(v, 1) : String(v)}`).join(', ')}`),
    '',
  ].join('\n');
}

/** The notification log's and the webhooks' goals, when the `history` / `webhooks` scenarios ran. */
function logTargets(results: readonly Measurement[]): Target[] {
  const m = (key: string) => find(results, key);
  const k = (n: number) => `${num(n)}/s`;
  const out: Target[] = [];
  const hist = m('history.on-off');
  if (hist) out.push(ratioTarget('e2e: history on ÷ off', Number(hist.extra?.onPerS), Number(hist.extra?.offPerS), 0.9, (a, b) => `${k(a)} vs ${k(b)}`, true));
  const arch = m('history.archiver.max');
  if (arch) out.push(ratioTarget('archiver: events archived ÷ appended at the e2e maximum', arch.value, Number(arch.extra?.appendedPerS), 0.95, (a, b) => `${k(a)} vs ${k(b)}`, true));
  const bytes = m('history.redis-bytes');
  if (bytes) out.push(maxTarget('Redis bytes per notification past the hot retention', bytes.value, 100, 'B'));
  const hooks = m('webhooks.on-off');
  if (hooks) out.push(ratioTarget('e2e: webhooks on ÷ off', Number(hooks.extra?.onPerS), Number(hooks.extra?.offPerS), 0.9, (a, b) => `${k(a)} vs ${k(b)}`, true));
  const healthy = m('webhooks.latency.ten-healthy');
  const dead = m('webhooks.latency.one-dead');
  if (healthy && dead) {
    out.push(ratioTarget('webhooks, one dead endpoint of ten: the others\' p99, all healthy ÷ one dead', healthy.value, dead.value, 0.67,
      (a, b) => `${num(a, 1)} ms vs ${num(b, 1)} ms`, true));
  }
  return out;
}
