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
/** Most reservations kept to give back once Redis is back (beyond, they are left to expire). */
const MAX_UNRELEASED = 10_000;

export class NotificationStore {
  /** Small accepts of one turn (single POSTs under load) are written together: one script call, not one per request. */
  private readonly accepts = new Batcher<readonly Accepted[], AcceptResult[]>(async (groups) => {
    const results = await this.write(groups.flat());
    let at = 0;
    return groups.map((g) => results.slice(at, (at += g.length)));
  }, 32); // at most 32 requests of under 16 items: one script stays a few hundred items

  /**
   * Reservations this process could not give back at once (Redis unreachable), by value (unique: it carries its
   * request's random token): their key, when they would have expired anyway, and whether they are given back by now.
   * Kept until then, so that a retry that met one (its SET ran before the release) knows its request has ended.
   */
  private readonly unreleased = new Map<string, { key: string; until: number; released: boolean }>();
  private releaseArmed = false;

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
        keys.index(this.keys.notification(it.meta.tenant, it.id)), this.retentionMs + (it.holdMs ?? 0), JSON.stringify(it.meta), it.payload,
        it.traceparent ?? '', idem ? keys.index(this.keys.idempotency(it.meta.tenant, idem.keyHash)) : '', idem?.done ?? '',
        this.controls.idempotency.ttlMs,
      );
    }
    const write = (conn: Redis) => runScript<(string | [string])[]>(conn, 'accept', [...keys.keys, this.keys.events], args);
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

  /**
   * Gives back a reservation that is still ours (the request it guarded did not get accepted). While Redis is
   * unreachable the caller does not wait: the release is kept and sent again once Redis is back, until the
   * reservation would have expired anyway.
   */
  async release(tenant: string, keyHash: string, value: string): Promise<void> {
    const key = this.keys.idempotency(tenant, keyHash);
    const sent = runScript(this.redis, 'delIfEqual', [key], [value]);
    if (this.redis.status === 'ready') {
      try {
        await sent;
        return;
      } catch (err) {
        if (this.redis.status === 'ready') throw err;
      }
    }
    this.releaseLater(key, value, sent);
  }

  /**
   * True if `value` is a reservation of a request of this process that has ended unaccepted and could not give it
   * back at once (Redis was unreachable): a retry that meets it need not wait for it to expire.
   */
  abandoned(value: string): boolean {
    const u = this.unreleased.get(value);
    return u !== undefined && u.until > Date.now();
  }

  private releaseLater(key: string, value: string, sent: Promise<unknown>): void {
    const now = Date.now();
    // Same lifetime for all, so the oldest come first: drop those that have expired on their own.
    for (const [v, u] of this.unreleased) {
      if (u.until > now) break;
      this.unreleased.delete(v);
    }
    if (this.unreleased.size >= MAX_UNRELEASED) return; // they expire anyway
    const entry = { key, until: now + this.controls.idempotency.inFlightMs, released: false };
    this.unreleased.set(value, entry);
    sent.then(() => (entry.released = true), () => this.releaseWhenBack());
  }

  private releaseWhenBack(): void {
    if (this.releaseArmed) return;
    this.releaseArmed = true;
    this.redis.once('ready', () => {
      this.releaseArmed = false;
      const now = Date.now();
      for (const [value, entry] of this.unreleased) {
        if (entry.until <= now) this.unreleased.delete(value);
        else if (!entry.released) runScript(this.redis, 'delIfEqual', [entry.key], [value]).then(() => (entry.released = true), () => this.releaseWhenBack());
      }
    });
  }

  /**
   * Cancels what of the tenant's notification is not yet handed to a provider (see cancel.lua); a record an older
   * version wrote (not yet moved to its tenant's key) is cancelled where it is.
   */
  async cancel(id: string, tenant: string, now: number): Promise<CancelOutcome> {
    const cancel = (record: string) => runScript<CancelOutcome>(this.redis, 'cancel', [record, this.keys.delayed, this.keys.events], [tenant, now, new Date(now).toISOString()]);
    const outcome = await cancel(this.keys.notification(tenant, id));
    return outcome === 'not_found' ? cancel(this.keys.legacyNotification(id)) : outcome;
  }

  /** The tenant's notification `id`, or null: another tenant's notification of the same id is another notification. */
  async get(id: string, tenant: string): Promise<StoredNotification | null> {
    let hash = await this.redis.hgetall(this.keys.notification(tenant, id));
    // Not there: perhaps a record an older version wrote under the id alone, if it is this tenant's.
    if (!hash[META_FIELD]) hash = await this.redis.hgetall(this.keys.legacyNotification(id));
    const meta = hash[META_FIELD] ? (JSON.parse(hash[META_FIELD]) as NotificationMeta) : undefined;
    if (meta?.tenant !== tenant) return null;
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
      id, meta, deliveries, ...(hash.cancelled && { cancelledAt: Number(hash.cancelled) }),
      ...(np && { notPlanned: JSON.parse(np) as NotPlanned }),
    };
  }
}
