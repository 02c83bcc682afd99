// What a user actor hands to commit-plan.lua — one recipient's records and deliveries with the checks Redis applies —
// and its encoding (key names become KEYS indexes, so the script declares every key it touches).
import type { DeliveryRecord, NotificationMeta } from '../domain/record.js';
import type { DeliveryTask } from '../domain/task.js';
import type { Channel, RenderedContent } from '../domain/types.js';
import type { Keys } from '../streams/keys.js';
import { KeyList } from '../streams/scripts.js';

/** A delivery ready to go, and what may hold it back. */
export interface UnitTask {
  /** Record field (`d:<key>`) and the record as queued. */
  field: string;
  record: DeliveryRecord;
  task: DeliveryTask;
  /**
   * When it may be held: how many times it will have been held and since when. commit-plan.lua then builds the
   * delayed-set member (a `task` entry of the ingest stream, see `Held`) from the task JSON it already has.
   */
  held?: { n: number; since: number };
  /** Held by the actor's own decision (quiet hours) until `at`. */
  defer?: { at: number; why: string };
  /** Goes to its lane's bulk stream (a big notification, or a tenant with a backlog), not the lane itself. */
  bulk?: boolean;
  /** Rate caps (rate-limit keys) it counts against, as notification `id`; over a cap: held, or dropped when `drop` or when it would be held past `latest`. */
  limit?: { caps: { key: string; limit: number; windowMs: number; label: string }[]; id: string; drop: boolean; latest: number };
}

export interface CommitUnit {
  /** The notification's tenant and id (ids are per tenant: the two name its record). */
  tenant: string;
  nid: string;
  /** Marker field: a unit is applied once (a re-read entry only acknowledges). */
  once: string;
  /** Written when the record has none yet (direct producers); without it, a unit whose record expired does nothing. */
  meta?: NotificationMeta;
  /** Record TTL when this unit creates it; also how long a coalescing window it opens may live. */
  ttlMs: number;
  /** Ingest entry acknowledged with this unit, or ''. */
  ack: string;
  records: [field: string, record: DeliveryRecord][];
  tasks: UnitTask[];
  /** Claim the event id (key) for this notification within the dedupe window. */
  event?: { key: string; ttlMs: number };
  /** Coalesce into the window at `key`, or open it (its end comes back as `member` after `windowMs`). */
  collapse?: {
    key: string; windowMs: number; member: string; item: string; contents: Partial<Record<Channel, RenderedContent>>; digest?: string; cap: number;
  };
  /** Keys this unit consumes (a closed window). */
  drop?: string[];
}

/** What a commit did: nothing (applied before), or the final status of each of the unit's deliveries. */
export interface UnitOutcome {
  applied: boolean;
  deliveries: { channel: Channel; provider: string; status: string }[];
}

/** Pure: pairs commit-plan.lua's reply for a unit (0, or one status per task) with the unit's records and tasks. */
export function outcomeOf(unit: CommitUnit, reply: 0 | string[]): UnitOutcome {
  if (!Array.isArray(reply)) return { applied: false, deliveries: [] };
  const of = (rec: DeliveryRecord, status: string) => ({ channel: rec.channel, provider: rec.provider ?? 'none', status });
  return {
    applied: true,
    deliveries: [...unit.records.map(([, rec]) => of(rec, rec.status)), ...unit.tasks.map((t, i) => of(t.record, reply[i] ?? t.record.status))],
  };
}

/**
 * KEYS and ARGV (after group and now) for commit-plan.lua: the unit count, one JSON per unit, then the record and task
 * JSON strings the units refer to by ARGV index (passed as they are, not escaped again inside the unit's JSON).
 */
export function encodeUnits(names: Keys, units: readonly CommitUnit[]): { keys: string[]; args: string[] } {
  const keys = new KeyList([names.ingest, names.delayed]);
  const raws: string[] = [];
  // ARGV: group, now, count, the units, then the raw strings.
  const raw = (json: string): number => 3 + units.length + raws.push(json);
  // Optional parts are assigned only when present (no spread temporaries: this runs once per delivery).
  const encoded = units.map((u) => {
    const unit: Record<string, unknown> = {
      id: u.nid, r: keys.index(names.notification(u.tenant, u.nid)), once: u.once, ttl: u.ttlMs, ack: u.ack,
      recs: u.records.map(([f, rec]) => [f, raw(JSON.stringify(rec))]),
      tasks: u.tasks.map((t) => {
        const task: Record<string, unknown> = {
          f: t.field, rec: raw(JSON.stringify(t.record)), lane: keys.index(t.bulk ? names.bulkLane(t.task.lane) : names.lane(t.task.lane)), d: raw(JSON.stringify(t.task)),
        };
        if (t.held) task.h = [String(t.held.n), String(t.held.since)];
        if (t.defer) task.defer = t.defer;
        if (t.limit) {
          const l = t.limit;
          task.rl = { caps: l.caps.map((c) => [keys.index(c.key), c.limit, c.windowMs, c.label]), id: l.id, drop: l.drop, latest: l.latest };
        }
        return task;
      }),
    };
    if (u.meta) unit.meta = JSON.stringify(u.meta);
    if (u.event) unit.evt = { k: keys.index(u.event.key), ttl: u.event.ttlMs };
    if (u.collapse) {
      const c = u.collapse;
      unit.co = {
        k: keys.index(c.key), win: c.windowMs, m: c.member, item: c.item, cap: c.cap,
        c: Object.fromEntries(Object.entries(c.contents).map(([ch, content]) => [ch, JSON.stringify(content)])),
        ...(c.digest && { dt: c.digest }),
      };
    }
    if (u.drop) unit.del = u.drop.map((k) => keys.index(k));
    return JSON.stringify(unit);
  });
  return { keys: keys.keys, args: [String(units.length), ...encoded, ...raws] };
}
