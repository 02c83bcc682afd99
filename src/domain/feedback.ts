// Pure: what a provider's later word on a delivery (an SES event arriving via SNS, a Twilio status callback) means
// for the delivery's record and for the tenant's suppression list; and how a sent message names its delivery so
// that word can find it again.
import { createHash } from 'node:crypto';
import { scrubText } from './mask.js';

/** Statuses only feedback gives; each is final for the delivery. */
export type FeedbackStatus = 'delivered' | 'bounced' | 'complained' | 'undelivered';

/**
 * How much a status says: a later event never takes back a stronger one (a Send after a Delivery, a Delivery after a
 * Bounce). Event-only feedback (send, delay, open, click, Twilio's sent) is rank 0.
 */
export const FEEDBACK_RANK: Record<FeedbackStatus, number> = { delivered: 1, undelivered: 2, bounced: 2, complained: 3 };

/** Which delivery a sent message belongs to: carried as SES tags or in the Twilio StatusCallback URL. */
export interface DeliveryRef {
  tenant: string;
  nid: string;
  /** Delivery key (the record field is `d:<dk>`). */
  dk: string;
}

export interface FeedbackUpdate {
  provider: 'ses' | 'twilio';
  /** The event, as a metric label: send, delivery, bounce, complaint, reject, rendering_failure, delivery_delay, open, click, or Twilio's status. */
  type: string;
  ref: DeliveryRef;
  status?: FeedbackStatus;
  /** When the provider says it happened (ISO 8601). */
  at: string;
  /** Free of addresses, numbers and tokens. */
  detail?: string;
  providerMessageId?: string;
  /** Addresses to suppress for the tenant: hard bounces and complaints. */
  suppress?: { address: string; reason: 'bounce' | 'complaint' }[];
}

export type Interpretation = { ok: true; update: FeedbackUpdate } | { ok: false; type: string; reason: string };

/** SES tag names (tag values allow only `A-Z a-z 0-9 _ -`: base64url fits, so the delivery key is carried so). */
export const SES_TAG = { nid: 'notification_id', dk: 'delivery_key', tenant: 'tenant' } as const;

export const encodeKey = (dk: string): string => Buffer.from(dk, 'utf8').toString('base64url');
export const decodeKey = (s: string): string | undefined => {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  const dk = Buffer.from(s, 'base64url').toString('utf8');
  return dk.length > 0 && encodeKey(dk) === s ? dk : undefined;
};

/** Query parameters of a Twilio StatusCallback URL naming the delivery. */
export function callbackQuery(ref: DeliveryRef): string {
  return new URLSearchParams({ n: ref.nid, d: encodeKey(ref.dk), t: ref.tenant }).toString();
}

/** The suppression list's member for an address: its SHA-256, so the list holds no address. */
export const suppressionMember = (address: string): string => createHash('sha256').update(address.trim().toLowerCase()).digest('hex');

const SES_TYPES: Record<string, string> = {
  Send: 'send', Delivery: 'delivery', Bounce: 'bounce', Complaint: 'complaint', Reject: 'reject',
  'Rendering Failure': 'rendering_failure', DeliveryDelay: 'delivery_delay', Open: 'open', Click: 'click', Subscription: 'subscription',
};

type Json = Record<string, any>;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? scrubText(v).slice(0, 200) : undefined);
const first = (tags: Json | undefined, name: string): string | undefined => {
  const v = tags?.[name];
  return Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
};
const addresses = (list: unknown): string[] =>
  Array.isArray(list) ? list.map((r) => (r as Json)?.emailAddress).filter((a): a is string => typeof a === 'string') : [];

/** Reads an SES event (event publishing: `eventType`, with the tags the message was sent with). */
export function interpretSesEvent(event: Json): Interpretation {
  if (typeof event.eventType !== 'string') {
    // Identity notifications (`notificationType`) carry no tags: nothing names the delivery.
    return { ok: false, type: typeof event.notificationType === 'string' ? event.notificationType.toLowerCase() : 'unknown', reason: 'not an event-publishing event (no eventType)' };
  }
  const type = SES_TYPES[event.eventType] ?? 'unknown';
  const mail = (event.mail ?? {}) as Json;
  const tags = mail.tags as Json | undefined;
  const nid = first(tags, SES_TAG.nid);
  const dk = decodeKey(first(tags, SES_TAG.dk) ?? '');
  const tenant = first(tags, SES_TAG.tenant);
  if (!nid || !dk || !tenant) return { ok: false, type, reason: 'the message carries no delivery tags' };
  const base = { provider: 'ses' as const, type, ref: { tenant, nid, dk }, ...(typeof mail.messageId === 'string' && { providerMessageId: mail.messageId }) };
  const at = (part: Json | undefined): string => (typeof part?.timestamp === 'string' ? part.timestamp : typeof mail.timestamp === 'string' ? mail.timestamp : new Date(0).toISOString());
  switch (type) {
    case 'delivery':
      return { ok: true, update: { ...base, status: 'delivered', at: at(event.delivery) } };
    case 'bounce': {
      const b = (event.bounce ?? {}) as Json;
      const permanent = b.bounceType === 'Permanent';
      const diagnostic = text((b.bouncedRecipients as Json[] | undefined)?.[0]?.diagnosticCode);
      const detail = [`${b.bounceType ?? 'Undetermined'}/${b.bounceSubType ?? 'General'}`, diagnostic].filter(Boolean).join(': ');
      return {
        ok: true,
        update: {
          ...base, status: 'bounced', at: at(b), detail: text(detail)!,
          ...(permanent && { suppress: addresses(b.bouncedRecipients).map((address) => ({ address, reason: 'bounce' as const })) }),
        },
      };
    }
    case 'complaint': {
      const c = (event.complaint ?? {}) as Json;
      // A recipient telling their provider "not spam" is no complaint to act on.
      const act = c.complaintFeedbackType !== 'not-spam';
      return {
        ok: true,
        update: {
          ...base, status: 'complained', at: at(c), ...(typeof c.complaintFeedbackType === 'string' && { detail: text(c.complaintFeedbackType)! }),
          ...(act && { suppress: addresses(c.complainedRecipients).map((address) => ({ address, reason: 'complaint' as const })) }),
        },
      };
    }
    case 'reject':
      return { ok: true, update: { ...base, status: 'undelivered', at: at(event.reject), detail: text(`rejected: ${event.reject?.reason ?? ''}`)! } };
    case 'rendering_failure':
      return { ok: true, update: { ...base, status: 'undelivered', at: at(event.failure), detail: text(`rendering failed: ${event.failure?.errorMessage ?? ''}`)! } };
    case 'delivery_delay':
      return { ok: true, update: { ...base, at: at(event.deliveryDelay), ...(text(event.deliveryDelay?.delayType) && { detail: text(event.deliveryDelay.delayType)! }) } };
    case 'send':
    case 'open':
    case 'click':
      return { ok: true, update: { ...base, at: at(event[type]) } };
    default:
      return { ok: false, type, reason: `event type ${String(event.eventType).slice(0, 40)} is not used` };
  }
}

/** Reads a Twilio status callback: its form fields and the delivery named in its URL. */
export function interpretTwilioStatus(params: Record<string, string>, query: URLSearchParams, now: number): Interpretation {
  const status = params.MessageStatus ?? params.SmsStatus ?? '';
  const type = /^[a-z_]{1,20}$/.test(status) ? status : 'unknown';
  const nid = query.get('n');
  const dk = decodeKey(query.get('d') ?? '');
  const tenant = query.get('t');
  if (!nid || !dk || !tenant) return { ok: false, type, reason: 'the callback URL names no delivery' };
  const base = {
    provider: 'twilio' as const, type, ref: { tenant, nid, dk }, at: new Date(now).toISOString(),
    ...(params.MessageSid && { providerMessageId: params.MessageSid }),
  };
  const code = params.ErrorCode ? ` ${params.ErrorCode.replace(/\D/g, '').slice(0, 10)}` : '';
  if (type === 'delivered') return { ok: true, update: { ...base, status: 'delivered' } };
  if (type === 'undelivered' || type === 'failed') return { ok: true, update: { ...base, status: 'undelivered', detail: `twilio ${type}${code}` } };
  return { ok: true, update: base };
}
