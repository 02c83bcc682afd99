// Amazon SES v2 SendEmail as the fake speaks it: JSON POST /v2/email/outbound-emails, errors in x-amzn-errortype.
import type { FailSpec } from './behavior.js';
import {
  EMAIL, hex32, jsonReply, parseJson, pick, resolveFail, retryAfter,
  type ErrorTable, type HttpProviderRoute, type Parsed, type WireRequest,
} from './wire.js';

const PATH = '/v2/email/outbound-emails';
const HEADERS = ['authorization', 'content-type', 'x-amz-date', 'amz-sdk-invocation-id', 'amz-sdk-request'] as const;

const TABLE: ErrorTable = {
  codes: {
    MessageRejected: 400, AccountSuspendedException: 400, SendingPausedException: 400,
    MailFromDomainNotVerifiedException: 400, BadRequestException: 400, NotFoundException: 404,
    TooManyRequestsException: 429, LimitExceededException: 400, InternalFailure: 500, ServiceUnavailable: 503,
    MissingAuthenticationTokenException: 403,
  },
  byStatus: { 400: 'BadRequestException', 403: 'MissingAuthenticationTokenException', 404: 'NotFoundException', 429: 'TooManyRequestsException', 500: 'InternalFailure', 503: 'ServiceUnavailable' },
  fallback: { status: 500, code: 'InternalFailure' },
};

function check(b: Record<string, any>): FailSpec | undefined {
  const bad = (message: string): FailSpec => ({ code: 'BadRequestException', message });
  if (typeof b.FromEmailAddress !== 'string' || !EMAIL.test(b.FromEmailAddress.replace(/^.*<(.*)>$/, '$1'))) return bad('Missing or invalid FromEmailAddress.');
  const to = b.Destination?.ToAddresses;
  if (!Array.isArray(to) || to.length === 0 || !to.every((a) => typeof a === 'string' && EMAIL.test(a))) return bad('Missing or invalid Destination.');
  const c = b.Content;
  if (!c || (!c.Simple && !c.Raw && !c.Template)) return bad('Content is required.');
  if (c.Simple && (typeof c.Simple.Subject?.Data !== 'string' || (!c.Simple.Body?.Text && !c.Simple.Body?.Html))) return bad('Simple content needs Subject and Body.');
  return undefined;
}

export const sesRoute: HttpProviderRoute = {
  provider: 'ses',
  match(method, path) {
    return method === 'POST' && path === PATH ? [] : undefined;
  },
  parse(req: WireRequest): Parsed {
    const body = parseJson(req.body) ?? {};
    const to = Array.isArray(body.Destination?.ToAddresses) ? body.Destination.ToAddresses.join(',') : '';
    const parsed: Parsed = { to, headers: pick(req.headers, HEADERS), body };
    // The fake does not verify SigV4, only that the request was signed at all.
    const signed = String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ');
    parsed.invalid = signed ? check(body) : { code: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
    return parsed;
  },
  ok() {
    const id = hex32();
    const messageId = `0100${id.slice(0, 12)}-${id.slice(12, 20)}-${id.slice(20)}-000000`;
    return { reply: jsonReply(200, { MessageId: messageId }, { 'x-amzn-requestid': hex32() }), messageId };
  },
  fail(spec) {
    const f = resolveFail(spec, TABLE);
    const headers = { 'x-amzn-errortype': f.code, 'x-amzn-requestid': hex32(), ...retryAfter(f) };
    return { reply: jsonReply(f.status, { message: f.message }, headers), code: f.code };
  },
};
