// Settles the ledger: waits (bounded) for every id to be terminal, checks deliveries against sends and dead letters, counts duplicates.
import type { Cluster } from './cluster.js';
import type { Ledger } from './ledger.js';
import type { Slot } from './sends.js';

const TERMINAL = new Set(['sent', 'failed', 'opted_out', 'no_address', 'deduplicated', 'coalesced', 'rate_limited', 'cancelled']);

export interface Delivery {
  user_id: string;
  channel: string;
  provider: string | null;
  provider_message_id?: string;
  status: string;
  attempts: number;
  last_error?: string;
}

export interface View {
  status: string;
  /** Its ingest entry was dead-lettered: recipients not planned by then never will be. */
  not_planned?: { reason: string; message: string; dead_letter_id: string };
  deliveries: Delivery[];
}

export interface Settled {
  /** Distinct ids answered 202. */
  accepted: number;
  /** Final view of each id (null: 404). */
  views: Map<string, View | null>;
  /** Deliveries per terminal status (and `not_planned`: notifications whose ingest entry was dead-lettered). */
  statuses: Record<string, number>;
  /** Everything that is not "exactly one terminal state, none lost", one line each. */
  problems: string[];
  /** Sends beyond the first, per marker and slot, summed. */
  duplicates: number;
  /** Each delivery sent more than once: its notification id(s), slot, and how many extra sends. */
  duplicated: { ids: string[]; slot: Slot; extra: number; at: number[] }[];
  /** Of those, sends the provider answered after the sender had timed out. */
  lateSends: number;
  /** Markers that reached a provider although the request was not answered 202. */
  unledgered: number;
  /**
   * Requests that became a notification the client never got the id of (seen by APNs ids no ledger delivery has): a
   * request accepted although its answer was lost or an error, or accepted twice.
   */
  ghosts: string[];
  deadLetters: number;
  drainMs: number;
}

export const slotOf = (d: Delivery): Slot => (d.channel === 'push' ? (d.provider as Slot) : (d.channel as Slot));

async function fetchAll(c: Cluster, ids: string[], into: Settled['views']): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const r = await c.api('GET', `/v1/notifications/${id}`).catch(() => undefined);
      if (r) into.set(id, r.status === 200 ? r.body : null);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

const final = (v: View | null | undefined) =>
  v != null && (v.deliveries.length > 0 || v.not_planned !== undefined) && v.deliveries.every((d) => TERMINAL.has(d.status));

/** Dead-lettered deliveries, as `<notification id>|<lane>`, and the notification ids of dead-lettered ingest entries. */
async function deadLetters(c: Cluster): Promise<{ keys: Set<string>; intake: Set<string>; count: number }> {
  const entries = (await c.admin.xrange(c.keys.dead, '-', '+')) as [string, string[]][];
  const keys = new Set<string>();
  const intake = new Set<string>();
  for (const [, kv] of entries) {
    const f: Record<string, string> = {};
    for (let i = 0; i < kv.length; i += 2) f[kv[i]!] = kv[i + 1]!;
    if (f.kind === 'intake' && f.payload) {
      try {
        const id = (JSON.parse((JSON.parse(f.payload) as { payload?: string }).payload ?? '{}') as { id?: string }).id;
        if (id) intake.add(id);
      } catch {
        /* not a notification */
      }
    }
    if (f.kind !== 'delivery' || !f.payload) continue;
    try {
      const t = JSON.parse(f.payload) as { nid?: string; lane?: string; d?: string };
      const task = t.nid ? t : (JSON.parse(t.d ?? '{}') as { nid?: string; lane?: string });
      keys.add(`${task.nid}|${task.lane ?? f.lane}`);
    } catch {
      /* not a delivery task */
    }
  }
  return { keys, intake, count: entries.length };
}

export async function settle(c: Cluster, ledger: Ledger, drainMs: number): Promise<Settled> {
  const started = Date.now();
  const ids = [...new Set(ledger.accepted.map((a) => a.id))];
  const views: Settled['views'] = new Map();
  let open = ids;
  while (open.length > 0 && Date.now() - started < drainMs) {
    await fetchAll(c, open, views);
    open = open.filter((id) => !final(views.get(id)));
    if (open.length > 0) await new Promise((r) => setTimeout(r, 500));
  }
  const drain = Date.now() - started;
  // Late sends still on the wire land now, before sends are counted.
  await new Promise((r) => setTimeout(r, 300));
  const dead = await deadLetters(c);
  const problems: string[] = [];
  const statuses: Record<string, number> = {};
  const byMarker = new Map<string, Slot[]>();
  const idsOf = new Map<string, Set<string>>();
  for (const a of ledger.accepted) {
    byMarker.set(a.marker, a.slots);
    idsOf.set(a.marker, (idsOf.get(a.marker) ?? new Set()).add(a.id));
  }
  const seen = new Set<string>();
  for (const a of ledger.accepted) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    const v = views.get(a.id);
    if (!v) {
      problems.push(`${a.id} (${a.marker}): missing (404 or unread) after ${drain} ms`);
      continue;
    }
    const got = new Set(v.deliveries.map(slotOf));
    if (v.not_planned) {
      statuses.not_planned = (statuses.not_planned ?? 0) + 1;
      if (!dead.intake.has(a.id)) problems.push(`${a.id} (${a.marker}): not planned, but its entry is not in the dead-letter stream`);
      if (v.status !== 'failed' && v.status !== 'partially_sent') problems.push(`${a.id} (${a.marker}): not planned, yet ${v.status}`);
    } else {
      for (const s of a.slots) if (!got.has(s)) problems.push(`${a.id} (${a.marker}): no ${s} delivery recorded`);
    }
    for (const d of v.deliveries) {
      statuses[d.status] = (statuses[d.status] ?? 0) + 1;
      const slot = slotOf(d);
      const where = `${a.id} (${a.marker}) ${slot}`;
      const isDead = dead.keys.has(`${a.id}|${slot}`);
      if (!TERMINAL.has(d.status)) problems.push(`${where}: still ${d.status} after ${drain} ms`);
      if (d.status === 'sent' && c.sends.get(a.marker, slot).ok === 0) problems.push(`${where}: recorded sent, but no provider accepted it`);
      if (d.status === 'failed' && !isDead) problems.push(`${where}: failed, but not in the dead-letter stream`);
      if (d.status !== 'failed' && isDead) problems.push(`${where}: ${d.status}, and also in the dead-letter stream`);
    }
  }
  let duplicates = 0;
  let lateSends = 0;
  const duplicated: Settled['duplicated'] = [];
  for (const [marker, slots] of byMarker) {
    for (const slot of slots) {
      const n = c.sends.get(marker, slot);
      if (n.ok <= 1) continue;
      duplicates += n.ok - 1;
      lateSends += Math.min(n.late, n.ok - 1);
      duplicated.push({ ids: [...idsOf.get(marker)!], slot, extra: n.ok - 1, at: n.at });
    }
  }
  const unledgered = [...c.sends.markers()].filter((m) => !byMarker.has(m)).length;
  const known = new Set([...views.values()].flatMap((v) => v?.deliveries.map((d) => d.provider_message_id) ?? []));
  const ghosts = [...c.sends.apnsIds].filter(([m, set]) => byMarker.has(m) && [...set].some((id) => !known.has(id))).map(([m]) => m);
  return { accepted: ids.length, views, statuses, problems, duplicates, duplicated, lateSends, unledgered, ghosts, deadLetters: dead.count, drainMs: drain };
}
