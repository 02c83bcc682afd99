// Accepting notifications into the ingest stream (with their Idempotency-Keys), cancelling them, and reading their
// records back.
import type { Redis } from 'ioredis';
import { DEFAULT_CONTROLS, type Controls } from '../domain/controls.js';
import type { Keys } from '../streams/keys.js';
import { KeyList, runScript } from '../streams/scripts.js';
import type { DurableWrites } from '../streams/durable-writes.js';
import { Batcher } from '../actors/batcher.js';
import {
  DELIVERY_FIELD_PREFIX, FEEDBACK_FIELD_PREFIX, META_FIELD, NOT_PLANNED_FIELD, type DeliveryFeedback, type DeliveryRecord, type NotificationMeta, type NotPlanned,
} from '../domain/record.js';

export interface Accepted {
  id: string;
  meta: NotificationMeta;
  /** The ingest entry's payload (JSON). */
  payload: string;
  traceparent?: string;
  /** How long it is held before it is sent (send_at): its record lives that much longer. */
  holdMs?: number;
  /** The Idempotency-Key (hash) this acceptance completes, and the value it completes it with. */
  idempotency?: { keyHash: string; done: string };
}

/** The ingest entry id, or the completion of the request that completed the same Idempotency-Key first. */
export type AcceptResult = { entryId: string } | { completed: string };

export type CancelOutcome = 'not_found' | 'already' | 'not_cancellable' | 'cancelled';

export interface StoredNotification {
  id: string;
  meta: NotificationMeta;
  /** Each delivery as recorded, its status replaced by the provider's later word when there is one. */
  deliveries: (DeliveryRecord & { key: string; feedback?: DeliveryFeedback })[];
  cancelledAt?: number;
  notPlanned?: NotPlanned;
}

/** Requests accepting fewer items than this share one script call with the other requests of their event-loop turn. */
const SHARED_ACCEPT_MAX = 16;

export class NotificationStore {
  /** Small accepts of one turn (single POSTs under load) are written together: one script call, not one per request. */
  private readonly accepts = new Batcher<readonly Accepted[], AcceptResult[]>(async (groups) => {
    const results = await this.write(groups.flat());
    let at = 0;
    return groups.map((g) => results.slice(at, (at += g.length)));
  }, 32); // at most 32 requests of under 16 items: one script stays a few hundred items

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly retentionMs: number,
    /** The ingress's settings for Idempotency-Key and send_at. */
    readonly controls: Controls = DEFAULT_CONTROLS,
    /** Strict mode: accepting waits until the write is fsynced (or fails). */
    private readonly durable?: DurableWrites,
  ) {}

  /**
   * Writes records and ingest entries for all items in one atomic script, completing their Idempotency-Keys in the
   * same step; resolves once Redis has them.
   */
  async accept(items: readonly Accepted[]): Promise<AcceptResult[]> {
    if (items.length === 0) return [];
    return items.length < SHARED_ACCEPT_MAX ? this.accepts.add(items) : this.write(items);
  }

  private async write(items: readonly Accepted[]): Promise<AcceptResult[]> {
    const keys = new KeyList([this.keys.ingest]);
    const args: (string | number)[] = [items.length];
    for (const it of items) {
      const idem = it.idempotency;
      args.push(
        keys.index(this.keys.notification(it.id)), this.retentionMs + (it.holdMs ?? 0), JSON.stringify(it.meta), it.payload,
        it.traceparent ?? '', idem ? keys.index(this.keys.idempotency(it.meta.tenant, idem.keyHash)) : '', idem?.done ?? '',
        this.controls.idempotency.ttlMs,
      );
    }
    const write = (conn: Redis) => runScript<(string | [string])[]>(conn, 'accept', keys.keys, args);
    const replies = this.durable ? await this.durable.run(write) : await write(this.redis);
    return replies.map((r) => (typeof r === 'string' ? { entryId: r } : { completed: r[0] }));
  }

  /**
   * Reserves Idempotency-Keys (SET NX GET: one atomic step each, pipelined); per key, null if this call reserved it,
   * else what the key already held.
   */
  async reserve(tenant: string, claims: readonly { keyHash: string; value: string }[]): Promise<(string | null)[]> {
    if (claims.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const c of claims) {
      pipe.call('SET', this.keys.idempotency(tenant, c.keyHash), c.value, 'PX', this.controls.idempotency.inFlightMs, 'NX', 'GET');
    }
    return ((await pipe.exec()) ?? []).map(([err, held]) => {
      if (err) throw err;
      return (held as string | null) ?? null;
    });
  }

  /** Gives back a reservation that is still ours (the request it guarded did not get accepted). */
  async release(tenant: string, keyHash: string, value: string): Promise<void> {
    await runScript(this.redis, 'delIfEqual', [this.keys.idempotency(tenant, keyHash)], [value]);
  }

  /** Cancels what of a notification is not yet handed to a provider (see cancel.lua). */
  cancel(id: string, tenant: string, now: number): Promise<CancelOutcome> {
    return runScript<CancelOutcome>(this.redis, 'cancel', [this.keys.notification(id), this.keys.delayed], [tenant, now, new Date(now).toISOString()]);
  }

  async get(id: string): Promise<StoredNotification | null> {
    const hash = await this.redis.hgetall(this.keys.notification(id));
    const meta = hash[META_FIELD];
    if (!meta) return null;
    const deliveries: StoredNotification['deliveries'] = [];
    for (const [field, value] of Object.entries(hash)) {
      if (field.startsWith(DELIVERY_FIELD_PREFIX)) {
        const key = field.slice(DELIVERY_FIELD_PREFIX.length);
        const fb = hash[FEEDBACK_FIELD_PREFIX + key];
        const feedback = fb ? (JSON.parse(fb) as DeliveryFeedback) : undefined;
        const rec = JSON.parse(value) as DeliveryRecord;
        deliveries.push({ key, ...rec, ...(feedback?.status && { status: feedback.status }), ...(feedback && { feedback }) });
      }
    }
    deliveries.sort((a, b) => a.key.localeCompare(b.key));
    const np = hash[NOT_PLANNED_FIELD];
    return {
      id, meta: JSON.parse(meta) as NotificationMeta, deliveries, ...(hash.cancelled && { cancelledAt: Number(hash.cancelled) }),
      ...(np && { notPlanned: JSON.parse(np) as NotPlanned }),
    };
  }
}
