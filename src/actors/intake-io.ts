// The Redis side of the user actors: every read and commit is queued per event-loop turn, so the actors of one turn
// share one round trip per kind (inputs — users, templates, event owners —, window closes, commits, parks).
import type { Redis } from 'ioredis';
import type { Controls } from '../domain/controls.js';
import type { RenderPool } from '../render/render-pool.js';
import { INTAKE_GROUP, KeyList, queueScript, runScript, type Keys, type Lane } from '../streams/index.js';
import { Batcher } from './batcher.js';
import { encodeUnits, outcomeOf, type CommitUnit } from './commit-unit.js';
import { PlanInputs } from './plan-inputs.js';
import { pairs } from '../streams/replies.js';
import type { UserActorIO } from './user-actor.js';

/** A scheduled notification to hold until `due` (see park.lua). */
export interface Park {
  tenant: string;
  nid: string;
  meta: string;
  ttlMs: number;
  due: number;
  member: string;
  entryId: string;
}

export function createUserActorIO(
  redis: Redis, keys: Keys, render: RenderPool, opts: { controls: Controls; retentionMs: number; lanes?: ReadonlySet<Lane> }, now: () => number,
): UserActorIO {
  const inputs = new PlanInputs(redis, keys);
  const windows = new Batcher(async (refs: { open: string; closed: string; owner: string }[]) => {
    const pipe = redis.pipeline();
    for (const r of refs) queueScript(pipe, 'closeWindow', [r.open, r.closed], [r.owner]);
    return ((await pipe.exec()) ?? []).map(([err, flat]) => {
      if (err) throw err;
      return pairs<string>(flat as string[]);
    });
  });
  const commits = new Batcher(async (units: CommitUnit[]) => {
    const { keys: k, args } = encodeUnits(keys, units);
    return runScript<(0 | string[])[]>(redis, 'commitPlan', [...k, keys.events], [INTAKE_GROUP, now(), ...args]);
  });
  return {
    keys, controls: opts.controls, retentionMs: opts.retentionMs, ...(opts.lanes && { lanes: opts.lanes }),
    loadUser: (tenant, id) => inputs.user(tenant, id),
    loadTemplate: (tenant, name) => inputs.template(tenant, name),
    render: (key, t, channel, params) => render.render(key, { version: t.version, parts: t.parts }, channel, params),
    eventOwner: (key) => inputs.eventOwner(key),
    closeWindow: (open, closed, owner) => windows.add({ open, closed, owner }),
    commit: (unit) => commits.add(unit).then((reply) => outcomeOf(unit, reply)),
  };
}

/** Holds scheduled notifications (batched); resolves per item true if parked, false if it had been cancelled. */
export function createParker(redis: Redis, keys: Keys): (item: Park) => Promise<boolean> {
  const parks = new Batcher(async (items: Park[]) => {
    const list = new KeyList([keys.ingest, keys.delayed]);
    const args: (string | number)[] = [INTAKE_GROUP, items.length];
    for (const p of items) args.push(list.index(keys.notification(p.tenant, p.nid)), p.meta, p.ttlMs, p.due, p.member, p.entryId);
    return (await runScript<number[]>(redis, 'park', [...list.keys, keys.events], args)).map((r) => r === 1);
  });
  return (item) => parks.add(item);
}
