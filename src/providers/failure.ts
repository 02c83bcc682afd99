// Pure building blocks for classified send failures: Retry-After parsing, network/timeout failures, personal-data scrubbing.
import { scrubText } from '../domain/mask.js';
import type { SendFailure } from './types.js';

/**
 * Retry-After as milliseconds from `now`: delta-seconds ("120", "1.5") or an HTTP-date; undefined when absent or invalid.
 * @example parseRetryAfter('30') // 30000
 */
export function parseRetryAfter(value: string | number | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Removes what could be an address, phone number or device token from a provider's message, and bounds its length. */
export function scrub(text: string | undefined): string {
  const clean = scrubText(text);
  return clean.length > 200 ? `${clean.slice(0, 197)}...` : clean;
}

/** Assembles a SendFailure with a personal-data-free message. */
export function failure(
  provider: string,
  f: Omit<SendFailure, 'ok' | 'message'> & { detail?: string | undefined },
): SendFailure {
  const { detail, ...rest } = f;
  const head = `${provider}${f.status ? ` ${f.status}` : ''} ${f.code}`;
  const text = scrub(detail);
  const out: SendFailure = { ok: false, ...rest, message: text && text !== f.code ? `${head}: ${text}` : head };
  for (const k of Object.keys(out) as (keyof SendFailure)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** The provider did not answer within the send timeout: try again later, possibly elsewhere. */
export function timeoutFailure(provider: string, timeoutMs: number): SendFailure {
  return failure(provider, { code: 'timeout', retryable: true, providerSide: true, maybeDelivered: true, detail: `no answer within ${timeoutMs} ms` });
}

const NET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_STREAM_CANCEL', 'ERR_SOCKET_CLOSED',
]);
const NET_TEXT = /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|closed or destroyed|session|stream|network|connect|aborted|reset|REFUSED_STREAM/i;
const TIMEOUT_TEXT = /timed? ?out|timeout/i;

function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  // VError (node-apn) keeps its cause behind a cause() method; standard errors in a `cause` property.
  for (let e: any = err, depth = 0; e && depth < 4; e = typeof e.cause === 'function' ? e.cause() : e.cause, depth++) {
    if (typeof e.code === 'string') out.push(e.code);
    if (typeof e.name === 'string') out.push(e.name);
  }
  return out;
}

/**
 * Classifies a transport-level error (no provider answer): connection refused/reset, socket hang up, HTTP/2 session
 * closed, client-side timeouts. Undefined when the error does not look like one.
 */
export function networkFailure(provider: string, err: unknown): SendFailure | undefined {
  const codes = errorCodes(err);
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  // The root cause (ECONNREFUSED) says more than a wrapper (ERR_HTTP2_STREAM_CANCEL) or a name: the AWS SDK names a
  // reset socket "TimeoutError", so an errno code is trusted first.
  const errno = codes.find((c) => NET_CODES.has(c) && !c.startsWith('ERR_'));
  const timedOut = errno === 'ETIMEDOUT' || errno === 'ESOCKETTIMEDOUT' || (!errno && (codes.includes('TimeoutError') || TIMEOUT_TEXT.test(text)));
  if (timedOut) return failure(provider, { code: 'timeout', retryable: true, providerSide: true, maybeDelivered: true, detail: text });
  const code = errno ?? codes.find((c) => NET_CODES.has(c));
  if (code || NET_TEXT.test(text)) {
    return failure(provider, { code: code ?? 'connection', retryable: true, providerSide: true, detail: text });
  }
  return undefined;
}

/** An error we cannot place: not retried (it would likely fail the same way), surfaced with its scrubbed text. */
export function unknownFailure(provider: string, err: unknown): SendFailure {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return failure(provider, { code: 'unknown', retryable: false, providerSide: false, detail: text });
}
