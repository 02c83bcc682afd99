// Twilio Messages API as the fake speaks it: form POST to /2010-04-01/Accounts/<sid>/Messages.json, Basic auth.
import type { FailSpec } from './behavior.js';
import {
  E164, hex32, jsonReply, parseForm, pick, resolveFail, retryAfter,
  type ErrorTable, type HttpProviderRoute, type Parsed, type WireRequest,
} from './wire.js';

const PREFIX = '/2010-04-01/Accounts/';
const SUFFIX = '/Messages.json';
const MAX_BODY_CHARS = 1600;
const HEADERS = ['authorization', 'content-type', 'user-agent'] as const;

const TABLE: ErrorTable = {
  codes: {
    '20003': 401, '20404': 404, '20429': 429, '20500': 500, '20503': 503,
    '21211': 400, '21602': 400, '21603': 400, '21606': 400, '21610': 400, '21614': 400, '21617': 400,
  },
  byStatus: { 400: '21211', 401: '20003', 404: '20404', 429: '20429', 500: '20500', 503: '20503' },
  fallback: { status: 500, code: '20500' },
};

const MESSAGES: Record<string, string> = {
  '20003': 'Authenticate',
  '20429': 'Too Many Requests',
  '20500': 'Internal Server Error',
  '20503': 'Service Unavailable',
  '21211': "Invalid 'To' Phone Number",
  '21602': 'Message body is required.',
  '21603': "A 'From' phone number is required.",
  '21610': 'Attempt to send to unsubscribed recipient',
  '21617': 'The concatenated message body exceeds the 1600 character limit.',
};

function authorized(header: string | undefined, accountSid: string): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  // The username is the account SID, or an API key (SK…) acting for it.
  return !!pass && (user === accountSid || !!user?.startsWith('SK'));
}

function check(f: Record<string, string>): FailSpec | undefined {
  if (!f.To || !E164.test(f.To)) return { code: '21211' };
  if (!f.From && !f.MessagingServiceSid) return { code: '21603' };
  if (!f.Body && !f.MediaUrl && !f.ContentSid) return { code: '21602' };
  if (f.Body && [...f.Body].length > MAX_BODY_CHARS) return { code: '21617' };
  return undefined;
}

export const twilioRoute: HttpProviderRoute = {
  provider: 'twilio',
  match(method, path) {
    if (method !== 'POST' || !path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) return undefined;
    const sid = path.slice(PREFIX.length, path.length - SUFFIX.length);
    return sid && !sid.includes('/') ? [sid] : undefined;
  },
  parse(req: WireRequest, [sid]): Parsed {
    const body = parseForm(req.body);
    const parsed: Parsed = { to: body.To ?? '', headers: pick(req.headers, HEADERS), body };
    parsed.invalid = authorized(req.headers.authorization, sid!) ? check(body) : { code: '20003' };
    return parsed;
  },
  ok(parsed, [sid]) {
    const f = parsed.body as Record<string, string>;
    const messageId = `SM${hex32()}`;
    const now = new Date().toUTCString();
    const reply = {
      account_sid: sid, api_version: '2010-04-01', body: f.Body ?? '', date_created: now, date_updated: now,
      date_sent: null, direction: 'outbound-api', error_code: null, error_message: null, from: f.From ?? null,
      messaging_service_sid: f.MessagingServiceSid ?? null, num_media: '0', num_segments: '1', price: null,
      price_unit: 'USD', sid: messageId, status: f.MessagingServiceSid ? 'accepted' : 'queued', to: f.To,
      uri: `${PREFIX}${sid}/Messages/${messageId}.json`, subresource_uris: { media: `${PREFIX}${sid}/Messages/${messageId}/Media.json` },
    };
    return { reply: jsonReply(201, reply), messageId };
  },
  fail(spec) {
    const f = resolveFail(spec, TABLE, (code) => MESSAGES[code] ?? `Error ${code}`);
    const body = { code: Number(f.code), message: f.message, more_info: `https://www.twilio.com/docs/errors/${f.code}`, status: f.status };
    return { reply: jsonReply(f.status, body, retryAfter(f)), code: f.code };
  },
};
