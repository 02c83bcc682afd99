// Entry point: reads configuration, starts the service in its role, and stops it cleanly on SIGTERM/SIGINT.
//   node --import tsx src/main.ts [--role all|ingress|worker]
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, SANDBOX_SES_EVENTS_TOPIC, type Role } from './config.js';
import { createLogger } from './log.js';
import { startSandbox, type Sandbox } from './sandbox.js';
import { startService } from './service.js';
import { startTracing } from './telemetry/tracing.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({ options: { role: { type: 'string', default: process.env.NOTIFY_ROLE ?? 'all' } } });
const role = values.role as Role;
if (!['all', 'ingress', 'worker'].includes(role)) fail(`--role must be all, ingress or worker (got "${role}")`);

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const log = createLogger(config.logLevel);
const stopTracing = startTracing(config.tracing);
if (config.tracing.enabled) log.info({ endpoint: config.tracing.endpoint, sampleRatio: config.tracing.sampleRatio }, 'tracing on (OTLP/HTTP)');

let sandbox: Sandbox | undefined;
let service;
try {
  if (config.sandbox.enabled) sandbox = await startSandbox(config, role, log);
  service = await startService({
    config, role, log,
    ...(sandbox && {
      providers: sandbox.providers,
      sandboxMessages: (tenant: string, n: number) => sandbox!.messages(tenant, n),
      sandboxSent: (id: string, tenant: string) => sandbox!.sent(id, tenant),
    }),
    ...(sandbox?.snsCertAgent && { snsCertAgent: sandbox.snsCertAgent }),
  });
  // The sandbox's SES events reach this ingress as they would from SNS: through a confirmed subscription.
  if (sandbox && role !== 'worker' && config.feedback.sesTopicArns.includes(SANDBOX_SES_EVENTS_TOPIC)) {
    await sandbox.subscribeFeedback(`http://127.0.0.1:${service.port}/v1/feedback/ses`)
      .catch((err: unknown) => log.warn({ err }, 'sandbox: subscribing to the fake SES events failed; no delivery feedback'));
  }
} catch (err) {
  const message = (err as Error).message ?? String(err);
  if (/ECONNREFUSED|ENOTFOUND|Connection is closed|connect ETIMEDOUT/.test(message)) {
    fail(`cannot reach Redis at ${config.redisUrl} (${message}).\n` +
      'Start one with `redis-server` (Redis >= 7), or `docker compose up -d redis`, or set REDIS_URL.');
  }
  log.fatal({ err }, 'start-up failed');
  process.exit(1);
}
log.info({ role, consumer: service.consumer, sandbox: Boolean(sandbox) }, 'notify started');

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting now; unfinished entries stay pending for other workers');
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, 'stopping: no new work is read; finishing what is in hand');
  await service!.stop();
  await sandbox?.close();
  await stopTracing();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

function fail(message: string): never {
  process.stderr.write(`notify: ${message}\n`);
  process.exit(1);
}
