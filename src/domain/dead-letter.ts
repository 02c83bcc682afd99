// Pure: reads a dead-letter stream entry into what the API shows, and says how to put it back on its stream.
import type { Lane } from '../streams/keys.js';
import type { AttemptNote, DeliveryTask } from './task.js';
import type { Channel } from './types.js';

export interface DeadLetter {
  id: string;
  kind: 'intake' | 'delivery';
  reason: string;
  error?: string;
  dead_at: string;
  tenant?: string;
  lane?: Lane;
  channel?: Channel;
  notification_id?: string;
  user_id?: string;
  attempts?: number;
  history?: AttemptNote[];
  /** Throttled answers (not attempts): how many, and the last one. */
  throttled?: number;
  last_throttle?: AttemptNote;
  /** Delivery dead letters: the task to send again. Intake ones: the original entry fields. */
  task?: DeliveryTask;
  fields?: Record<string, string>;
  /** An intake entry that named no configured tenant, shown to the operator's tenant (`owner`, see orphanOwner). */
  orphan?: boolean;
}

/** The tenant of the sandbox's default API key (src/config.ts: `sandbox:sandbox-key` when NOTIFY_API_KEYS is unset). */
export const SANDBOX_TENANT = 'sandbox';

/** The tenant an ingest entry's payload names, when it can be read (undefined: no payload, not JSON, no string tenant). */
export function namedTenant(fields: Record<string, string>): string | undefined {
  const inner = tryJson(fields.payload) as { tenant?: unknown } | undefined;
  return typeof inner === 'object' && inner !== null && typeof inner.tenant === 'string' ? inner.tenant : undefined;
}

/**
 * Who is shown an intake dead letter whose entry names no configured tenant (an unknown tenant, or none that can be
 * read): no tenant may see it, since it may be another one's. Except in the sandbox as it starts (its tenant
 * `sandbox` the only one): there the one trying it is the operator, and the dead letter is listed for `sandbox`.
 * Undefined: the entry is its named tenant's (or, in a deployment with several tenants, the operator's alone: the
 * log line, `notify_intake_entries_total{reason}` and the dead-letter stream itself).
 */
export function orphanOwner(named: string | undefined, tenants: ReadonlySet<string>): string | undefined {
  if (named !== undefined && tenants.has(named)) return undefined;
  return tenants.size === 1 && tenants.has(SANDBOX_TENANT) ? SANDBOX_TENANT : undefined;
}

const LANE_CHANNEL: Record<Lane, Channel> = { apns: 'push', fcm: 'push', sms: 'sms', email: 'email' };

/** The JSON value of a field, or undefined when it is missing or not JSON (dead letters carry whatever arrived). */
export const tryJson = (s: string | undefined): unknown => {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** Decodes an entry of the dead-letter stream; the time comes from the entry id. */
export function decodeDeadLetter(id: string, f: Record<string, string>): DeadLetter {
  const kind = f.kind === 'delivery' ? 'delivery' : 'intake';
  const base: DeadLetter = {
    id, kind, reason: f.reason ?? 'unknown', dead_at: new Date(Number(id.split('-')[0])).toISOString(),
    ...(f.error && { error: f.error }),
  };
  const payload = tryJson(f.payload) as Record<string, unknown> | undefined;
  if (kind === 'delivery') {
    // Out of attempts: the payload is the task. Poison or unreadable: the payload is the entry's fields ({d: task}).
    const task = (typeof payload?.d === 'string' ? tryJson(payload.d) : payload) as DeliveryTask | undefined;
    const lane = (f.lane ?? task?.lane) as Lane | undefined;
    if (!task || typeof task.nid !== 'string') return { ...base, ...(lane && { lane, channel: LANE_CHANNEL[lane] }) };
    return {
      ...base, tenant: task.tenant, lane: task.lane, channel: LANE_CHANNEL[task.lane], notification_id: task.nid,
      user_id: task.user_id, attempts: task.attempt, history: task.history ?? [], task,
      ...(task.throttled && { throttled: task.throttled }), ...(task.last_throttle && { last_throttle: task.last_throttle }),
    };
  }
  const fields = (payload ?? {}) as Record<string, string>;
  const inner = tryJson(fields.payload) as { tenant?: unknown; id?: unknown } | undefined;
  // An orphan (its entry named no configured tenant) is its owner's alone, whatever tenant the payload names.
  const tenant = f.owner || (typeof inner?.tenant === 'string' ? inner.tenant : undefined);
  return {
    ...base, fields,
    ...(tenant !== undefined && { tenant }),
    ...(f.owner && { orphan: true }),
    ...(typeof inner?.id === 'string' && { notification_id: inner.id }),
  };
}

export interface DeadLetterFilter {
  channel?: Channel;
  reason?: string;
  kind?: 'intake' | 'delivery';
}

export function matches(d: DeadLetter, tenant: string, f: DeadLetterFilter): boolean {
  return d.tenant === tenant && (!f.channel || d.channel === f.channel) && (!f.reason || d.reason === f.reason) && (!f.kind || d.kind === f.kind);
}

/** A delivery sent again starts over: first attempt, fresh age, history kept for the record. */
export function redrivenTask(task: DeliveryTask, now: number): DeliveryTask {
  return { ...task, attempt: 1, throttled: 0, accepted_at: now };
}

/** The API view: the task itself (addresses, content) stays inside. */
export function deadLetterView(d: DeadLetter): Omit<DeadLetter, 'task' | 'fields' | 'orphan'> {
  const { task: _task, fields: _fields, orphan: _orphan, ...view } = d;
  return view;
}
