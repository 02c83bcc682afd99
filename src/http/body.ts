// Reads and validates a JSON request body, mapping each failure to its API error.
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, fromZod, issueMessages } from './errors.js';

/** `types`: the media types taken besides application/json (PATCH also takes application/merge-patch+json). */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, types: readonly string[] = []): Promise<z.infer<S>> {
  const type = c.req.header('content-type')?.toLowerCase();
  if (type !== undefined && !['application/json', ...types].some((t) => type.startsWith(t))) {
    throw new ApiError('unsupported_media_type', `send JSON with Content-Type: ${['application/json', ...types].join(' or ')}`);
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError('invalid_json');
  }
  const parsed = schema.safeParse(body, { error: issueMessages });
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

/**
 * Validates a path parameter against a pattern. A malformed id is refused as the same id in a body is: 422
 * `validation_failed` naming the parameter, with `rule` saying what is allowed (a well-formed id that names nothing
 * is the handler's 404).
 */
export function pathParam(c: Context, name: string, pattern: RegExp, rule: string): string {
  const value = c.req.param(name);
  if (value === undefined || !pattern.test(value)) throw new ApiError('validation_failed', `${name}: ${rule}`, name);
  return value;
}

/**
 * A `limit` query parameter: a whole number from 1 to `max` (`fallback` when absent); anything else is a 422 naming
 * `limit`. Only digits are taken, so `1e2`, `0x10` or ` 5` are refused rather than read as numbers.
 */
/** The request's `limit` (as queryLimit), where `limit` is the only query parameter taken (any other: 422 naming it). */
export function onlyLimit(c: Context, fallback: number, max: number): number {
  const { limit, ...rest } = c.req.query();
  const other = Object.keys(rest)[0];
  if (other !== undefined) throw new ApiError('validation_failed', `${other}: not a parameter here (allowed: limit)`, other);
  return queryLimit(limit, fallback, max);
}

export function queryLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= max)) throw new ApiError('validation_failed', `limit: a whole number from 1 to ${max}`, 'limit');
  return n;
}
