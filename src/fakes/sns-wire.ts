// Amazon SNS Publish (SMS) as the fake speaks it: awsQuery form POST / with Action=Publish, XML replies and errors.
import type { FailSpec } from './behavior.js';
import type { SnsTopics } from './sns-topics.js';
import {
  E164, hex32, parseForm, pick, resolveFail, retryAfter,
  type ErrorTable, type HttpProviderRoute, type Parsed, type WireReply, type WireRequest,
} from './wire.js';

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const HEADERS = ['authorization', 'content-type', 'x-amz-date'] as const;
const MAX_SMS_BYTES = 1600;

// Codes as @aws-sdk/client-sns maps them: Throttled 429, InternalError 500, InvalidParameter 400 (+ generic Throttling).
const TABLE: ErrorTable = {
  codes: {
    InvalidParameter: 400, ParameterValueInvalid: 400, InvalidAction: 400, Throttled: 429, Throttling: 400,
    InternalError: 500, ServiceUnavailable: 503, AuthorizationError: 403, IncompleteSignature: 403, OptedOut: 400,
  },
  byStatus: { 400: 'InvalidParameter', 403: 'IncompleteSignature', 429: 'Throttled', 500: 'InternalError', 503: 'ServiceUnavailable' },
  fallback: { status: 500, code: 'InternalError' },
};

const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const xml = (status: number, body: string, headers: Record<string, string> = {}): WireReply =>
  ({ status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': hex32(), ...headers }, body });

function check(f: Record<string, string>): FailSpec | undefined {
  if (f.Action !== 'Publish') return { code: 'InvalidAction', message: `The action ${f.Action ?? ''} is not valid for this endpoint.` };
  if (!f.PhoneNumber && !f.TopicArn && !f.TargetArn) return { code: 'InvalidParameter', message: 'Invalid parameter: PhoneNumber, TopicArn or TargetArn is required' };
  if (f.PhoneNumber !== undefined && !E164.test(f.PhoneNumber)) return { code: 'InvalidParameter', message: 'Invalid parameter: PhoneNumber Reason: not E.164' };
  if (!f.Message) return { code: 'InvalidParameter', message: 'Invalid parameter: Empty message' };
  if (f.PhoneNumber && Buffer.byteLength(f.Message) > MAX_SMS_BYTES) return { code: 'InvalidParameter', message: 'Invalid parameter: Message too long' };
  return undefined;
}

/**
 * SNS API actions on topics that are not messages: ConfirmSubscription (what an endpoint calls with the Token of a
 * SubscriptionConfirmation). Undefined for everything else (Publish is the route's own).
 */
export function snsTopicAction(f: Record<string, string>, signed: boolean, topics: SnsTopics): WireReply | undefined {
  if (f.Action !== 'ConfirmSubscription') return undefined;
  const error = (code: string, message: string, status = 400) => xml(status, `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code>` +
    `<Message>${esc(message)}</Message></Error><RequestId>${hex32()}</RequestId></ErrorResponse>`);
  if (!signed) return error('IncompleteSignature', 'Request must be signed', 403);
  if (!f.TopicArn || !f.Token) return error('InvalidParameter', 'Invalid parameter: TopicArn and Token are required');
  const arn = topics.confirm(f.TopicArn, f.Token);
  if (!arn) return error('InvalidParameter', 'Invalid token');
  return xml(200, `<ConfirmSubscriptionResponse xmlns="${XMLNS}"><ConfirmSubscriptionResult><SubscriptionArn>${esc(arn)}</SubscriptionArn>` +
    `</ConfirmSubscriptionResult><ResponseMetadata><RequestId>${hex32()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>`);
}

export const snsRoute: HttpProviderRoute = {
  provider: 'sns',
  match(method, path) {
    return method === 'POST' && path === '/' ? [] : undefined;
  },
  parse(req: WireRequest): Parsed {
    const body = parseForm(req.body);
    const parsed: Parsed = { to: body.PhoneNumber ?? body.TopicArn ?? body.TargetArn ?? '', headers: pick(req.headers, HEADERS), body };
    const signed = String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ');
    parsed.invalid = signed ? check(body) : { code: 'IncompleteSignature', message: 'Request must be signed' };
    return parsed;
  },
  ok() {
    const id = hex32();
    const messageId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
    const body = `<PublishResponse xmlns="${XMLNS}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
      `<ResponseMetadata><RequestId>${hex32()}</RequestId></ResponseMetadata></PublishResponse>`;
    return { reply: xml(200, body), messageId };
  },
  fail(spec) {
    const f = resolveFail(spec, TABLE);
    const type = f.status >= 500 ? 'Receiver' : 'Sender';
    const body = `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${esc(f.code)}</Code>` +
      `<Message>${esc(f.message)}</Message></Error><RequestId>${hex32()}</RequestId></ErrorResponse>`;
    return { reply: xml(f.status, body, retryAfter(f)), code: f.code };
  },
};
