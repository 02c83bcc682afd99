// Pure classification of provider answers (status + provider code) into SendFailure: retry or not, dead token, whose fault.
import { failure, parseRetryAfter } from './failure.js';
import type { SendFailure } from './types.js';

/** What a provider answered, as far as the SDK let us see it. */
export interface ProviderAnswer {
  status?: number | undefined;
  /** Provider code/reason: APNs reason, FCM errorCode (or the SDK's messaging/… code), Twilio code, AWS error name. */
  code?: string | number | undefined;
  /** Provider's own text; scrubbed before use. */
  detail?: string | undefined;
  /** Raw Retry-After header value. */
  retryAfter?: string | number | null | undefined;
  /** APNs 410 `timestamp` (ms since epoch). */
  timestamp?: number | undefined;
  /** Clock for HTTP-date Retry-After. */
  now?: number;
}

type Rule = Pick<SendFailure, 'retryable' | 'providerSide'> & { tokenInvalid?: boolean; throttled?: boolean };
const RETRY: Rule = { retryable: true, providerSide: true };
/** The provider asks us to slow down: retry later, and send less meanwhile. */
const THROTTLE: Rule = { retryable: true, providerSide: true, throttled: true };
const PERMANENT: Rule = { retryable: false, providerSide: false };
/** Account-level refusal (credentials, suspension): this message cannot go, and neither can the next — fail over. */
const ACCOUNT: Rule = { retryable: false, providerSide: true };
const DEAD_TOKEN: Rule = { retryable: false, providerSide: false, tokenInvalid: true };

function byStatus(status: number | undefined): Rule {
  if (status === undefined) return PERMANENT;
  if (status === 429) return THROTTLE;
  if (status === 408 || status >= 500) return RETRY;
  if (status === 401 || status === 403) return ACCOUNT;
  return PERMANENT;
}

function build(provider: string, a: ProviderAnswer, code: string, rule: Rule, at?: number): SendFailure {
  return failure(provider, {
    retryable: rule.retryable,
    providerSide: rule.providerSide,
    code,
    status: a.status,
    detail: a.detail,
    retryAfterMs: rule.retryable ? parseRetryAfter(a.retryAfter, a.now) : undefined,
    tokenInvalid: rule.tokenInvalid ? (at !== undefined ? { at } : {}) : undefined,
    throttled: rule.throttled,
  });
}

/** APNs: retry 429/500/503; never 400/403/410/413; 410 (Unregistered, ExpiredToken) marks the token dead as of `timestamp`. */
export function classifyApns(a: ProviderAnswer): SendFailure {
  const reason = a.code !== undefined ? String(a.code) : undefined;
  let rule: Rule;
  if (a.status === 410 || reason === 'Unregistered' || reason === 'ExpiredToken') rule = DEAD_TOKEN;
  // node-apn regenerates its JWT on this answer; the next attempt carries a fresh one.
  else if (reason === 'ExpiredProviderToken') rule = { retryable: true, providerSide: false };
  else if (reason === 'TooManyProviderTokenUpdates' || reason === 'TooManyRequests') rule = THROTTLE;
  else rule = byStatus(a.status);
  const code = reason ?? (a.status ? `http_${a.status}` : 'unknown');
  return build('apns', a, code, rule, typeof a.timestamp === 'number' ? a.timestamp : undefined);
}

// firebase-admin reports only its own `messaging/…` codes; map them back to FCM v1's errorCode vocabulary.
const FCM_FROM_SDK: Record<string, string> = {
  'messaging/registration-token-not-registered': 'UNREGISTERED',
  'messaging/invalid-argument': 'INVALID_ARGUMENT',
  'messaging/invalid-registration-token': 'INVALID_REGISTRATION',
  'messaging/message-rate-exceeded': 'QUOTA_EXCEEDED',
  'messaging/device-message-rate-exceeded': 'QUOTA_EXCEEDED',
  'messaging/topics-message-rate-exceeded': 'QUOTA_EXCEEDED',
  'messaging/mismatched-credential': 'SENDER_ID_MISMATCH',
  'messaging/third-party-auth-error': 'THIRD_PARTY_AUTH_ERROR',
  'messaging/authentication-error': 'UNAUTHENTICATED',
  'messaging/internal-error': 'INTERNAL',
  'messaging/server-unavailable': 'UNAVAILABLE',
  'messaging/payload-size-limit-exceeded': 'INVALID_ARGUMENT',
  'messaging/invalid-payload': 'INVALID_ARGUMENT',
  'messaging/unknown-error': 'UNSPECIFIED_ERROR',
};
const FCM_RULES: Record<string, Rule> = {
  UNREGISTERED: DEAD_TOKEN,
  INVALID_REGISTRATION: DEAD_TOKEN,
  INVALID_ARGUMENT: PERMANENT,
  SENDER_ID_MISMATCH: PERMANENT,
  QUOTA_EXCEEDED: THROTTLE,
  INTERNAL: RETRY,
  UNAVAILABLE: RETRY,
  THIRD_PARTY_AUTH_ERROR: ACCOUNT,
  UNAUTHENTICATED: ACCOUNT,
};

/** FCM v1: retry 429/500/503 honouring Retry-After; UNREGISTERED kills the token; INVALID_ARGUMENT, SENDER_ID_MISMATCH permanent. */
export function classifyFcm(a: ProviderAnswer): SendFailure {
  const raw = a.code !== undefined ? String(a.code) : undefined;
  const code = (raw && (FCM_FROM_SDK[raw] ?? raw)) ?? (a.status ? `http_${a.status}` : 'unknown');
  return build('fcm', a, code, FCM_RULES[code] ?? byStatus(a.status));
}

// 21211 invalid To, 21610 recipient replied STOP, 21617 body too long, 21614 not a mobile number: never retry.
const TWILIO_PERMANENT = new Set(['21211', '21610', '21617', '21614', '21408', '21602', '21603', '21606']);

/** Twilio: 20429/429 and 5xx retryable; 21211, 21610, 21617 permanent; 401/403 (credentials, suspension) account-level. */
export function classifyTwilio(a: ProviderAnswer): SendFailure {
  const code = a.code !== undefined && a.code !== 0 ? String(a.code) : a.status ? `http_${a.status}` : 'unknown';
  let rule: Rule;
  if (code === '20429' || a.status === 429) rule = THROTTLE;
  else if (TWILIO_PERMANENT.has(code)) rule = PERMANENT;
  else rule = byStatus(a.status);
  return build('twilio', a, code, rule);
}

const SES_RULES: Record<string, Rule> = {
  TooManyRequestsException: THROTTLE,
  LimitExceededException: THROTTLE,
  ThrottlingException: THROTTLE,
  Throttling: THROTTLE,
  MessageRejected: PERMANENT,
  BadRequestException: PERMANENT,
  NotFoundException: PERMANENT,
  AccountSuspendedException: ACCOUNT,
  SendingPausedException: ACCOUNT,
  MailFromDomainNotVerifiedException: ACCOUNT,
};

/** SES v2: throttling and 5xx retryable; MessageRejected permanent; AccountSuspended/SendingPaused account-level. */
export function classifySes(a: ProviderAnswer): SendFailure {
  const code = a.code !== undefined ? String(a.code) : a.status ? `http_${a.status}` : 'unknown';
  return build('ses', a, code, SES_RULES[code] ?? byStatus(a.status));
}

const SNS_RULES: Record<string, Rule> = {
  Throttled: THROTTLE,
  ThrottledException: THROTTLE,
  Throttling: THROTTLE,
  ThrottlingException: THROTTLE,
  KMSThrottling: THROTTLE,
  InternalError: RETRY,
  InternalErrorException: RETRY,
  ServiceUnavailable: RETRY,
  InvalidParameter: PERMANENT,
  InvalidParameterException: PERMANENT,
  ParameterValueInvalid: PERMANENT,
  InvalidParameterValueException: PERMANENT,
  AuthorizationError: ACCOUNT,
  AuthorizationErrorException: ACCOUNT,
};

/** SNS: Throttled/Throttling and InternalError retryable; InvalidParameter permanent. */
export function classifySns(a: ProviderAnswer): SendFailure {
  const code = a.code !== undefined ? String(a.code) : a.status ? `http_${a.status}` : 'unknown';
  return build('sns', a, code, SNS_RULES[code] ?? byStatus(a.status));
}
