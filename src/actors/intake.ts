// The intake: reads the ingest stream, dead-letters entries that cannot be used, holds scheduled ones until their
// time, and hands each recipient (or a held delivery, or a window's end) to its user's actor; acknowledges an entry
// only once every recipient's part is committed.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Controls } from '../domain/controls.js';
import { parseEntry, type ParsedEntry } from '../domain/entry.js';
import { ingestDeadMark, keyedMark } from '../domain/dead-mark.js';
import { namedTenant, orphanOwner } from '../domain/dead-letter.js';
import { delayedMember, parseReentry } from '../domain/reentry.js';
import { isDue } from '../domain/schedule.js';
import { INTAKE_GROUP, type Keys, type Lane } from '../streams/index.js';
import { StreamConsumer, type Entry } from '../streams/consumer.js';
import type { RenderPool } from '../render/render-pool.js';
import { ActorSystem } from './actor-system.js';
import { Batcher } from './batcher.js';
import { FairQueue } from './fair-queue.js';
import { createParker, createUserActorIO, type Park } from './intake-io.js';
import { handleFlush, handleRecheck } from './reentry.js';
import { handleUserMessage, type ActorMessage, type UserActorIO } from './user-actor.js';
import type { UnitOutcome } from './commit-unit.js';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Metrics } from '../telemetry/metrics.js';
import { contextOf, recordError, startSpan } from '../telemetry/tracing.js';

export interface IntakeOptions {
  consumer: string;
  batch: number;
  maxInflight: number;
  /** Recipients (actor messages) being planned at once; more wait, served round-robin between tenants. */
  maxRecipients?: number;
  /**
   * Deliveries of a notification with at least this many recipients, or of a tenant with this many recipients waiting
   * here, go to the lanes' bulk streams, which are read beside the lanes (0: never).
   */
  bulkThreshold?: number;
  blockMs: number;
  claimIdleMs: number;
  maxDeliveries: number;
  maxHandleMs: number;
  retentionMs: number;
  /** Tenants an entry may name. */
  tenants: ReadonlySet<string>;
  controls: Controls;
  /** Lanes with a configured provider (undefined: all). */
  lanes?: ReadonlySet<Lane>;
}

export class Intake {
  readonly actors: ActorSystem<ActorMessage>;
  /** Recipients waiting for a planning slot, one queue per tenant: a tenant's burst does not hold the others back. */
  readonly fair: FairQueue<{ key: string; msg: ActorMessage }>;
  private readonly consumer: StreamConsumer;
  /** Entries with several recipients: how many are still running, and whether one failed. */
  private readonly shared = new Map<string, { remaining: number; failed: boolean }>();
  private readonly io: UserActorIO;
  /** The same IO, committing deliveries to the bulk lanes; used for the messages in `bulk`. */
  private readonly bulkIO: UserActorIO;
  private readonly bulk = new WeakSet<ActorMessage>();
  private readonly acks: Batcher<string, void>;
  private readonly park: (item: Park) => Promise<boolean>;

  constructor(
    redis: Redis,
    blocking: Redis,
    private readonly keys: Keys,
    render: RenderPool,
    private readonly opts: IntakeOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.consumer = new StreamConsumer(redis, blocking, {
      stream: keys.ingest, group: INTAKE_GROUP, consumer: opts.consumer, count: opts.batch, blockMs: opts.blockMs,
      maxInflight: opts.maxInflight, claimIdleMs: opts.claimIdleMs,
      maxDeliveries: opts.maxDeliveries, maxHandleMs: opts.maxHandleMs,
      dead: { stream: keys.dead, events: keys.events, kind: 'intake', mark: (e) => keyedMark(ingestDeadMark(e.id, e.fields), keys.notification) },
    }, this.onEntries, log);
    this.actors = new ActorSystem<ActorMessage>(
      (_key, msg) => this.receive(msg),
      (err, key) => log.error({ err, actor: key }, 'user actor failed'),
    );
    this.fair = new FairQueue(opts.maxRecipients ?? opts.maxInflight, ({ key, msg }) => this.actors.tell(key, msg));
    this.io = createUserActorIO(redis, keys, render, opts, now);
    const io = this.io;
    this.bulkIO = { ...io, commit: (unit) => io.commit({ ...unit, tasks: unit.tasks.map((t) => ({ ...t, bulk: true })) }) };
    this.park = createParker(redis, keys);
    this.acks = new Batcher(async (ids: string[]) => {
      await redis.xack(keys.ingest, INTAKE_GROUP, ...ids);
      return ids.map(() => undefined);
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  /** Stops reading and waits (up to `timeoutMs`) for the entries in hand; returns how many were left pending. */
  async stop(timeoutMs: number): Promise<number> {
    await this.consumer.stop();
    return this.consumer.drained(timeoutMs);
  }

  get inflight(): number {
    return this.consumer.inflightCount;
  }

  private readonly onEntries = (entries: Entry[]): void => {
    for (const e of entries) {
      try {
        this.route(e);
      } catch (err) {
        // One entry's fault stays its own: it is set aside, and neither it nor the entries beside it stay in hand.
        this.log.error({ err, entry: e.id }, 'ingest entry could not be handled');
        void this.deadLetter(e, 'invalid_entry', `the entry could not be handled: ${(err as Error).message}`);
      }
    }
  };

  /** Hands one entry on (to its users' actors, the delayed set, or the dead-letter stream). */
  private route(e: Entry): void {
    const back = parseReentry(e.fields);
    if (back) {
      // Held work coming back goes through its user's actor, behind that user's other messages.
      if (!back.ok) void this.deadLetter(e, back.reason, back.error);
      else if (back.kind === 'recheck') this.tell(back.tenant, back.userId, { kind: 'recheck', entryId: e.id, sole: true, held: back.held });
      else this.tell(back.tenant, back.userId, { kind: 'flush', entryId: e.id, sole: true, flush: back.flush });
      return;
    }
    const parsed = parseEntry(e.id, e.fields, this.opts.tenants);
    this.metrics.intakeEntries.inc(parsed.ok ? { result: 'read' } : { result: 'dead_lettered', reason: parsed.reason });
    if (!parsed.ok) {
      void this.deadLetter(e, parsed.reason, parsed.error);
      return;
    }
    if (parsed.n.send_at !== undefined && !isDue(Date.parse(parsed.n.send_at), this.now())) {
      void this.hold(e, parsed);
      return;
    }
    const sole = parsed.recipients.length === 1;
    if (!sole) this.shared.set(e.id, { remaining: parsed.recipients.length, failed: false });
    const threshold = this.opts.bulkThreshold ?? 0;
    const bulk = threshold > 0 && (parsed.recipients.length >= threshold || this.fair.waitingOf(parsed.n.tenant) >= threshold);
    for (const userId of parsed.recipients) {
      const msg: ActorMessage = {
        kind: 'plan', entryId: e.id, nid: parsed.nid, n: parsed.n, userId, recipients: parsed.recipients.length,
        acceptedAt: parsed.acceptedAt, sole, ...(parsed.traceparent && { traceparent: parsed.traceparent }),
      };
      if (bulk) this.bulk.add(msg);
      this.tell(parsed.n.tenant, userId, msg);
    }
  }

  /** Queues a message for a user's actor behind its tenant's other waiting work (see FairQueue). */
  private tell(tenant: string, userId: string, msg: ActorMessage): void {
    this.fair.push(tenant, { key: actorKey(tenant, userId), msg });
  }

  /**
   * Parks a notification whose send_at is ahead in the delayed set, to come back into this stream at its time
   * (under the same id, so the record and a cancel follow it). Scheduled work lives in Redis: it survives restarts.
   */
  private async hold(e: Entry, parsed: Extract<ParsedEntry, { ok: true }>): Promise<void> {
    const { n, nid } = parsed;
    const due = Date.parse(n.send_at!);
    const now = this.now();
    if (due - now > this.opts.controls.scheduleHorizonMs) return this.deadLetter(e, 'invalid_entry', 'send_at is beyond the scheduling horizon');
    const payload = JSON.stringify({ ...n, id: nid, accepted_at: parsed.acceptedAt });
    const meta = {
      tenant: n.tenant, created_at: parsed.acceptedAt, recipients: parsed.recipients.length, send_at: due,
      ...(n.event_id && { event_id: n.event_id }), ...(n.category && { category: n.category }), ...(n.collapse_key && { collapse_key: n.collapse_key }),
      ...(n.template && { template: n.template }),
    };
    const span = startSpan('hold until send_at', contextOf(parsed.traceparent), { attributes: { 'notify.notification_id': nid, 'notify.send_at': n.send_at! } });
    try {
      await this.park({
        tenant: n.tenant, nid, meta: JSON.stringify(meta), ttlMs: this.opts.retentionMs + (due - now), due, entryId: e.id,
        // The traceparent comes back with the entry, so the notification stays one trace across the wait.
        member: delayedMember(this.keys.ingest, 'payload', payload, ...(parsed.traceparent ? ['traceparent', parsed.traceparent] : [])),
      });
    } catch (err) {
      this.log.warn({ err, entry: e.id }, 'holding a scheduled notification failed; the entry will be claimed again');
    } finally {
      span.end();
      this.consumer.release(e.id);
    }
  }

  private async receive(msg: ActorMessage): Promise<void> {
    let ok = false;
    const span = startSpan(`user actor: ${msg.kind}`, contextOf(traceparentOfMessage(msg)), { attributes: spanAttributes(msg) });
    try {
      const now = this.now();
      const outcome = msg.kind === 'plan' ? await handleUserMessage(msg, this.bulk.has(msg) ? this.bulkIO : this.io, now, span)
        : msg.kind === 'recheck' ? await handleRecheck(msg, this.io, now)
        : await handleFlush(msg, this.io, now);
      this.observe(outcome, span);
      ok = true;
    } catch (err) {
      recordError(span, err);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
      this.fair.done();
      this.finish(msg, ok);
    }
  }

  /** Decisions become metrics, and events on the actor's span (opted out, deduplicated, rate limited, deferred…). */
  private observe(outcome: UnitOutcome, span: Span): void {
    if (!outcome.applied) {
      span.addEvent('already planned (entry read again)');
      return;
    }
    const counts = new Map<string, number>();
    for (const d of outcome.deliveries) {
      this.metrics.deliveries.inc({ channel: d.channel, provider: d.provider, status: d.status });
      counts.set(d.status, (counts.get(d.status) ?? 0) + 1);
    }
    for (const [status, n] of counts) span.addEvent(status, { 'notify.deliveries': n });
  }

  /** An entry is acknowledged once all its recipients are committed; a failure leaves it pending to be claimed again. */
  private finish(msg: ActorMessage, ok: boolean): void {
    if (msg.sole) {
      this.consumer.release(msg.entryId);
      return;
    }
    const s = this.shared.get(msg.entryId);
    if (!s) return;
    s.failed ||= !ok;
    if (--s.remaining > 0) return;
    this.shared.delete(msg.entryId);
    if (s.failed) this.consumer.release(msg.entryId);
    else this.acks.add(msg.entryId).then(
      () => this.consumer.release(msg.entryId),
      (err: unknown) => {
        this.log.warn({ err, entry: msg.entryId }, 'ack failed; the entry will be claimed again');
        this.consumer.release(msg.entryId);
      },
    );
  }

  private async deadLetter(e: Entry, reason: string, error: string): Promise<void> {
    // An entry that names no configured tenant is no tenant's to see (but the sandbox's, see orphanOwner): the operator
    // finds it by this line, notify_intake_entries_total{reason} and the dead-letter stream.
    const own = parseReentry(e.fields) !== null;
    const tenant = own ? undefined : namedTenant(e.fields);
    const orphan = !own && (tenant === undefined || !this.opts.tenants.has(tenant));
    const owner = orphan ? orphanOwner(tenant, this.opts.tenants) : undefined;
    const deadLetter = await this.consumer.deadLetter(e, reason, error, owner ? ['owner', owner] : []).catch((err: unknown) => {
      this.log.error({ err, entry: e.id, reason }, 'dead-lettering failed; the entry stays pending');
      return undefined;
    });
    if (deadLetter === undefined) return;
    const where = { entry: e.id, dead_letter: deadLetter, reason, error, ...(tenant !== undefined && { tenant }) };
    if (!orphan) this.log.warn(where, 'ingest entry dead-lettered');
    else {
      this.log.warn({ ...where, ...(owner && { shown_to: owner }), stream: this.keys.dead },
        owner ? `ingest entry dead-lettered: it names no configured tenant; listed in GET /v1/dead-letters of tenant ${owner}`
          : 'ingest entry dead-lettered: it names no configured tenant, so no tenant sees it; find it in the dead-letter stream by its source_id');
    }
  }
}

/** One actor per (tenant, user): NUL cannot occur in either. */
const actorKey = (tenant: string, userId: string): string => `${tenant}\u0000${userId}`;

function traceparentOfMessage(msg: ActorMessage): string | undefined {
  if (msg.kind === 'plan') return msg.traceparent;
  if (msg.kind === 'recheck') return msg.held.d.tp;
  return msg.flush.tp;
}

function spanAttributes(msg: ActorMessage): Record<string, string | number> {
  if (msg.kind === 'plan') return { 'notify.notification_id': msg.nid, 'notify.user_id': msg.userId, 'notify.tenant': msg.n.tenant };
  if (msg.kind === 'recheck') return { 'notify.notification_id': msg.held.d.nid, 'notify.user_id': msg.held.d.user_id, 'notify.held_times': msg.held.n };
  return { 'notify.notification_id': msg.flush.nid, 'notify.user_id': msg.flush.user_id };
}
