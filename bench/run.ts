// npm run bench -- [--scenario a,b] [--quick] [options]   (see bench/README.md, or --help)
// Starts its own redis-server and fake providers, runs the scenarios with their baselines side by side, prints a
// summary table and writes JSON, markdown and an SVG chart to bench/results/<timestamp>/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import type { Channel, Platform } from '../src/domain/types.js';
import type { Ctx, Measurement, Options } from './lib/context.js';
import { renderChart } from './lib/chart.js';
import { startFakesProcess, type FakesProcess } from './lib/fakes.js';
import { buildCompiled } from './lib/build.js';
import { killAllNow, ROOT, stopAll, useCompiled } from './lib/proc.js';
import { serverTarget, startRedisServer, type RedisServer } from './lib/redis-server.js';
import { NODE_FLAGS } from './lib/service.js';
import { markdownReport, targets, textSummary, type RunMeta } from './lib/report.js';
import { cpuPerUnit, cpuSummary, Sampler } from './lib/sampler.js';
import { rateLimitSpec, seed, type Workload } from './lib/workload.js';
import { backlog } from './scenarios/backlog.js';
import { endToEnd } from './scenarios/end-to-end.js';
import { ingestBatch, ingestHttp, ingestXadd } from './scenarios/ingest.js';
import { fairness } from './scenarios/fairness.js';
import { history } from './scenarios/history.js';
import { webhooks } from './scenarios/webhooks.js';
import { cluster } from './scenarios/cluster.js';

const SCENARIOS: Record<string, (ctx: Ctx) => Promise<void>> = {
  'ingest-http': ingestHttp,
  'ingest-batch': ingestBatch,
  'ingest-xadd': ingestXadd,
  'end-to-end': endToEnd,
  backlog,
  fairness,
  history,
  webhooks,
  cluster,
};
/** Run only when named: they need PostgreSQL (history), measure an optional part (webhooks) or start a Redis Cluster (cluster). */
const OPT_IN = new Set(['history', 'webhooks', 'cluster']);

const HELP = `npm run bench -- [options]
  --scenario a,b          ${Object.keys(SCENARIOS).join(', ')} (default: all but ${[...OPT_IN].join(', ')})
  --database-url URL      PostgreSQL of the history scenario (DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
  --quick                 short run for CI (< 3 min): fewer users, short phases, small backlog
  --duration S            seconds per measured phase (20; quick 4)
  --warmup S              warm-up seconds before each phase (3; quick 2)
  --rates 10,50,90        end-to-end offered rates, % of the measured maximum
  --rate-duration S       seconds per offered rate (15; quick 3)
  --users N               users seeded (10000; quick 2000)
  --channels push         channel mix per notification: push,sms,email
  --platform ios          push platform: ios (APNs), android (FCM), mix
  --payload-bytes N       extra text rendered into every message (0)
  --checks on|off         per-user checks: unique event_id per notification + a per-user cap that never bites (on)
  --variants / --no-variants   end-to-end maximum also with checks off, tracing 1 % and tracing 100 % (on; quick off)
  --connections N         ingest-http connections (100)
  --batch-size N          ingest-batch notifications per request (500)
  --batch-connections N   ingest-batch connections (4)
  --xadd-producers N      XADD producer connections (2)
  --xadd-pipeline N       XADDs per pipeline (500)
  --burst N               fairness: recipients in the first tenant's burst (10000)
  --fairness-rate N       fairness: the second tenant's notifications/s (200)
  --window N              end-to-end max: most notifications in flight (20000; quick 5000)
  --workers N             service worker processes (+1 ingress); 0 = one process, role all (0)
  --backlog N             backlog size (1000000; quick 20000)
  --backlog-timeout S     give up draining after S seconds (1800; quick 30)
  --fake-latency MS       fake providers answer after MS (0)
  --fake-error-rate R     fraction of sends the fakes fail with a 500 (0)
  --no-baselines          measure only the service
  --bullmq-ingest-concurrency N / --bullmq-send-concurrency N   (100 / 100)
  --service-env K=V,...   extra NOTIFY_* settings for the service processes
  --node-flags="F ..."    node flags of the service and the Node baselines alike (default: npm start's, ${NODE_FLAGS.join(' ')})
  --cpu-prof              write V8 CPU profiles of the service workers (end-to-end) to the results folder
  --sample-ms MS          sampling interval (1000; quick 500)
  --out DIR               results folder (bench/results/<timestamp>)`;

function parseOptions(argv: string[]): Options {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' }, quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
      duration: { type: 'string' }, warmup: { type: 'string' }, rates: { type: 'string' }, 'rate-duration': { type: 'string' },
      users: { type: 'string' }, channels: { type: 'string' }, platform: { type: 'string' }, 'payload-bytes': { type: 'string' },
      checks: { type: 'string' }, variants: { type: 'boolean' }, 'no-variants': { type: 'boolean' },
      connections: { type: 'string' }, 'batch-size': { type: 'string' }, 'batch-connections': { type: 'string' },
      'xadd-producers': { type: 'string' }, 'xadd-pipeline': { type: 'string' }, window: { type: 'string' }, burst: { type: 'string' }, 'fairness-rate': { type: 'string' },
      workers: { type: 'string' }, backlog: { type: 'string' }, 'backlog-timeout': { type: 'string' },
      'fake-latency': { type: 'string' }, 'fake-error-rate': { type: 'string' }, 'no-baselines': { type: 'boolean', default: false },
      'bullmq-ingest-concurrency': { type: 'string' }, 'bullmq-send-concurrency': { type: 'string' },
      'service-env': { type: 'string' }, 'database-url': { type: 'string' }, 'node-flags': { type: 'string' }, 'cpu-prof': { type: 'boolean', default: false }, 'sample-ms': { type: 'string' }, out: { type: 'string' },
    },
  });
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const q = v.quick!;
  const int = (name: string, raw: string | undefined, def: number, min = 0): number => {
    const n = raw === undefined ? def : Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min} (got ${raw})`);
    return n;
  };
  const scenarios = v.scenario ? v.scenario.split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(SCENARIOS).filter((s) => !OPT_IN.has(s));
  for (const s of scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario "${s}"; choose from ${Object.keys(SCENARIOS).join(', ')}`);
  const channels = (v.channels ?? 'push').split(',').map((c) => c.trim()) as Channel[];
  for (const c of channels) if (!['push', 'sms', 'email'].includes(c)) throw new Error(`--channels: unknown channel "${c}"`);
  const platform = (v.platform ?? 'ios') as Platform | 'mix';
  if (!['ios', 'android', 'mix'].includes(platform)) throw new Error('--platform must be ios, android or mix');
  const checks = v.checks ?? 'on';
  if (!['on', 'off'].includes(checks)) throw new Error('--checks must be on or off');
  const serviceEnv: Record<string, string> = {};
  for (const kv of (v['service-env'] ?? '').split(',').filter(Boolean)) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`--service-env: expected K=V, got "${kv}"`);
    serviceEnv[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const stampDir = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return {
    scenarios, quick: q,
    duration: int('duration', v.duration, q ? 4 : 20, 1),
    warmup: int('warmup', v.warmup, q ? 2 : 3),
    rates: (v.rates ?? '10,50,90').split(',').map(Number).filter((r) => r > 0 && r <= 100),
    rateDuration: int('rate-duration', v['rate-duration'], q ? 3 : 15, 1),
    users: int('users', v.users, q ? 2000 : 10_000, 1),
    channels, platform,
    payloadBytes: int('payload-bytes', v['payload-bytes'], 0),
    checks: checks === 'on',
    variants: v['no-variants'] ? false : (v.variants ?? !q),
    connections: int('connections', v.connections, 100, 1),
    batchSize: int('batch-size', v['batch-size'], 500, 1),
    batchConnections: int('batch-connections', v['batch-connections'], 4, 1),
    xaddProducers: int('xadd-producers', v['xadd-producers'], 2, 1),
    xaddPipeline: int('xadd-pipeline', v['xadd-pipeline'], 500, 1),
    window: int('window', v.window, q ? 5_000 : 20_000, 100),
    burst: int('burst', v.burst, 10_000, 1),
    fairnessRate: int('fairness-rate', v['fairness-rate'], 200, 1),
    workers: int('workers', v.workers, 0),
    backlog: int('backlog', v.backlog, q ? 20_000 : 1_000_000, 1),
    backlogTimeout: int('backlog-timeout', v['backlog-timeout'], q ? 30 : 1800, 1),
    fakeLatencyMs: int('fake-latency', v['fake-latency'], 0),
    fakeErrorRate: int('fake-error-rate', v['fake-error-rate'], 0),
    baselines: !v['no-baselines'],
    bullIngestConcurrency: int('bullmq-ingest-concurrency', v['bullmq-ingest-concurrency'], 100, 1),
    bullSendConcurrency: int('bullmq-send-concurrency', v['bullmq-send-concurrency'], 100, 1),
    serviceEnv, cpuProf: v['cpu-prof']!,
    databaseUrl: v['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    nodeFlags: v['node-flags'] !== undefined ? v['node-flags'].split(' ').filter(Boolean) : [...NODE_FLAGS],
    sampleMs: int('sample-ms', v['sample-ms'], q ? 500 : 1000, 100),
    out: v.out ?? join(ROOT, 'bench', 'results', stampDir),
  };
}

/** Machine CPU used over one second (% of one core), and the load average: is anything else running? */
async function machineLoad(): Promise<{ otherCpu: number; loadavg: string }> {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  try {
    const a = read();
    await new Promise((r) => setTimeout(r, 1000));
    const b = read();
    const total = b.slice(0, 8).reduce((x, y) => x + y, 0) - a.slice(0, 8).reduce((x, y) => x + y, 0);
    const idle = b[3]! + b[4]! - a[3]! - a[4]!;
    return { otherCpu: Math.round(((total - idle) / total) * cpus().length * 100), loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
  } catch {
    return { otherCpu: 0, loadavg: 'unknown' };
  }
}

function tryExec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = new Date();
  const t0 = performance.now();
  mkdirSync(o.out, { recursive: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`bench: scenarios ${o.scenarios.join(', ')}${o.quick ? ' (quick)' : ''}; results in ${relative(process.cwd(), o.out) || '.'}`);

  let redis: RedisServer | undefined;
  let fakes: FakesProcess | undefined;
  let sampler: Sampler | undefined;
  const results: Measurement[] = [];
  const cleanup = async () => {
    sampler?.stop();
    await stopAll();
    await fakes?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
  };
  let interrupted = false;
  const onSignal = (sig: string) => {
    if (interrupted) {
      killAllNow();
      process.exit(130);
    }
    interrupted = true;
    log(`\nbench: ${sig}: stopping every process it started…`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('exit', killAllNow);

  try {
    const quiet = await machineLoad();
    if (quiet.otherCpu > 30) {
      log(`bench: WARNING: other processes are using ${quiet.otherCpu} % CPU (load average ${quiet.loadavg}); ` +
        'everything here shares 2 cores, so the numbers will be low and noisy. Re-run on a quiet machine.');
    }
    log('bench: compiling the service and the baselines (tsc, as `npm start` runs them)…');
    useCompiled(buildCompiled(ROOT));
    redis = await startRedisServer();
    fakes = await startFakesProcess();
    const workload: Workload = { users: o.users, channels: o.channels, platform: o.platform, payloadBytes: o.payloadBytes, checks: o.checks };
    if (o.checks) o.serviceEnv = { NOTIFY_RATE_LIMITS: rateLimitSpec(workload), ...o.serviceEnv };
    sampler = new Sampler(o.sampleMs, { bench: process.pid, 'redis-server': redis.pid, fakes: fakes.proc.pid }, () => redis!.usedMemory());
    sampler.start();
    const r = redis;
    const f = fakes;
    const single = serverTarget(r);
    const ctx: Ctx = {
      o, workload, redis: r, target: single, fakes: f, sampler, results, outDir: o.out, log,
      async fresh(t = single) {
        await t.flush();
        await f.clear();
        await f.resetLatency();
        await f.resetBehavior();
        if (o.fakeLatencyMs > 0 || o.fakeErrorRate > 0) {
          for (const p of ['apns', 'fcm', 'twilio', 'ses', 'sns'] as const) {
            await f.behavior(p, { ...(o.fakeLatencyMs > 0 && { latencyMs: o.fakeLatencyMs }), ...(o.fakeErrorRate > 0 && { errorRate: o.fakeErrorRate }) });
          }
        }
        await seed(t.client, workload, t.keys, t === single);
      },
    };
    for (const name of o.scenarios) {
      log(`bench: ${name}`);
      await SCENARIOS[name]!(ctx);
    }
    sampler.stop();
    for (const m of results) {
      if (!m.phase) continue;
      const cpu = cpuSummary(sampler.of(m.phase));
      if (!Object.keys(cpu).length) continue;
      m.extra = { ...m.extra, cpuPct: Object.entries(cpu).map(([k, v]) => `${k} ${v}`).join(' / ') };
      // CPU per unit of work: less sensitive to other load on the machine than the rate itself.
      const us = cpuPerUnit(cpu, m.value);
      if (us) m.cpuUs = us;
    }

    const ts = targets(results, o);
    const meta: RunMeta = {
      startedAt: started.toISOString(), wallS: (performance.now() - t0) / 1000, node: process.version,
      redis: (/redis_version:(\S+)/.exec(await r.client.info('server'))?.[1]) ?? 'unknown',
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGB: Math.round(totalmem() / 2 ** 30),
      commit: tryExec('git', ['rev-parse', '--short', 'HEAD']) + (tryExec('git', ['status', '--porcelain']) ? ' (with local changes)' : ''),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), nodeFlags: o.nodeFlags.join(' ') || '(none)',
      otherCpuAtStart: quiet.otherCpu, loadavgAtStart: quiet.loadavg,
      otherCpuDuringRun: Math.round(sampler.samples.reduce((a, s) => a + s.otherCpu, 0) / Math.max(1, sampler.samples.length)),
    };
    const summary = textSummary(results, ts);
    process.stdout.write(`\n${summary}\n`);
    if (meta.otherCpuDuringRun > 20) {
      process.stdout.write(`\nNOTE: other processes used ${meta.otherCpuDuringRun} % CPU on average during this run (2 cores = 200 %): figures are low and noisy.\n`);
    }
    const { out: _out, ...options } = o;
    writeFileSync(join(o.out, 'results.json'), `${JSON.stringify({ meta, options, results, targets: ts, samples: sampler.samples }, null, 1)}\n`);
    writeFileSync(join(o.out, 'report.md'), markdownReport(meta, o, results, ts));
    writeFileSync(join(o.out, 'chart.svg'), renderChart(sampler.samples, results, `notify-streams bench, ${meta.startedAt.slice(0, 16)}`));
    await cleanup();
    log(`bench: done in ${((performance.now() - t0) / 1000).toFixed(0)} s; wrote ${relative(process.cwd(), o.out)}/{results.json,report.md,chart.svg}`);
  } catch (err) {
    log(`bench: failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await cleanup();
    process.exitCode = 1;
  }
}

await main();
// Every child is stopped by now; don't let a stray handle (a reconnecting client) keep the bench alive.
process.exit(process.exitCode ?? 0);
