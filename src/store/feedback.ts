// Provider feedback in Redis: applying an event to its delivery (once) and the tenants' suppression lists.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { FEEDBACK_RANK, suppressionMember, type FeedbackUpdate } from '../domain/feedback.js';
import type { DeliveryRecord } from '../domain/record.js';
import type { Keys } from '../streams/keys.js';
import { runScript } from '../streams/scripts.js';

export type ApplyResult = 'applied' | 'kept' | 'duplicate' | 'unknown';

export class FeedbackStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** How long an event id is remembered, so a redelivered event is not applied twice. */
    private readonly markerTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Applies the update (see feedback.lua); `eventId` names this piece of feedback at the provider (SNS MessageId,
   * Twilio MessageSid + status). Resolves with the result and, when the delivery is known, its stored traceparent.
   */
  async apply(u: FeedbackUpdate, eventId: string): Promise<{ result: ApplyResult; traceparent?: string }> {
    const feedback = {
      event: u.type, at: u.at, ...(u.status && { status: u.status }), ...(u.detail && { detail: u.detail }),
      ...(u.providerMessageId && { provider_message_id: u.providerMessageId }),
      // The delivery shows this feedback from now on: its updated_at moves (the record's own stays the send's).
      received_at: new Date(this.now()).toISOString(),
    };
    const rank = u.status ? FEEDBACK_RANK[u.status] : 0;
    const members = [...new Set((u.suppress ?? []).map((s) => suppressionMember(s.address)))];
    const entry = JSON.stringify({ reason: u.suppress?.[0]?.reason ?? '', at: u.at, notification_id: u.ref.nid });
    const marker = this.keys.feedbackSeen(createHash('sha1').update(`${u.provider}\n${eventId}`).digest('hex'));
    const [result, rec] = await runScript<[ApplyResult, string?]>(
      this.redis, 'feedback', [this.keys.notification(u.ref.tenant, u.ref.nid), this.keys.suppression(u.ref.tenant), marker, this.keys.events],
      [u.ref.tenant, u.ref.dk, JSON.stringify(feedback), rank, this.markerTtlMs, entry, ...members],
    );
    const tp = rec ? (JSON.parse(rec) as DeliveryRecord).tp : undefined;
    return { result, ...(tp && { traceparent: tp }) };
  }
}

/** A tenant's suppressed addresses: hard bounces and complaints; email to them is not sent. */
export class SuppressionList {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async has(tenant: string, address: string): Promise<boolean> {
    return (await this.redis.hexists(this.keys.suppression(tenant), suppressionMember(address))) === 1;
  }
}
