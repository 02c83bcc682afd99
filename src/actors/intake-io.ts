// The Redis side of the user actors: every read and commit is queued in a Batcher, so the actors of one event-loop
// turn share one round trip per kind (users, templates, event owners, window closes, commits, parks).
import type { Redis } from 'ioredis';
import type { Controls } from '../domain/controls.js';
import { decodeUser, type UserRecord } from '../domain/user.js';
import type { RenderPool } from '../render/render-pool.js';
import { TemplateStore, type StoredTemplate } from '../store/templates.js';
import { INTAKE_GROUP, KeyList, queueScript, runScript, type Keys, type Lane } from '../streams/index.js';
import { Batcher } from './batcher.js';
import { encodeUnits, outcomeOf, type CommitUnit } from './commit-unit.js';
import type { UserActorIO } from './user-actor.js';

/** A scheduled notification to hold until `due` (see park.lua). */
export interface Park {
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
  const templates = new TemplateStore(redis, keys);
  const users = new Batcher(async (refs: { tenant: string; id: string }[]) => {
    const pipe = redis.pipeline();
    for (const r of refs) pipe.hgetall(keys.user(r.tenant, r.id));
    return ((await pipe.exec()) ?? []).map(([err, hash], i) => {
      if (err) throw err;
      return decodeUser(refs[i]!.id, hash as Record<string, string>);
    });
  });
  const tpls = new Batcher((refs: { tenant: string; name: string }[]) => templates.getMany(refs));
  const events = new Batcher((eventKeys: string[]) => redis.mget(...eventKeys));
  const windows = new Batcher(async (refs: { open: string; closed: string; owner: string }[]) => {
    const pipe = redis.pipeline();
    for (const r of refs) queueScript(pipe, 'closeWindow', [r.open, r.closed], [r.owner]);
    return ((await pipe.exec()) ?? []).map(([err, flat]) => {
      if (err) throw err;
      return pairs(flat as string[]);
    });
  });
  const commits = new Batcher(async (units: CommitUnit[]) => {
    const { keys: k, args } = encodeUnits(keys, units);
    return runScript<(0 | string[])[]>(redis, 'commitPlan', k, [INTAKE_GROUP, now(), ...args]);
  });
  return {
    keys, controls: opts.controls, retentionMs: opts.retentionMs, ...(opts.lanes && { lanes: opts.lanes }),
    loadUser: (tenant, id): Promise<UserRecord | null> => users.add({ tenant, id }),
    loadTemplate: (tenant, name): Promise<StoredTemplate | null> => tpls.add({ tenant, name }),
    render: (key, t, channel, params) => render.render(key, { version: t.version, parts: t.parts }, channel, params),
    eventOwner: (key) => events.add(key),
    closeWindow: (open, closed, owner) => windows.add({ open, closed, owner }),
    commit: (unit) => commits.add(unit).then((reply) => outcomeOf(unit, reply)),
  };
}

/** Holds scheduled notifications (batched); resolves per item true if parked, false if it had been cancelled. */
export function createParker(redis: Redis, keys: Keys): (item: Park) => Promise<boolean> {
  const parks = new Batcher(async (items: Park[]) => {
    const list = new KeyList([keys.ingest, keys.delayed]);
    const args: (string | number)[] = [INTAKE_GROUP, items.length];
    for (const p of items) args.push(list.index(keys.notification(p.nid)), p.meta, p.ttlMs, p.due, p.member, p.entryId);
    return (await runScript<number[]>(redis, 'park', list.keys, args)).map((r) => r === 1);
  });
  return (item) => parks.add(item);
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
