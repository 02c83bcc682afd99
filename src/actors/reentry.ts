// What a user's actor does when held work comes back: a held delivery is checked again (the user may have opted out,
// quiet hours may still hold, caps may still be full), and a coalescing window's end makes its owner send.
import { decodeWindow, digestParams, flushTasks, type WindowState } from '../domain/coalesce.js';
import { limitProblem } from '../domain/limits.js';
import { optedOut } from '../domain/plan.js';
import { DELIVERY_FIELD_PREFIX } from '../domain/record.js';
import type { Channel, RenderedContent } from '../domain/types.js';
import type { CommitUnit, UnitOutcome } from './commit-unit.js';
import { gatedTask, taskRecord } from './gate-task.js';
import type { FlushMessage, RecheckMessage, UserActorIO } from './user-actor.js';

export async function handleRecheck(msg: RecheckMessage, io: UserActorIO, now: number): Promise<UnitOutcome> {
  const { d, n } = msg.held;
  const user = await io.loadUser(d.tenant, d.user_id);
  const field = DELIVERY_FIELD_PREFIX + d.dk;
  // The hold count names the marker: each return of the delivery is applied once.
  const unit: CommitUnit = { tenant: d.tenant, nid: d.nid, once: `r:${d.dk}:${n}`, ttlMs: io.retentionMs, ack: msg.entryId, records: [], tasks: [] };
  if (!user) unit.records.push([field, taskRecord(d, 'no_address', now, 'unknown user')]);
  else if (optedOut(user, d.channel, d.category)) unit.records.push([field, taskRecord(d, 'opted_out', now)]);
  else if (d.channel === 'push' && !user.devices.some((dev) => dev.active && dev.token === d.to)) {
    unit.records.push([field, taskRecord(d, 'no_address', now, 'device removed while held')]);
  } else unit.tasks.push(gatedTask({ field, record: taskRecord(d, 'queued', now), task: d }, msg.held, user, io, now));
  return io.commit(unit);
}

export async function handleFlush(msg: FlushMessage, io: UserActorIO, now: number): Promise<UnitOutcome> {
  const f = msg.flush;
  const open = io.keys.collapse(f.tenant, f.user_id, f.ck);
  const closed = `${open}|${f.nid}`;
  const [hash, user] = await Promise.all([io.closeWindow(open, closed, f.nid), io.loadUser(f.tenant, f.user_id)]);
  const state = decodeWindow(hash);
  const unit: CommitUnit = { tenant: f.tenant, nid: f.nid, once: `f:${f.user_id}`, ttlMs: io.retentionMs, ack: msg.entryId, records: [], tasks: [], drop: [closed] };
  if (state) {
    const digest = await renderDigest(f.tenant, state, io);
    for (const [field, task] of flushTasks(state, digest)) {
      unit.tasks.push(gatedTask({ field, record: taskRecord(task, 'queued', now), task }, { n: 0, since: now }, user, io, now));
    }
  }
  return io.commit(unit);
}

/** With a digest template and more than one notification folded: its render per channel (a channel it lacks, or that fails or is too big, keeps the latest content). */
async function renderDigest(tenant: string, state: WindowState, io: UserActorIO): Promise<Partial<Record<Channel, RenderedContent>>> {
  if (!state.digest || state.count < 2) return {};
  const template = await io.loadTemplate(tenant, state.digest);
  if (!template) return {};
  const params = digestParams(state);
  const out: Partial<Record<Channel, RenderedContent>> = {};
  const channels = new Set(state.tasks.map(([, t]) => t.channel).filter((ch) => template.parts[ch] !== undefined));
  await Promise.all([...channels].map(async (ch) => {
    const r = await io.render(`${tenant}/${template.name}`, template, ch, params);
    // A digest too big for the channel is not sent: the latest content (checked when it was rendered) goes instead.
    if (r.ok && !limitProblem(ch, r.content)) out[ch] = r.content;
  }));
  return out;
}
