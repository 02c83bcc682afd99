// One catalogue of API errors: each code has its HTTP status and a default message.
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export const ERRORS = {
  invalid_json: { status: 400, message: 'the request body is not valid JSON' },
  invalid_sns_message: { status: 400, message: 'the body is not an Amazon SNS message' },
  invalid_signature: { status: 403, message: 'the request signature is missing or does not verify' },
  topic_not_allowed: { status: 403, message: 'messages from this SNS topic are not accepted' },
  unauthorized: { status: 401, message: 'missing or invalid API key: send Authorization: Bearer <key>' },
  not_found: { status: 404, message: 'not found' },
  method_not_allowed: { status: 405, message: 'this path does not support the method (see the Allow header)' },
  payload_too_large: { status: 413, message: 'the request body is too large' },
  unsupported_media_type: { status: 415, message: 'send JSON with Content-Type: application/json' },
  validation_failed: { status: 422, message: 'the request is not valid' },
  template_not_found: { status: 422, message: 'no template with that name' },
  template_syntax: { status: 422, message: 'the template does not compile' },
  template_render_failed: { status: 422, message: 'the template does not render with these params' },
  template_not_allowed: { status: 422, message: 'the template uses something templates may not (see Templates in the README)' },
  idempotency_key_reused: { status: 422, message: 'this Idempotency-Key was used with a different request body' },
  idempotency_key_in_flight: { status: 409, message: 'a request with this Idempotency-Key is still being processed; retry shortly' },
  not_cancellable: { status: 409, message: 'the notification is already being sent or was sent' },
  too_many_recipients: { status: 422, message: "the request asks for more deliveries than the tenant's burst limit allows at once" },
  tenant_rate_limited: { status: 429, message: 'the tenant is over its delivery rate limit; retry after Retry-After seconds' },
  unavailable: { status: 503, message: 'the service cannot accept requests right now' },
  internal: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;
export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

/** Thrown by handlers; turned into `{error: {code, message, field?}}` with the catalogue's status. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly field?: string,
    /** Sent as Retry-After (seconds). */
    readonly retryAfterS?: number,
  ) {
    super(message ?? ERRORS[code].message);
  }

  get status(): ContentfulStatusCode {
    return ERRORS[this.code].status;
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined && { field: this.field }) } };
  }
}

/**
 * Messages zod cannot word well on its own, passed as the parse's error map (`schema.safeParse(body, { error:
 * issueMessages })`): an unknown key lists the keys the object allows, which only the parse knows.
 */
export const issueMessages = (iss: z.core.$ZodRawIssue): string | undefined => {
  if (iss.code !== 'unrecognized_keys') return undefined;
  const shape = (iss.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  const others = iss.keys.slice(1).map((k) => JSON.stringify(k));
  return `not allowed here${others.length ? `, nor ${others.length > 1 ? 'are' : 'is'} ${others.join(', ')}` : ''}`
    + (shape ? ` (allowed: ${Object.keys(shape).join(', ')})` : '');
};

/** The first zod issue as a validation error naming its field (for an unknown key, that key). */
export function fromZod(error: z.ZodError, prefix = ''): ApiError {
  const issue = error.issues[0]!;
  const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = [prefix, ...at.map(String)].filter(Boolean).join('.') || undefined;
  // A record's bad key: its own check says what keys may be.
  const message = issue.code === 'invalid_key' ? issue.issues[0]?.message ?? issue.message : issue.message;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return new ApiError('validation_failed', `${field ? `${field}: ` : ''}${message}${more}`, field);
}
