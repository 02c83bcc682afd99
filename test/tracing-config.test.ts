// The span batching settings come from the standard OTEL_BSP_* variables (a 500 ms export delay when unset), and a
// span waits for the configured delay before it is exported.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { ConfigError } from '../src/config-error.js';
import { spanBatchConfig, startSpan, startTracing } from '../src/telemetry/tracing.js';
import { startOtlpReceiver } from './support/otlp-receiver.js';
import { spawnService } from './support/process.js';
import { REDIS_URL } from './support/redis.js';

describe('spanBatchConfig', () => {
  it('exports every 500 ms when nothing is set, with the SDK\'s other defaults', () => {
    assert.deepEqual(spanBatchConfig({}), { scheduledDelayMillis: 500, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMillis: 30_000 });
  });

  it('takes each OTEL_BSP_* setting', () => {
    assert.deepEqual(spanBatchConfig({
      OTEL_BSP_SCHEDULE_DELAY: '2000', OTEL_BSP_MAX_QUEUE_SIZE: '8192', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1024', OTEL_BSP_EXPORT_TIMEOUT: '10000',
    }), { scheduledDelayMillis: 2000, maxQueueSize: 8192, maxExportBatchSize: 1024, exportTimeoutMillis: 10000 });
    assert.deepEqual(spanBatchConfig({ OTEL_BSP_SCHEDULE_DELAY: '0', OTEL_BSP_MAX_QUEUE_SIZE: ' ' }),
      { scheduledDelayMillis: 0, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMillis: 30_000 }, 'blank is unset');
  });

  it('refuses a bad value, naming the variable', () => {
    for (const [name, value] of [
      ['OTEL_BSP_SCHEDULE_DELAY', '5s'], ['OTEL_BSP_SCHEDULE_DELAY', '-1'], ['OTEL_BSP_MAX_QUEUE_SIZE', '0'],
      ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '1.5'], ['OTEL_BSP_EXPORT_TIMEOUT', 'soon'],
    ] as const) {
      assert.throws(() => spanBatchConfig({ [name]: value }), (err: Error) => err instanceof ConfigError && err.message.includes(name), `${name}=${value}`);
    }
    assert.throws(() => spanBatchConfig({ OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '200' }),
      (err: Error) => err instanceof ConfigError && err.message.includes('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'));
  });

  it('a bad value stops the service at start-up with tracing on', async () => {
    const svc = spawnService([], { REDIS_URL, NOTIFY_SANDBOX: 'on', NOTIFY_TRACING: 'on', OTEL_BSP_SCHEDULE_DELAY: '5s' });
    const [code] = await once(svc.child, 'exit');
    assert.equal(code, 1);
    assert.match(svc.stderr(), /OTEL_BSP_SCHEDULE_DELAY must be an integer/);
  });
});

describe('OTEL_BSP_SCHEDULE_DELAY', () => {
  let stop: (() => Promise<void>) | undefined;
  const otlp = startOtlpReceiver();
  after(async () => {
    await stop?.();
    await (await otlp).close();
  });

  it('holds a finished span for the configured delay before exporting it', async () => {
    const receiver = await otlp;
    // Set the way an operator would: in the process environment the service reads.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '1500';
    try {
      stop = startTracing({ enabled: true, endpoint: receiver.url, sampleRatio: 1, serviceName: 'notify-bsp' });
    } finally {
      delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    }
    const ended = Date.now();
    startSpan('bsp probe', ROOT_CONTEXT).end();
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(receiver.spans.length, 0, 'not exported at the default 500 ms');
    while (receiver.spans.length === 0 && Date.now() - ended < 5_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(receiver.spans[0]?.name, 'bsp probe', 'exported once the delay passed');
    assert.ok(Date.now() - ended >= 1_400, `after about 1500 ms (took ${Date.now() - ended} ms)`);
  });
});
