// The service logger: pino with personal data redacted wherever it might appear.
import { pino, stdSerializers, type Logger } from 'pino';
import { scrubText } from './domain/mask.js';

export type { Logger };

/** Keys that may hold emails, phone numbers, device tokens, keys or message bodies: redacted at any depth. */
const REDACT_KEYS = new Set([
  'email', 'phone', 'token', 'to', 'body', 'content', 'params', 'authorization', 'apiKey', 'password', 'secret',
]);
/** Keys whose text is an error's: scrubbed of addresses, numbers and tokens (a parse error quotes its input). */
const ERROR_KEYS = new Set(['err', 'error']);
const CENSOR = '[redacted]';
const MAX_DEPTH = 8;

function safeError(e: Error, depth: number): unknown {
  const s = stdSerializers.err(e) as unknown as Record<string, unknown>;
  return redactDeep({ ...s, message: scrubText(String(s.message ?? '')), stack: scrubText(String(s.stack ?? '')) }, depth);
}

/**
 * A copy of a log object with secret-bearing keys censored at every depth (pino's own redaction reaches only the
 * depths its paths spell out) and errors serialised with their text scrubbed.
 */
export function redactDeep(v: unknown, depth = 0, key = ''): unknown {
  if (typeof v === 'string') return ERROR_KEYS.has(key) ? scrubText(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (v instanceof Error) return safeError(v, depth + 1);
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, depth + 1, key));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = REDACT_KEYS.has(k) ? CENSOR : redactDeep(x, depth + 1, k);
  return out;
}

/** Creates the root logger; `destination` lets tests capture the output. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level, base: { pid: process.pid },
    formatters: { log: (obj: Record<string, unknown>) => redactDeep(obj) as Record<string, unknown> },
    // Errors were serialised (and scrubbed) by the formatter; the default serialiser would wrap them again.
    serializers: { err: (e: unknown) => (e instanceof Error ? safeError(e, 1) : e) },
    hooks: {
      // pino uses an error's message as the line's message when none is given: give it the scrubbed one instead.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        const [first] = args;
        const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
        if (args.length === 1 && err instanceof Error) return method.apply(this, [first, scrubText(err.message)]);
        return method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
