// The seam between channel actors and provider SDKs: one adapter per provider, one message per send.
import type { Channel, EmailContent, Priority, ProviderName, PushContent, SmsContent } from '../domain/types.js';

interface BaseMessage {
  /** Stable id of this delivery (notification id + delivery key); used as apns-id / idempotency hint. */
  deliveryId: string;
  /** Notification id, for logs and provider tags. */
  notificationId: string;
  /** Delivery key: with the notification id it names the delivery, so provider feedback can find it. */
  deliveryKey?: string;
  /** Tenant it is sent for (feedback finds the delivery with it; the sandbox lists what its fakes received per tenant). */
  tenant?: string;
  priority: Priority;
  collapseKey?: string;
  /** Custom data for the app (push) or tags (email). Values are strings. */
  data?: Record<string, string>;
}
export interface PushMessage extends BaseMessage {
  channel: 'push';
  /** Device token. */
  to: string;
  content: PushContent;
}
export interface SmsMessage extends BaseMessage {
  channel: 'sms';
  /** E.164 phone number. */
  to: string;
  content: SmsContent;
}
export interface EmailMessage extends BaseMessage {
  channel: 'email';
  /** Email address. */
  to: string;
  content: EmailContent;
}
export type OutboundMessage = PushMessage | SmsMessage | EmailMessage;

/** A send that the provider accepted. */
export interface SendOk {
  ok: true;
  providerMessageId: string;
}
/** A send that did not go through, already classified. */
export interface SendFailure {
  ok: false;
  /** true: try again later (429, 5xx, timeout, connection); false: never retry this message. */
  retryable: boolean;
  /** Provider's own error code or reason, e.g. "BadDeviceToken", "UNREGISTERED", "21211", "MessageRejected", "timeout". */
  code: string;
  /** Human-readable, free of personal data. */
  message: string;
  /** HTTP status if there was one. */
  status?: number;
  /** From Retry-After, when the provider said when to come back. */
  retryAfterMs?: number;
  /** The device token is dead (APNs 410 Unregistered, FCM UNREGISTERED). `at` is APNs' timestamp (ms) when given. */
  tokenInvalid?: { at?: number };
  /** The provider asked us to slow down (429, quota, throttling): it does not cost the message an attempt. */
  throttled?: boolean;
  /** The failure is the provider's side (5xx, 429, timeout, connection, account-level refusal): a reason to fail over. */
  providerSide: boolean;
  /**
   * No answer came (timeout): the provider may have delivered it. Such a failure is retried later rather than failed over
   * at once, so a message that did arrive is not sent a second time through another provider right away.
   */
  maybeDelivered?: boolean;
  /**
   * Set when the send timeout passed while the request is still open: its answer, whenever it comes (within the SDK's
   * own bound). That answer, not this failure, is the attempt's outcome: sending again before it could duplicate.
   */
  late?: Promise<SendResult>;
  /** Refused here, before any provider call (this process's own rate limit or pause): not a provider error. */
  local?: boolean;
  /** Not sent: the address is on the tenant's suppression list (an earlier hard bounce or complaint). */
  suppressed?: boolean;
}
export type SendResult = SendOk | SendFailure;

/** Sends messages of one channel through one provider's real SDK. */
export interface ProviderAdapter {
  readonly name: ProviderName;
  readonly channel: Channel;
  /** Never throws for a provider answer: every outcome is a SendResult. */
  send(message: OutboundMessage): Promise<SendResult>;
  close(): Promise<void>;
}
