// Pure: the ingest stream's two internal entry kinds — a held delivery coming back to be checked again, and the end
// of a coalescing window — and the delayed-set members that bring them back at their time.
import type { DeliveryTask } from './task.js';

/** Entry field of a held delivery (deferred by quiet hours or a rate cap). */
export const TASK_FIELD = 'task';
/** Entry field of a coalescing window's end. */
export const FLUSH_FIELD = 'flush';

export interface Held {
  d: DeliveryTask;
  /** How many times this delivery has been held (names its once-marker, so a re-read entry is not applied twice). */
  n: number;
  /** When it was first held (ms): it is not held past `since + maxDeferMs`. */
  since: number;
}

export interface FlushRef {
  tenant: string;
  user_id: string;
  /** The window's owner (notification id). */
  nid: string;
  /** collapseHash(collapse_key). */
  ck: string;
  /** W3C traceparent of the owner's plan, so the window's end joins the owner's trace. */
  tp?: string;
}

export type Reentry =
  | { ok: true; kind: 'recheck'; held: Held; tenant: string; userId: string }
  | { ok: true; kind: 'flush'; flush: FlushRef; tenant: string; userId: string }
  | { ok: false; reason: 'invalid_entry'; error: string };

/**
 * A member of the delayed set that move-due.lua turns into `XADD <stream> * <field> <value> …`. Values must hold no
 * newline (JSON and ids have none).
 * @example delayedMember('notify:in', 'payload', json, 'traceparent', tp)
 */
export function delayedMember(stream: string, field: string, value: string, ...more: string[]): string {
  const parts = [stream, field, value, ...more];
  // move-due.lua splits members on newlines: JSON values and ids never hold one, anything else must not either.
  if (parts.some((p) => p.includes('\n'))) throw new Error('a delayed-set member part holds a newline');
  return parts.join('\n');
}

/** Decodes an internal entry; null when the entry is an ordinary notification. */
export function parseReentry(fields: Record<string, string>): Reentry | null {
  const raw = fields[TASK_FIELD] ?? fields[FLUSH_FIELD];
  if (raw === undefined || fields.payload !== undefined) return null;
  try {
    if (fields[TASK_FIELD] !== undefined) {
      const held = JSON.parse(raw) as Held;
      const d = held.d;
      if (!d || typeof d.nid !== 'string' || typeof d.dk !== 'string' || typeof d.tenant !== 'string' || typeof d.user_id !== 'string' || !Number.isInteger(held.n)) {
        return { ok: false, reason: 'invalid_entry', error: 'a held delivery needs d.{nid, dk, tenant, user_id} and n' };
      }
      return { ok: true, kind: 'recheck', held, tenant: d.tenant, userId: d.user_id };
    }
    const flush = JSON.parse(raw) as FlushRef;
    if (![flush.tenant, flush.user_id, flush.nid, flush.ck].every((v) => typeof v === 'string') || (flush.tp !== undefined && typeof flush.tp !== 'string')) {
      return { ok: false, reason: 'invalid_entry', error: 'a window end needs tenant, user_id, nid and ck' };
    }
    return { ok: true, kind: 'flush', flush, tenant: flush.tenant, userId: flush.user_id };
  } catch (err) {
    return { ok: false, reason: 'invalid_entry', error: `not JSON: ${(err as Error).message}` };
  }
}
