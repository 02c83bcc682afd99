// OpenTelemetry tracing: started only when configured (off costs next to nothing), W3C traceparent in and out of
// stream entries so one notification is one trace across processes.
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager, type Span, type SpanOptions } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { scrubText } from '../domain/mask.js';
import { ConfigError } from '../config-error.js';

export interface TracingConfig {
  enabled: boolean;
  /** OTLP/HTTP base URL, e.g. http://localhost:4318 (spans go to <url>/v1/traces). */
  endpoint: string;
  /** Fraction of new traces recorded; a producer's sampled traceparent is always followed. */
  sampleRatio: number;
  serviceName: string;
}

/** The tracer every module uses; without a started SDK its spans are non-recording and nearly free. */
export const tracer = trace.getTracer('notify');

let sdk: NodeSDK | undefined;

export interface SpanBatchConfig {
  scheduledDelayMillis: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  exportTimeoutMillis: number;
}

/** Each setting, its smallest value (the delay may be 0: export at once) and its default. */
const BSP_SETTINGS = [
  ['OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMillis', 0, 500],
  ['OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize', 1, 2048],
  ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize', 1, 512],
  ['OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMillis', 1, 30_000],
] as const;

/**
 * The span batching settings from the standard OTEL_BSP_* variables. The export delay defaults to 500 ms, not the
 * SDK's 5 s, so a trace shows up soon after its notification; the others default as in the SDK. Every value is
 * explicit, so the SDK reads no environment of its own. A bad value throws ConfigError naming it (the SDK would only
 * warn and carry on).
 */
export function spanBatchConfig(env: Record<string, string | undefined>): SpanBatchConfig {
  const out = {} as SpanBatchConfig;
  for (const [name, key, min, def] of BSP_SETTINGS) {
    const raw = env[name]?.trim();
    if (raw && (!/^\d+$/.test(raw) || Number(raw) < min)) throw new ConfigError(`${name} must be an integer ≥ ${min} (got "${raw}")`);
    out[key] = raw ? Number(raw) : def;
  }
  if (out.maxExportBatchSize > out.maxQueueSize) {
    throw new ConfigError(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${out.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${out.maxQueueSize})`);
  }
  return out;
}

/**
 * Starts the SDK (once per process), batching as the OTEL_BSP_* variables of `env` say (throws ConfigError for a bad
 * one). Returns a shutdown that flushes pending spans.
 */
export function startTracing(cfg: TracingConfig, env: Record<string, string | undefined> = process.env): () => Promise<void> {
  if (!cfg.enabled || sdk) return async () => undefined;
  const batch = spanBatchConfig(env);
  const exporter = new OTLPTraceExporter({ url: `${cfg.endpoint.replace(/\/$/, '')}/v1/traces` });
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, batch)],
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.sampleRatio) }),
    instrumentations: [],
    // Every span here names its parent explicitly, so no ambient context is needed; the default AsyncLocalStorage
    // context manager would put a hook on every promise of the hot path once the exporter first uses it.
    contextManager: new NoAmbientContext(),
  });
  sdk.start();
  return async () => {
    await sdk?.shutdown();
    sdk = undefined;
  };
}

/** A context manager with no ambient context: `active()` is always the root, `with` just calls. */
class NoAmbientContext implements ContextManager {
  active(): Context {
    return ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(_ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return fn.call(thisArg, ...args);
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

export const tracingOn = (): boolean => sdk !== undefined;

/** The context a traceparent (from a stream entry or an HTTP header) names; the root context when there is none. */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent || !sdk) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The traceparent to store with work that continues this span elsewhere; undefined when tracing is off. */
export function traceparentOf(span: Span): string | undefined {
  // Sampled-out spans propagate too (flag 00), so later stages do not start a fresh, maybe sampled, trace.
  if (!sdk) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent;
}

/**
 * Starts a span under the given parent context (not the ambient one: work here hops between actors and batches).
 * Under a sampled-out parent nothing would be recorded (the sampler follows the parent), so no span is built: the
 * parent's own context is handed on as a non-recording span, which keeps the trace id (and its "not sampled" flag)
 * flowing to later stages. At 1 % sampling that spares the SDK's id generation, sampling and validation for the other
 * 99 % of the spans.
 */
export function startSpan(name: string, parent: Context, options: SpanOptions = {}): Span {
  const up = trace.getSpanContext(parent);
  if (up !== undefined && (up.traceFlags & TraceFlags.SAMPLED) === 0) return trace.wrapSpanContext(up);
  return tracer.startSpan(name, options, parent);
}

export const childContext = (span: Span): Context => trace.setSpan(ROOT_CONTEXT, span);

/** A child span for work timed elsewhere (a worker thread): its own start and end times, the parent's trace. */
export function timedSpan(name: string, parent: Span, start: number, end: number, attributes: Record<string, string | number | boolean>): void {
  if (!parent.isRecording()) return;
  tracer.startSpan(name, { startTime: start, attributes }, childContext(parent)).end(end);
}

/** Records an exception on a span with its text scrubbed: an error's message may quote the input it choked on. */
export function recordError(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  span.recordException({ name: e.name, message: scrubText(e.message), ...(e.stack && { stack: scrubText(e.stack) }) });
}
