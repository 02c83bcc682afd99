// Reads and validates a JSON request body, mapping each failure to its API error.
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, fromZod, issueMessages } from './errors.js';

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const type = c.req.header('content-type');
  if (type !== undefined && !type.toLowerCase().startsWith('application/json')) throw new ApiError('unsupported_media_type');
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

/** Validates a path parameter against a pattern; a malformed id cannot name anything, so it is a 404. */
export function pathParam(c: Context, name: string, pattern: RegExp): string {
  const value = c.req.param(name);
  if (value === undefined || !pattern.test(value)) throw new ApiError('not_found', `no such ${name.replace('_', ' ')}`);
  return value;
}
