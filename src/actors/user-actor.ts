// What a user's actor does with one notification: load the user, plan deliveries, render, decide what may hold each
// one back, and commit — each step batched with other actors' through the IO it is given.
import { randomUUID } from 'node:crypto';
import { contentChannels, inlineContent, templateChannels } from '../domain/content.js';
import { collapseHash } from '../domain/coalesce.js';
import type { Controls } from '../domain/controls.js';
import { limitProblem } from '../domain/limits.js';
import { maskAddress } from '../domain/mask.js';
import { planDeliveries, type PlannedDelivery } from '../domain/plan.js';
import { DELIVERY_FIELD_PREFIX, PLANNED_FIELD_PREFIX, type DeliveryRecord, type NotificationMeta } from '../domain/record.js';
import { delayedMember, FLUSH_FIELD, type FlushRef, type Held } from '../domain/reentry.js';
import type { StreamEntry } from '../domain/schemas.js';
import { stringifyData, type DeliveryTask } from '../domain/task.js';
import { CHANNELS, type Channel, type RenderedContent } from '../domain/types.js';
import type { UserRecord } from '../domain/user.js';
import { LANE_PROVIDERS, type Keys, type Lane } from '../streams/keys.js';
import type { StoredTemplate } from '../store/templates.js';
import type { RenderResult } from '../render/task.js';
import type { CommitUnit, UnitOutcome, UnitTask } from './commit-unit.js';
import type { Span } from '@opentelemetry/api';
import { timedSpan, traceparentOf } from '../telemetry/tracing.js';
import { gatedTask } from './gate-task.js';

interface MessageBase {
  /** Ingest entry this message came from. */
  entryId: string;
  /** The entry's only recipient: its acknowledgement rides in this message's commit. */
  sole: boolean;
}

/** A notification for one of its recipients. */
export interface UserMessage extends MessageBase {
  kind: 'plan';
  nid: string;
  n: StreamEntry;
  userId: string;
  /** How many recipients the notification has. */
  recipients: number;
  acceptedAt: number;
  traceparent?: string;
}
/** A held delivery whose time has come: checked again (see reentry.ts). */
export interface RecheckMessage extends MessageBase {
  kind: 'recheck';
  held: Held;
}
/** A coalescing window's end: its owner sends (see reentry.ts). */
export interface FlushMessage extends MessageBase {
  kind: 'flush';
  flush: FlushRef;
}
export type ActorMessage = UserMessage | RecheckMessage | FlushMessage;

export interface UserActorIO {
  keys: Keys;
  controls: Controls;
  retentionMs: number;
  /** Lanes with a configured provider (undefined: all): the default channels leave out the others. */
  lanes?: ReadonlySet<Lane>;
  loadUser(tenant: string, userId: string): Promise<UserRecord | null>;
  loadTemplate(tenant: string, name: string): Promise<StoredTemplate | null>;
  render(templateKey: string, template: StoredTemplate, channel: Channel, params: Record<string, unknown>): Promise<RenderResult>;
  /** Who owns an event id now (a hint that spares rendering a duplicate; the commit decides). */
  eventOwner(key: string): Promise<string | null>;
  /** Closes a coalescing window; resolves with what it holds. */
  closeWindow(open: string, closed: string, owner: string): Promise<Record<string, string>>;
  /** What the commit did (nothing, if this unit had been applied before). */
  commit(unit: CommitUnit): Promise<UnitOutcome>;
}

export const plannedField = (userId: string): string => PLANNED_FIELD_PREFIX + userId;

export async function handleUserMessage(msg: UserMessage, io: UserActorIO, now: number, span?: Span): Promise<UnitOutcome> {
  const { n, userId } = msg;
  const controls = io.controls;
  const eventKey = controls.enabled && n.event_id !== undefined ? io.keys.event(n.tenant, n.event_id) : undefined;
  const [user, template, eventOwner] = await Promise.all([
    io.loadUser(n.tenant, userId),
    n.template !== undefined ? io.loadTemplate(n.tenant, n.template) : Promise.resolve(null),
    eventKey ? io.eventOwner(eventKey) : Promise.resolve(null),
  ]);
  const duplicateOf = eventOwner !== null && eventOwner !== msg.nid ? eventOwner : undefined;
  const missingTemplate = n.template !== undefined && template === null;
  const available = template ? templateChannels(template.parts) : n.content ? contentChannels(n.content) : new Set(CHANNELS);
  const plan = planDeliveries({ userId, channels: n.channels, category: n.category, available, lanes: io.lanes }, user);

  const contents = new Map<Channel, RenderResult>();
  // A known duplicate is not rendered: it will not be sent.
  const wanted = new Set(duplicateOf ? [] : plan.filter((d) => d.status === 'queued').map((d) => d.channel));
  if (missingTemplate) {
    for (const ch of wanted) contents.set(ch, { ok: false, error: `template "${n.template}" not found` });
  } else {
    await Promise.all([...wanted].map(async (ch) => {
      const r = await contentFor(msg, ch, template, io);
      if (span && r.timing) {
        timedSpan('render', span, r.timing.start, r.timing.end, {
          'notify.notification_id': msg.nid, 'notify.channel': ch, 'notify.template': n.template ?? '', 'thread.id': r.timing.thread, 'notify.ok': r.ok,
        });
      }
      contents.set(ch, r);
    }));
  }

  const unit: CommitUnit = {
    tenant: n.tenant, nid: msg.nid, once: plannedField(userId), meta: metaOf(msg), ttlMs: io.retentionMs,
    ack: msg.sole ? msg.entryId : '', records: [], tasks: [],
  };
  const ready: UnitTask[] = [];
  // The sends continue this trace from here (the plan span), or from the producer's context when tracing is off here.
  const tp = (span && traceparentOf(span)) ?? msg.traceparent;
  for (const d of plan) {
    const field = DELIVERY_FIELD_PREFIX + d.key;
    if (duplicateOf && d.status === 'queued') {
      unit.records.push([field, { ...record(d, userId, 'deduplicated', now, `duplicate event_id of ${duplicateOf}`), duplicate_of: duplicateOf }]);
      continue;
    }
    const rendered = d.status === 'queued' ? contents.get(d.channel) : undefined;
    if (rendered?.ok) ready.push({ field, record: record(d, userId, 'queued', now), task: task(msg, d, rendered.content, tp) });
    else if (rendered) unit.records.push([field, record(d, userId, 'failed', now, rendered.error)]);
    else unit.records.push([field, record(d, userId, d.status, now, d.reason)]);
  }
  if (eventKey && !duplicateOf) unit.event = { key: eventKey, ttlMs: controls.dedupeWindowMs };
  if (controls.enabled && n.collapse_key !== undefined && ready.length > 0) {
    // Quiet hours and caps apply when the window's owner sends, at its end.
    unit.tasks = ready;
    unit.collapse = collapseOf(msg, n.collapse_key, ready, io);
  } else {
    unit.tasks = ready.map((t) => gatedTask(t, { n: 0, since: now }, user, io, now));
  }
  return io.commit(unit);
}

function metaOf(msg: UserMessage): NotificationMeta {
  const { n } = msg;
  return {
    tenant: n.tenant, created_at: msg.acceptedAt, recipients: msg.recipients,
    ...(n.event_id && { event_id: n.event_id }), ...(n.category && { category: n.category }),
    ...(n.send_at && { send_at: Date.parse(n.send_at) }), ...(n.collapse_key && { collapse_key: n.collapse_key }),
    ...(n.template && { template: n.template }),
  };
}

function collapseOf(msg: UserMessage, collapseKey: string, ready: UnitTask[], io: UserActorIO): NonNullable<CommitUnit['collapse']> {
  const ck = collapseHash(collapseKey);
  const tp = ready[0]?.task.tp;
  const flush: FlushRef = { tenant: msg.n.tenant, user_id: msg.userId, nid: msg.nid, ck, ...(tp && { tp }) };
  const contents: Partial<Record<Channel, RenderedContent>> = {};
  for (const t of ready) contents[t.task.channel] = t.task.content;
  return {
    key: io.keys.collapse(msg.n.tenant, msg.userId, ck), windowMs: io.controls.collapse.windowMs, cap: io.controls.collapse.maxItems,
    member: delayedMember(io.keys.ingest, FLUSH_FIELD, JSON.stringify(flush)),
    item: JSON.stringify({ id: msg.nid, ...(msg.n.params && { params: msg.n.params }) }),
    contents, ...(msg.n.digest_template && { digest: msg.n.digest_template }),
  };
}

async function contentFor(msg: UserMessage, channel: Channel, template: StoredTemplate | null, io: UserActorIO): Promise<RenderResult> {
  if (template) return withinLimit(channel, await io.render(`${msg.n.tenant}/${template.name}`, template, channel, msg.n.params ?? {}), msg.n.data);
  const content = msg.n.content ? inlineContent(channel, msg.n.content) : null;
  return content ? { ok: true, content } : { ok: false, error: `no ${channel} content` };
}

/** A render the provider would refuse for its size fails here, before anything is sent (inline content was checked at accept). */
function withinLimit(channel: Channel, r: RenderResult, data: StreamEntry['data']): RenderResult {
  const problem = r.ok ? limitProblem(channel, r.content, data) : undefined;
  return problem ? { ok: false, error: `rendered ${problem}`, ...(r.timing && { timing: r.timing }) } : r;
}

function record(d: PlannedDelivery, userId: string, status: DeliveryRecord['status'], now: number, reason?: string): DeliveryRecord {
  return {
    user_id: userId, channel: d.channel, provider: d.lane ? LANE_PROVIDERS[d.lane][0]! : null,
    to: d.to !== undefined ? maskAddress(d.to) : null, status, attempts: 0,
    ...(reason !== undefined && { last_error: reason }), updated_at: new Date(now).toISOString(),
  };
}

function task(msg: UserMessage, d: PlannedDelivery, content: RenderedContent, tp: string | undefined): DeliveryTask {
  const { n } = msg;
  const data = stringifyData(n.data);
  return {
    nid: msg.nid, dk: d.key, mid: randomUUID(), tenant: n.tenant, user_id: msg.userId, channel: d.channel, lane: d.lane as Lane, to: d.to!,
    content, priority: n.priority ?? 'normal', accepted_at: msg.acceptedAt, attempt: 1,
    ...(data && { data }), ...(n.category && { category: n.category }), ...(n.collapse_key && { collapse_key: n.collapse_key }),
    ...(tp && { tp }),
  };
}
