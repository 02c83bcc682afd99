// Turns the pure gate decision for a delivery into what commit-plan.lua applies: a hold until a time, or the rate
// caps (as Redis keys) it counts against, with the member that brings it back if it is held.
import { gateDelivery } from '../domain/gates.js';
import { maskAddress } from '../domain/mask.js';
import type { DeliveryRecord } from '../domain/record.js';
import type { DeliveryTask } from '../domain/task.js';
import type { DeliveryStatus } from '../domain/types.js';
import type { UserRecord } from '../domain/user.js';
import { LANE_PROVIDERS } from '../streams/keys.js';
import type { UnitTask } from './commit-unit.js';
import type { UserActorIO } from './user-actor.js';

type Ready = Pick<UnitTask, 'field' | 'record' | 'task'>;

/** `held`: how often this delivery was held before, and since when. */
export function gatedTask(t: Ready, held: { n: number; since: number }, user: UserRecord | null, io: Pick<UserActorIO, 'keys' | 'controls'>, now: number): UnitTask {
  const { task } = t;
  const gate = gateDelivery({ channel: task.channel, priority: task.priority, ...(task.category && { category: task.category }) }, user, io.controls, now);
  const next = { n: held.n + 1, since: held.since };
  if (gate.kind === 'defer') return { ...t, held: next, defer: { at: gate.until, why: gate.reason } };
  if (gate.caps.length === 0) return t;
  const policy = io.controls.rateLimit;
  return {
    ...t, held: next,
    limit: {
      caps: gate.caps.map((c) => ({ key: io.keys.rate(task.tenant, task.user_id, c.scope), limit: c.limit, windowMs: c.windowMs, label: c.label })),
      // Counted per notification: one notification to two devices is one push.
      id: task.nid, drop: policy.mode === 'drop', latest: held.since + policy.maxDeferMs,
    },
  };
}

/** The record of a delivery that is (again) ready or that ends here. */
export function taskRecord(task: DeliveryTask, status: DeliveryStatus, now: number, reason?: string): DeliveryRecord {
  return {
    user_id: task.user_id, channel: task.channel, provider: LANE_PROVIDERS[task.lane][0]!, to: maskAddress(task.to), status,
    attempts: 0, ...(reason !== undefined && { last_error: reason }), updated_at: new Date(now).toISOString(),
  };
}
