// FCM HTTP v1 as the fake speaks it: POST /v1/projects/<id>/messages:send, Bearer auth, FcmError-shaped errors.
import type { FailSpec } from './behavior.js';
import {
  hex32, jsonReply, parseJson, pick, resolveFail, retryAfter,
  type ErrorTable, type HttpProviderRoute, type Parsed, type WireRequest,
} from './wire.js';

const PREFIX = '/v1/projects/';
const SUFFIX = '/messages:send';
const MAX_PAYLOAD = 4096;
const HEADERS = ['authorization', 'content-type', 'x-firebase-client'] as const;

const TABLE: ErrorTable = {
  codes: {
    UNREGISTERED: 404, INVALID_ARGUMENT: 400, QUOTA_EXCEEDED: 429, SENDER_ID_MISMATCH: 403,
    THIRD_PARTY_AUTH_ERROR: 401, INTERNAL: 500, UNAVAILABLE: 503, UNAUTHENTICATED: 401,
  },
  byStatus: { 400: 'INVALID_ARGUMENT', 401: 'THIRD_PARTY_AUTH_ERROR', 403: 'SENDER_ID_MISMATCH', 404: 'UNREGISTERED', 429: 'QUOTA_EXCEEDED', 500: 'INTERNAL', 503: 'UNAVAILABLE' },
  fallback: { status: 500, code: 'INTERNAL' },
};

// google.rpc canonical status names carried next to the FCM-specific errorCode.
const CANONICAL: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE',
};

function check(message: Record<string, any> | undefined): FailSpec | undefined {
  if (!message || typeof message !== 'object') return { code: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument: message is required.' };
  const targets = ['token', 'topic', 'condition'].filter((k) => typeof message[k] === 'string' && message[k] !== '');
  if (targets.length !== 1) return { code: 'INVALID_ARGUMENT', message: 'Exactly one of token, topic or condition is required.' };
  // FCM's 4 KB limit is on what reaches the device (notification + data), not on the request with its token.
  const payload = Buffer.byteLength(JSON.stringify([message.notification, message.data, message.android?.notification]));
  if (payload > MAX_PAYLOAD) return { code: 'INVALID_ARGUMENT', message: 'Message is too big.' };
  const data = message.data as Record<string, unknown> | undefined;
  if (data && Object.values(data).some((v) => typeof v !== 'string')) return { code: 'INVALID_ARGUMENT', message: 'Invalid data payload: values must be strings.' };
  const priority = message.android?.priority;
  if (priority !== undefined && !/^(high|normal)$/i.test(String(priority))) return { code: 'INVALID_ARGUMENT', message: 'Invalid android.priority.' };
  return undefined;
}

export const fcmRoute: HttpProviderRoute = {
  provider: 'fcm',
  match(method, path) {
    if (method !== 'POST' || !path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) return undefined;
    const project = path.slice(PREFIX.length, path.length - SUFFIX.length);
    return project && !project.includes('/') ? [project] : undefined;
  },
  parse(req: WireRequest): Parsed {
    const body = parseJson(req.body) ?? {};
    const message = body.message as Record<string, any> | undefined;
    const parsed: Parsed = { to: String(message?.token ?? message?.topic ?? message?.condition ?? ''), headers: pick(req.headers, HEADERS), body };
    if (!/^Bearer \S+/i.test(String(req.headers.authorization ?? ''))) {
      parsed.invalid = { status: 401, code: 'UNAUTHENTICATED', message: 'Request is missing required authentication credential.' };
    } else {
      parsed.invalid = check(message);
    }
    return parsed;
  },
  ok(_parsed, [project]) {
    const messageId = `projects/${project}/messages/0:${Date.now()}%${hex32().slice(0, 16)}`;
    return { reply: jsonReply(200, { name: messageId }), messageId };
  },
  fail(spec) {
    const f = resolveFail(spec, TABLE);
    const error = {
      code: f.status,
      message: f.message,
      status: CANONICAL[f.status] ?? 'UNKNOWN',
      details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: f.code }],
    };
    return { reply: jsonReply(f.status, { error }, retryAfter(f)), code: f.code };
  },
};
