// Starts the whole service in this process against real Redis and the fake providers, for integration tests.
import { Writable } from 'node:stream';
import { loadConfig, type Config, type Role } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { sandboxProvidersConfig, snsCertAgent, startFakes, type Fakes, type SandboxOverrides } from '../../src/fakes/index.js';
import { fakeSlack } from '../../src/sandbox.js';
import { startService, type Service } from '../../src/service.js';
import { CLUSTER_SEEDS, dropPrefix, REDIS_URL, testPrefix } from './redis.js';

export const API_KEY = 'test-key-0123456789abcdef';
export const OTHER_TENANT_KEY = 'other-key-0123456789abcdef';

export interface Harness {
  /** Log lines of the in-process service (JSON objects). */
  logs: Record<string, unknown>[];
  /** Starts one more worker in this process with the same settings (plus `env`). */
  startWorker(env?: Record<string, string>): Promise<Service>;
  config: Config;
  fakes: Fakes;
  service: Service;
  url: string;
  /** What every key starts with (on a cluster, the test's prefix as a hash tag). */
  prefix: string;
  /** fetch against the service with the test API key and JSON body. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** Environment for a service process pointed at this harness (same prefix, Redis and keys). */
export function serviceEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    // A harness's prefix on a cluster is the hash tag `{prefix}`; the service adds the braces itself.
    REDIS_URL, ...(CLUSTER_SEEDS && { REDIS_CLUSTER_NODES: CLUSTER_SEEDS }), NOTIFY_PREFIX: prefix.replace(/^\{(.*)\}$/, '$1'), NOTIFY_HTTP_PORT: '0', NOTIFY_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    NOTIFY_API_KEYS: `acme:${API_KEY},other:${OTHER_TENANT_KEY}`, NOTIFY_BLOCK_MS: '100',
    NOTIFY_RETRY_BASE_MS: '50', NOTIFY_RETRY_MAX_DELAY_MS: '500',
    // The history tests turn it on, with a PostgreSQL schema of their own (test/support/history.ts).
    NOTIFY_HISTORY: 'off',
    // Likewise the webhooks tests start their own dispatcher and sender.
    NOTIFY_WEBHOOKS: 'off',
    // And the alerts tests theirs.
    NOTIFY_ALERTS: 'off',
    ...extra,
  };
}

/** `providers`: overrides of the sandbox provider settings (`null` leaves a provider out). */
export async function startHarness(name: string, opts: { role?: Role; env?: Record<string, string>; providers?: SandboxOverrides } = {}): Promise<Harness> {
  const prefix = testPrefix(name);
  const fakes = await startFakes();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const configFor = (env: Record<string, string> = {}) =>
    loadConfig({ ...serviceEnv(prefix), NOTIFY_SANDBOX: 'off', NOTIFY_SNS_REGION: 'us-east-1', NOTIFY_LOG_LEVEL: 'info', ...opts.env, ...env });
  const config = configFor();
  // On a cluster (REDIS_CLUSTER_NODES in `env`) the keys carry the prefix as a hash tag: `{prefix}`.
  const keyPrefix = config.prefix;
  const twilio = opts.providers?.twilio === null ? null : { timeoutMs: 2000, ...opts.providers?.twilio };
  const providers = sandboxProvidersConfig(fakes, { apns: { timeoutMs: 2000 }, ...opts.providers, twilio });
  const log = createLogger(config.logLevel, sink);
  const snsAgent = snsCertAgent(fakes);
  // As src/main.ts does in sandbox mode: the operator's alerts go to the fakes' Slack, listed at /v1/sandbox/alerts.
  const sandboxAlerts = config.sandbox.enabled ? { sandboxAlerts: fakeSlack(fakes.httpUrl) } : {};
  const service = await startService({ config, role: opts.role ?? 'all', log, providers, snsCertAgent: snsAgent, ...sandboxAlerts });
  const workers: Service[] = [];
  const url = `http://127.0.0.1:${service.port}`;
  return {
    config, fakes, service, url, prefix: keyPrefix, logs,
    async startWorker(env) {
      const worker = await startService({ config: configFor(env), role: 'worker', log, providers, snsCertAgent: snsAgent, ...sandboxAlerts });
      workers.push(worker);
      return worker;
    },
    async api(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
    },
    async stop() {
      for (const w of workers) await w.stop();
      await service.stop();
      await fakes.close();
      // A test that starts a cluster of its own stops it (the one `npm run test:cluster` runs on is cleaned here).
      if (!config.redisCluster || CLUSTER_SEEDS) await dropPrefix(prefix);
    },
  };
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
