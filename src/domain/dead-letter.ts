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
  return {
    ...base, fields,
    ...(typeof inner?.tenant === 'string' && { tenant: inner.tenant }),
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
export function deadLetterView(d: DeadLetter): Omit<DeadLetter, 'task' | 'fields'> {
  const { task: _task, fields: _fields, ...view } = d;
  return view;
}
