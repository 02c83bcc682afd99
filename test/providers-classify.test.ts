// Classification of provider answers, row by row, without I/O.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyApns, classifyFcm, classifySes, classifySns, classifyTwilio } from '../src/providers/classify.js';
import { networkFailure, parseRetryAfter, scrub, timeoutFailure } from '../src/providers/failure.js';
import type { SendFailure } from '../src/providers/types.js';

type Expect = Partial<Pick<SendFailure, 'retryable' | 'providerSide' | 'code' | 'retryAfterMs' | 'status' | 'maybeDelivered'>> & { tokenInvalid?: boolean };

function check(f: SendFailure, e: Expect): void {
  assert.equal(f.ok, false);
  for (const k of ['retryable', 'providerSide', 'code', 'retryAfterMs', 'status', 'maybeDelivered'] as const) {
    if (k in e) assert.equal(f[k], e[k], `${k} of ${f.message}`);
  }
  if ('tokenInvalid' in e) assert.equal(f.tokenInvalid !== undefined, e.tokenInvalid, `tokenInvalid of ${f.message}`);
  assert.ok(f.message.length > 0);
}

describe('parseRetryAfter', () => {
  it('reads delta-seconds, HTTP-dates, and rejects junk', () => {
    assert.equal(parseRetryAfter('30'), 30_000);
    assert.equal(parseRetryAfter(2), 2000);
    assert.equal(parseRetryAfter('1.5'), 1500);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter(''), undefined);
  });
});

describe('APNs', () => {
  const rows: [string, Parameters<typeof classifyApns>[0], Expect][] = [
    ['400 BadDeviceToken', { status: 400, code: 'BadDeviceToken' }, { retryable: false, providerSide: false, code: 'BadDeviceToken', tokenInvalid: false }],
    ['403 InvalidProviderToken', { status: 403, code: 'InvalidProviderToken' }, { retryable: false, providerSide: true }],
    ['403 ExpiredProviderToken (SDK refreshed the JWT)', { status: 403, code: 'ExpiredProviderToken' }, { retryable: true, providerSide: false }],
    ['410 Unregistered', { status: 410, code: 'Unregistered', timestamp: 1_700_000_000_000 }, { retryable: false, providerSide: false, tokenInvalid: true }],
    ['413 PayloadTooLarge', { status: 413, code: 'PayloadTooLarge' }, { retryable: false, providerSide: false }],
    ['429 TooManyRequests', { status: 429, code: 'TooManyRequests', retryAfter: '5' }, { retryable: true, providerSide: true, retryAfterMs: 5000 }],
    ['500 InternalServerError', { status: 500, code: 'InternalServerError' }, { retryable: true, providerSide: true }],
    ['503 ServiceUnavailable', { status: 503, code: 'ServiceUnavailable' }, { retryable: true, providerSide: true }],
    ['500 without a reason', { status: 500 }, { retryable: true, code: 'http_500' }],
  ];
  for (const [name, input, expect] of rows) it(name, () => check(classifyApns(input), expect));

  it('410 carries the APNs timestamp as tokenInvalid.at', () => {
    assert.deepEqual(classifyApns({ status: 410, code: 'Unregistered', timestamp: 1_700_000_000_000 }).tokenInvalid, { at: 1_700_000_000_000 });
    assert.deepEqual(classifyApns({ status: 410, code: 'Unregistered' }).tokenInvalid, {});
  });
});

describe('FCM', () => {
  const rows: [string, Parameters<typeof classifyFcm>[0], Expect][] = [
    ['404 UNREGISTERED', { status: 404, code: 'UNREGISTERED' }, { retryable: false, code: 'UNREGISTERED', tokenInvalid: true }],
    ['SDK registration-token-not-registered', { code: 'messaging/registration-token-not-registered' }, { retryable: false, code: 'UNREGISTERED', tokenInvalid: true }],
    ['400 INVALID_ARGUMENT', { status: 400, code: 'messaging/invalid-argument' }, { retryable: false, providerSide: false, code: 'INVALID_ARGUMENT', tokenInvalid: false }],
    ['403 SENDER_ID_MISMATCH', { status: 403, code: 'messaging/mismatched-credential' }, { retryable: false, providerSide: false, code: 'SENDER_ID_MISMATCH' }],
    ['429 QUOTA_EXCEEDED + Retry-After', { status: 429, code: 'messaging/message-rate-exceeded', retryAfter: '7' }, { retryable: true, providerSide: true, code: 'QUOTA_EXCEEDED', retryAfterMs: 7000 }],
    ['500 INTERNAL', { status: 500, code: 'messaging/internal-error' }, { retryable: true, providerSide: true, code: 'INTERNAL' }],
    ['503 UNAVAILABLE', { status: 503, code: 'messaging/server-unavailable' }, { retryable: true, providerSide: true, code: 'UNAVAILABLE' }],
    ['401 THIRD_PARTY_AUTH_ERROR', { status: 401, code: 'THIRD_PARTY_AUTH_ERROR' }, { retryable: false, providerSide: true }],
    ['unknown code, 502', { status: 502, code: 'SOMETHING_NEW' }, { retryable: true, providerSide: true, code: 'SOMETHING_NEW' }],
  ];
  for (const [name, input, expect] of rows) it(name, () => check(classifyFcm(input), expect));
});

describe('Twilio', () => {
  const rows: [string, Parameters<typeof classifyTwilio>[0], Expect][] = [
    ['21211 invalid To', { status: 400, code: 21211 }, { retryable: false, providerSide: false, code: '21211' }],
    ['21610 unsubscribed', { status: 400, code: 21610 }, { retryable: false, providerSide: false, code: '21610' }],
    ['21617 too long', { status: 400, code: 21617 }, { retryable: false, code: '21617' }],
    ['20429 with Retry-After', { status: 429, code: 20429, retryAfter: '3' }, { retryable: true, providerSide: true, code: '20429', retryAfterMs: 3000 }],
    ['429 without a code', { status: 429 }, { retryable: true, code: 'http_429' }],
    ['500', { status: 500, code: 20500 }, { retryable: true, providerSide: true }],
    ['503', { status: 503 }, { retryable: true, providerSide: true }],
    ['401 bad credentials', { status: 401, code: 20003 }, { retryable: false, providerSide: true }],
  ];
  for (const [name, input, expect] of rows) it(name, () => check(classifyTwilio(input), expect));
});

describe('SES', () => {
  const rows: [string, Parameters<typeof classifySes>[0], Expect][] = [
    ['MessageRejected', { status: 400, code: 'MessageRejected' }, { retryable: false, providerSide: false }],
    ['AccountSuspendedException', { status: 400, code: 'AccountSuspendedException' }, { retryable: false, providerSide: true }],
    ['SendingPausedException', { status: 400, code: 'SendingPausedException' }, { retryable: false, providerSide: true }],
    ['TooManyRequestsException', { status: 429, code: 'TooManyRequestsException', retryAfter: '2' }, { retryable: true, providerSide: true, retryAfterMs: 2000 }],
    ['LimitExceededException (400)', { status: 400, code: 'LimitExceededException' }, { retryable: true, providerSide: true }],
    ['500 InternalFailure', { status: 500, code: 'InternalFailure' }, { retryable: true, providerSide: true }],
    ['503 ServiceUnavailable', { status: 503, code: 'ServiceUnavailable' }, { retryable: true }],
    ['BadRequestException', { status: 400, code: 'BadRequestException' }, { retryable: false, providerSide: false }],
  ];
  for (const [name, input, expect] of rows) it(name, () => check(classifySes(input), expect));
});

describe('SNS', () => {
  const rows: [string, Parameters<typeof classifySns>[0], Expect][] = [
    ['Throttled 429', { status: 429, code: 'Throttled' }, { retryable: true, providerSide: true }],
    ['Throttling 400', { status: 400, code: 'Throttling' }, { retryable: true, providerSide: true }],
    ['InternalError 500', { status: 500, code: 'InternalError' }, { retryable: true, providerSide: true }],
    ['InvalidParameter 400', { status: 400, code: 'InvalidParameter' }, { retryable: false, providerSide: false }],
    ['AuthorizationError 403', { status: 403, code: 'AuthorizationError' }, { retryable: false, providerSide: true }],
  ];
  for (const [name, input, expect] of rows) it(name, () => check(classifySns(input), expect));
});

describe('network and timeouts', () => {
  const err = (message: string, code?: string, name?: string) => Object.assign(new Error(message), code ? { code } : {}, name ? { name } : {});
  const rows: [string, unknown, Expect][] = [
    ['ECONNREFUSED', err('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), { retryable: true, providerSide: true, code: 'ECONNREFUSED', maybeDelivered: undefined }],
    ['ECONNRESET', err('read ECONNRESET', 'ECONNRESET'), { retryable: true, code: 'ECONNRESET' }],
    ['socket hang up named TimeoutError (AWS SDK)', err('socket hang up', 'ECONNRESET', 'TimeoutError'), { retryable: true, code: 'ECONNRESET' }],
    ['socket hang up, no code', err('socket hang up'), { retryable: true, code: 'connection' }],
    ['HTTP/2 session closed (node-apn)', err('client session is either closed or destroyed'), { retryable: true, providerSide: true, code: 'connection' }],
    ['ETIMEDOUT', err('timeout of 100ms exceeded', 'ETIMEDOUT'), { retryable: true, code: 'timeout', maybeDelivered: true }],
    ['cause chain', Object.assign(new Error('wrapped'), { cause: err('x', 'ECONNREFUSED') }), { code: 'ECONNREFUSED' }],
  ];
  for (const [name, input, expect] of rows) it(name, () => check(networkFailure('x', input)!, expect));

  it('does not claim unrelated errors', () => {
    assert.equal(networkFailure('x', new Error('Exactly one of topic, token or condition is required')), undefined);
  });
  it('timeoutFailure is retryable and provider-side', () => {
    check(timeoutFailure('fcm', 100), { retryable: true, providerSide: true, code: 'timeout', maybeDelivered: true });
  });
});

describe('messages carry no personal data', () => {
  it('scrubs emails, phone numbers and tokens from provider text', () => {
    const out = scrub("The 'To' number +14155550100 is not valid for jane.doe@example.com token abcdef0123456789abcdef0123456789");
    assert.ok(!out.includes('4155550100') && !out.includes('jane.doe') && !out.includes('abcdef0123456789'), out);
    assert.ok(scrub('x'.repeat(500)).length <= 200);
    assert.equal(scrub(`device ${'e'.repeat(64)} is gone`), 'device [token] is gone', 'a hex token without a digit');
  });
  it('keeps IPs and plain error names readable', () => {
    assert.equal(scrub('connect ECONNREFUSED 127.0.0.1:4010'), 'connect ECONNREFUSED 127.0.0.1:4010');
    assert.equal(scrub('TooManyRequestsException'), 'TooManyRequestsException');
  });
  it('a classified failure never repeats a phone number from the provider', () => {
    const f = classifyTwilio({ status: 400, code: 21211, detail: "The 'To' number +14155550100 is not a valid phone number." });
    assert.ok(!f.message.includes('4155550100'), f.message);
  });
});
