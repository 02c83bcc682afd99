// The service under test as separate processes: one `--role all`, or one ingress plus N `--role worker`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnNode, type Proc } from './proc.js';

export const BENCH_TENANT = 'bench';
/**
 * The node flags `npm start` runs the service with (package.json); the Node baselines get them too, so the comparison
 * stays fair. `--node-flags` replaces them for a run (Options.nodeFlags).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
export const BENCH_KEY = 'bench-key-0123456789abcdef';

export interface ServiceOptions {
  redisUrl: string;
  /** REDIS_CLUSTER_NODES: run against a Redis Cluster (then `redisUrl` is not used). */
  redisClusterNodes?: string;
  fakesUrl: string;
  /** 0: one process in role `all`; N: one ingress + N workers. */
  workers: number;
  /** Start only the ingress (ingest scenarios measure accepting alone). */
  ingressOnly?: boolean;
  /** Start only workers (no HTTP). */
  workersOnly?: boolean;
  /** Extra NOTIFY_* settings. */
  env?: Record<string, string>;
  /** Write V8 CPU profiles of the service processes here (one folder per process). */
  cpuProfDir?: string;
  logLevel?: string;
  /** Node flags of the service processes (default: NODE_FLAGS). */
  nodeFlags?: readonly string[];
}

export interface RunningService {
  /** http://127.0.0.1:<port> of the ingress, when one runs. */
  url?: string;
  procs: Proc[];
  /** Processes that run workers (for profiling and RSS). */
  workerProcs: Proc[];
  stop(): Promise<void>;
}

export async function startService(o: ServiceOptions): Promise<RunningService> {
  const env = {
    REDIS_URL: o.redisUrl,
    ...(o.redisClusterNodes && { REDIS_CLUSTER_NODES: o.redisClusterNodes }),
    NOTIFY_SANDBOX: 'on',
    NOTIFY_SANDBOX_URL: o.fakesUrl,
    NOTIFY_API_KEYS: `${BENCH_TENANT}:${BENCH_KEY}`,
    // info: the start-up lines the bench waits for are at info; nothing is logged per message at info.
    NOTIFY_LOG_LEVEL: o.logLevel ?? 'info',
    NOTIFY_HTTP_PORT: '0',
    NOTIFY_SHUTDOWN_TIMEOUT_MS: '5000',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The ingest scenarios measure the ceiling: a tenant limit that is checked on every request but never reached.
    NOTIFY_TENANT_RATE: '1000000000', NOTIFY_TENANT_BURST: '1000000000',
    // The numbers stay comparable with earlier runs: the notification log (PostgreSQL) is measured apart, not yet here.
    NOTIFY_HISTORY: 'off',
    NOTIFY_WEBHOOKS: 'off',
    NOTIFY_ALERTS: 'off',
    ...o.env,
  };
  const prof = (role: string, i: number): string[] => {
    if (!o.cpuProfDir) return [];
    const dir = join(o.cpuProfDir, `${role}-${i}`);
    mkdirSync(dir, { recursive: true });
    return ['--cpu-prof', '--cpu-prof-dir', dir];
  };
  const roles: string[] = o.ingressOnly ? ['ingress']
    : o.workersOnly ? Array.from({ length: Math.max(1, o.workers) }, () => 'worker')
    : o.workers > 0 ? ['ingress', ...Array.from({ length: o.workers }, () => 'worker')]
    : ['all'];
  const procs = roles.map((role, i) =>
    spawnNode(`service-${role}${role === 'worker' ? `-${i}` : ''}`, 'src/main.ts', ['--role', role], { env, nodeFlags: [...(o.nodeFlags ?? NODE_FLAGS), ...prof(role, i)] }));
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
  };
  try {
    let url: string | undefined;
    await Promise.all(procs.map(async (p, i) => {
      const role = roles[i]!;
      if (role !== 'worker') {
        const line = await p.waitFor((l) => l.msg === 'HTTP ingress listening', 60_000);
        url = `http://127.0.0.1:${String(line.port)}`;
      }
      await p.waitFor((l) => l.msg === 'notify started', 60_000);
    }));
    return { url, procs, workerProcs: procs.filter((_, i) => roles[i] !== 'ingress'), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
