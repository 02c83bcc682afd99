// Entry point: reads configuration, starts the service in its role, and stops it cleanly on SIGTERM/SIGINT.
//   node --import tsx src/main.ts [--role all|ingress|worker]
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, SANDBOX_SES_EVENTS_TOPIC, type Role } from './config.js';
import { createLogger } from './log.js';
import { fakeSlack, startSandbox, type Sandbox } from './sandbox.js';
import { startService, type Service } from './service.js';
import { startTracing } from './telemetry/tracing.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
/** A second signal sooner than this after the first is the same stop, delivered twice. */
const DUPLICATE_SIGNAL_MS = 500;

const { values } = parseArgs({ options: { role: { type: 'string', default: process.env.NOTIFY_ROLE ?? 'all' } } });
const role = values.role as Role;
if (!['all', 'ingress', 'worker'].includes(role)) fail(`--role must be all, ingress or worker (got "${role}")`);

const { config, stopTracing } = configure();
const log = createLogger(config.logLevel);
if (config.tracing.enabled) log.info({ endpoint: config.tracing.endpoint, sampleRatio: config.tracing.sampleRatio }, 'tracing on (OTLP/HTTP)');

interface Started {
  service: Service;
  sandbox?: Sandbox;
}

// Signals are handled before anything starts: a SIGTERM while the service starts (or the moment /readyz first
// answers) waits for the start-up to finish, then stops what it started, gracefully.
let stopping = false;
let stopSignalAt = 0;
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
const started = start();
const { service, sandbox } = await started;
log.info({ role, consumer: service.consumer, sandbox: Boolean(sandbox) }, 'notify started');

/** The configuration, and tracing started as it says (a bad OTEL_BSP_* value is a configuration error too). */
function configure() {
  try {
    const config = loadConfig(process.env);
    return { config, stopTracing: startTracing(config.tracing) };
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function start(): Promise<Started> {
  let sandbox: Sandbox | undefined;
  try {
    if (config.sandbox.enabled) sandbox = await startSandbox(config, role, log);
    const subscribes = sandbox !== undefined && role !== 'worker' && config.feedback.sesTopicArns.includes(SANDBOX_SES_EVENTS_TOPIC);
    // Not ready until the sandbox's SES events subscription is confirmed: an email sent before would get no feedback.
    // A subscription that failed is logged and no longer waited for (ready, without feedback).
    let feedback: 'waiting' | 'confirmed' | 'failed' = 'waiting';
    const service = await startService({
      config, role, log,
      ...(sandbox && {
        providers: sandbox.providers,
        sandboxMessages: (tenant: string, n: number) => sandbox!.messages(tenant, n),
        sandboxSent: (id: string, tenant: string) => sandbox!.sent(id, tenant),
        sandboxAlerts: fakeSlack(sandbox.fakesUrl),
      }),
      ...(sandbox?.snsCertAgent && { snsCertAgent: sandbox.snsCertAgent }),
      ...(subscribes && { readyChecks: [async (): Promise<Record<string, boolean>> => (feedback === 'failed' ? {} : { sandboxFeedback: feedback === 'confirmed' })] }),
    });
    // The sandbox's SES events reach this ingress as they would from SNS: through a confirmed subscription.
    if (subscribes) {
      await sandbox!.subscribeFeedback(`http://127.0.0.1:${service.port}/v1/feedback/ses`).then(() => {
        feedback = 'confirmed';
      }, (err: unknown) => {
        feedback = 'failed';
        log.warn({ err }, 'sandbox: subscribing to the fake SES events failed; no delivery feedback');
      });
    }
    return { service, ...(sandbox && { sandbox }) };
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/ECONNREFUSED|ENOTFOUND|Connection is closed|connect ETIMEDOUT|None of startup nodes|Failed to refresh slots/.test(message)) {
      const where = config.redisCluster ? `the Redis Cluster at ${config.redisCluster.map((n) => `${n.host}:${n.port}`).join(',')}` : `Redis at ${config.redisUrl}`;
      fail(`cannot reach ${where} (${message}).\n` +
        'Start one with `redis-server` (Redis >= 7), or `docker compose up -d redis`, or set REDIS_URL.');
    }
    log.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

async function shutdown(signal: string): Promise<void> {
  // Ctrl-C under `npm start` arrives twice within a moment (from the terminal, and forwarded by npm): that is one stop.
  if (stopping && Date.now() - stopSignalAt < DUPLICATE_SIGNAL_MS) return;
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting now; unfinished entries stay pending for other workers');
    process.exit(1);
  }
  stopping = true;
  stopSignalAt = Date.now();
  log.info({ signal }, 'stopping: no new work is read; finishing what is in hand');
  const { service, sandbox } = await started;
  await service.stop();
  await sandbox?.close();
  await stopTracing();
  log.info('stopped');
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`notify: ${message}\n`);
  process.exit(1);
}
