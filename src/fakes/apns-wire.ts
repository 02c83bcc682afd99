// APNs request checks as Apple documents them: provider JWT, headers, device token, payload size; reason codes.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http2';
import type { FailSpec } from './behavior.js';
import type { ErrorTable } from './wire.js';

export const MAX_PAYLOAD = 4096;
const TOKEN = /^[0-9a-fA-F]{64,200}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PUSH_TYPES = new Set(['alert', 'background', 'voip', 'complication', 'fileprovider', 'mdm', 'location', 'liveactivity', 'pushtotalk', 'widgets']);
const JWT_MAX_AGE_S = 3600;

export const APNS_ERRORS: ErrorTable = {
  codes: {
    BadCollapseId: 400, BadDeviceToken: 400, BadExpirationDate: 400, BadMessageId: 400, BadPriority: 400, BadTopic: 400,
    DeviceTokenNotForTopic: 400, DuplicateHeaders: 400, IdleTimeout: 400, InvalidPushType: 400, MissingDeviceToken: 400,
    MissingTopic: 400, PayloadEmpty: 400, TopicDisallowed: 400, BadCertificate: 403, BadCertificateEnvironment: 403,
    ExpiredProviderToken: 403, Forbidden: 403, InvalidProviderToken: 403, MissingProviderToken: 403, BadPath: 404,
    MethodNotAllowed: 405, ExpiredToken: 410, Unregistered: 410, PayloadTooLarge: 413, TooManyProviderTokenUpdates: 429,
    TooManyRequests: 429, InternalServerError: 500, ServiceUnavailable: 503, Shutdown: 503,
  },
  byStatus: { 400: 'BadDeviceToken', 403: 'InvalidProviderToken', 404: 'BadPath', 405: 'MethodNotAllowed', 410: 'Unregistered', 413: 'PayloadTooLarge', 429: 'TooManyRequests', 500: 'InternalServerError', 503: 'ServiceUnavailable' },
  fallback: { status: 500, code: 'InternalServerError' },
};

/** Checks provider JWTs (ES256, kid, iss, age); remembers good tokens, since a client reuses one for up to an hour. */
export class JwtChecker {
  private readonly key?: KeyObject;
  private readonly good = new Map<string, number>();

  constructor(private readonly keyId: string, private readonly teamId: string, publicKeyPem?: string) {
    if (publicKeyPem) this.key = createPublicKey(publicKeyPem);
  }

  /** Undefined when the token is acceptable, else the APNs reason. */
  check(authorization: string | undefined): string | undefined {
    if (!authorization) return 'MissingProviderToken';
    const m = /^bearer (.+)$/i.exec(authorization);
    if (!m) return 'InvalidProviderToken';
    const jwt = m[1]!;
    const now = Math.floor(Date.now() / 1000);
    const known = this.good.get(jwt);
    if (known !== undefined) return now - known > JWT_MAX_AGE_S ? 'ExpiredProviderToken' : undefined;
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) return 'InvalidProviderToken';
    let header: any, payload: any;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return 'InvalidProviderToken';
    }
    if (header.alg !== 'ES256' || header.kid !== this.keyId || payload.iss !== this.teamId || typeof payload.iat !== 'number') return 'InvalidProviderToken';
    if (this.key && !verify('sha256', Buffer.from(`${h}.${p}`), { key: this.key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) {
      return 'InvalidProviderToken';
    }
    if (now - payload.iat > JWT_MAX_AGE_S) return 'ExpiredProviderToken';
    if (this.good.size >= 64) this.good.clear();
    this.good.set(jwt, payload.iat);
    return undefined;
  }
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** The error APNs would answer for these headers and token, before looking at the payload. */
export function checkHeaders(headers: IncomingHttpHeaders, token: string): FailSpec | undefined {
  if (!one(headers['apns-topic'])) return { code: 'MissingTopic' };
  if (!token) return { code: 'MissingDeviceToken' };
  if (!TOKEN.test(token)) return { code: 'BadDeviceToken' };
  const id = one(headers['apns-id']);
  if (id !== undefined && !UUID.test(id)) return { code: 'BadMessageId' };
  const priority = one(headers['apns-priority']);
  if (priority !== undefined && !['1', '5', '10'].includes(priority)) return { code: 'BadPriority' };
  const pushType = one(headers['apns-push-type']);
  if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return { code: 'InvalidPushType' };
  const collapse = one(headers['apns-collapse-id']);
  if (collapse !== undefined && Buffer.byteLength(collapse) > 64) return { code: 'BadCollapseId' };
  const exp = one(headers['apns-expiration']);
  if (exp !== undefined && !/^\d+$/.test(exp)) return { code: 'BadExpirationDate' };
  return undefined;
}

/** The payload as JSON, or the error APNs answers for it. */
export function checkPayload(bytes: number, body: Buffer): { payload: Record<string, any>; invalid?: FailSpec } {
  if (bytes > MAX_PAYLOAD) return { payload: {}, invalid: { code: 'PayloadTooLarge' } };
  if (bytes === 0) return { payload: {}, invalid: { code: 'PayloadEmpty' } };
  try {
    const payload: unknown = JSON.parse(body.toString('utf8'));
    if (payload && typeof payload === 'object' && !Array.isArray(payload)) return { payload: payload as Record<string, any> };
  } catch {
    // fall through: APNs has no dedicated reason for malformed JSON; it answers 400 BadPayload-like errors.
  }
  return { payload: {}, invalid: { status: 400, code: 'PayloadEmpty', message: 'payload is not a JSON object' } };
}
