// Shared domain vocabulary: channels, providers, delivery states and the rendered content each channel sends.

export const CHANNELS = ['push', 'sms', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PROVIDERS = ['apns', 'fcm', 'twilio', 'sns', 'ses'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export type Platform = 'ios' | 'android';
export type Priority = 'high' | 'normal';

/** What a push notification shows. */
export interface PushContent {
  title?: string;
  body: string;
}
/** What an SMS says. */
export interface SmsContent {
  body: string;
}
/** What an email carries. */
export interface EmailContent {
  subject: string;
  html?: string;
  text?: string;
}
export type RenderedContent = PushContent | SmsContent | EmailContent;

export const DELIVERY_STATUSES = [
  'queued',
  'retrying',
  'sent',
  'failed',
  'opted_out',
  'no_address',
  'no_content',
  'deduplicated',
  'coalesced',
  'rate_limited',
  'deferred',
  'cancelled',
  // Later word from the provider (see feedback.ts), and an address a bounce or complaint put on the suppression list.
  'delivered',
  'bounced',
  'complained',
  'undelivered',
  'suppressed',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Statuses after which nothing more happens to a delivery. */
export const TERMINAL_STATUSES: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'failed',
  'opted_out',
  'no_address',
  'no_content',
  'deduplicated',
  'coalesced',
  'rate_limited',
  'cancelled',
  'delivered',
  'bounced',
  'complained',
  'undelivered',
  'suppressed',
]);
