// Pure: decodes an ingest stream entry (from the HTTP ingress or a direct XADD producer) or says why it cannot be used.
import { StreamEntrySchema, type StreamEntry } from './schemas.js';

export type ParsedEntry =
  | { ok: true; n: StreamEntry; nid: string; acceptedAt: number; recipients: string[]; traceparent?: string }
  | { ok: false; reason: 'missing_payload' | 'invalid_json' | 'invalid_entry' | 'unknown_tenant'; error: string };

/** Entry field `src` of entries the HTTP ingress wrote (see accept.lua). */
export const ACCEPTED_BY_INGRESS = 'api';

/** Direct producers that give no id get one derived from the entry id, so a re-read entry keeps its id. */
export const idForEntry = (entryId: string): string => `x-${entryId}`;

export function parseEntry(entryId: string, fields: Record<string, string>, tenants: ReadonlySet<string>): ParsedEntry {
  const payload = fields.payload;
  if (payload === undefined) return { ok: false, reason: 'missing_payload', error: 'the entry has no "payload" field' };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (err) {
    return { ok: false, reason: 'invalid_json', error: `payload is not JSON: ${(err as Error).message}` };
  }
  let n: StreamEntry;
  if (fields.src === ACCEPTED_BY_INGRESS) {
    // The ingress validated it with the same schema before writing it: a second check would cost ~10 µs each.
    n = json as StreamEntry;
  } else {
    const parsed = StreamEntrySchema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      return { ok: false, reason: 'invalid_entry', error: issues.join('; ') };
    }
    n = parsed.data;
  }
  if (!tenants.has(n.tenant)) return { ok: false, reason: 'unknown_tenant', error: `tenant "${n.tenant}" is not configured` };
  const recipients = n.user_id !== undefined ? [n.user_id] : [...new Set(n.to!.map((t) => t.user_id))];
  const acceptedAt = n.accepted_at ?? Number(entryId.split('-')[0]);
  const tp = fields.traceparent;
  return { ok: true, n, nid: n.id ?? idForEntry(entryId), acceptedAt, recipients, ...(tp && { traceparent: tp }) };
}
