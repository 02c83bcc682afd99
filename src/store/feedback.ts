// Provider feedback in Redis: applying an event to its delivery (once) and the tenants' suppression lists; and the
// status events written from JS rather than by a record's script (engagement, erasure, feedback only history can take).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { FEEDBACK_RANK, suppressionMember, type DeliveryRef, type FeedbackUpdate } from '../domain/feedback.js';
import type { DeliveryFeedback, DeliveryRecord } from '../domain/record.js';
import { eventFields, type NewEvent } from '../history/events.js';
import type { Keys } from '../streams/keys.js';
import { runScript } from '../streams/scripts.js';

/** `archived`: the Redis record was gone, and the feedback went to the history instead (see `late`). */
export type ApplyResult = 'applied' | 'kept' | 'duplicate' | 'unknown' | 'archived';

/**
 * Feedback for a delivery whose Redis record is gone (expired past the hot retention): true if it was handed to the
 * history (the delivery is there), false if nothing knows the delivery.
 */
export type LateFeedback = (ref: DeliveryRef, feedback: DeliveryFeedback) => Promise<boolean>;

/** Appends to the status event stream (src/history/events.ts) what no record script writes. */
export class StatusEvents {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The entry id. */
  async append(ev: NewEvent): Promise<string> {
    return (await this.redis.xadd(this.keys.events, '*', ...eventFields(ev)))!;
  }
}

export class FeedbackStore {
  readonly events: StatusEvents;
  /** Set when the service keeps history (createApp sets it): where feedback for a record past its retention goes. */
  late: LateFeedback | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** How long an event id is remembered, so a redelivered event is not applied twice. */
    private readonly markerTtlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.events = new StatusEvents(redis, keys);
  }

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
    if (result === 'unknown' && this.late) return { result: await this.lateApply(u, { ...feedback, rank }, marker) };
    const tp = rec ? (JSON.parse(rec) as DeliveryRecord).tp : undefined;
    return { result, ...(tp && { traceparent: tp }) };
  }

  private async lateApply(u: FeedbackUpdate, feedback: DeliveryFeedback, marker: string): Promise<ApplyResult> {
    try {
      return (await this.late!(u.ref, feedback)) ? 'archived' : 'unknown';
    } catch (err) {
      // feedback.lua marked the event seen: unmark it, so the provider's retry (after the 5xx this becomes) is not a duplicate.
      await this.redis.del(marker).catch(() => undefined);
      throw err;
    }
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
