// Pure: decodes an ingest stream entry (from the HTTP ingress or a direct XADD producer) or says why it cannot be used.
import { PARAMS_MAX_BYTES, PARAMS_MAX_DEPTH, StreamEntrySchema, type StreamEntry } from './schemas.js';
import { jsonBoundsProblem } from './json-bounds.js';
import { CHANNELS } from './types.js';

export type ParsedEntry =
  | { ok: true; n: StreamEntry; nid: string; acceptedAt: number; recipients: string[]; traceparent?: string }
  | { ok: false; reason: 'missing_payload' | 'invalid_json' | 'invalid_entry' | 'unknown_tenant'; error: string };

/** Entry field `src` of entries the HTTP ingress wrote (see accept.lua). */
export const ACCEPTED_BY_INGRESS = 'api';

/** W3C trace context `traceparent`: version-traceid-parentid-flags, lower-case hex. */
export const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Direct producers that give no id get one derived from the entry id, so a re-read entry keeps its id. */
export const idForEntry = (entryId: string): string => `x-${entryId}`;

/** Never throws: whatever is wrong with one entry is reported for that entry alone. */
export function parseEntry(entryId: string, fields: Record<string, string>, tenants: ReadonlySet<string>): ParsedEntry {
  try {
    return decode(entryId, fields, tenants);
  } catch (err) {
    return { ok: false, reason: 'invalid_entry', error: `the entry cannot be used: ${(err as Error).message}` };
  }
}

function decode(entryId: string, fields: Record<string, string>, tenants: ReadonlySet<string>): ParsedEntry {
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
    // The ingress validated it with the same schema before writing it: a second zod check would cost ~10 µs each.
    // Anyone can write `src`, though, so check the shape of everything the workers rely on (well under 1 µs).
    const problem = shapeProblem(json);
    if (problem) return { ok: false, reason: 'invalid_entry', error: `src=api entry: ${problem}` };
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
  // Kept only in its W3C form: it travels on in stream entries and delayed-set members, where a newline would split it.
  const tp = fields.traceparent !== undefined && TRACEPARENT.test(fields.traceparent) ? fields.traceparent : undefined;
  return { ok: true, n, nid: n.id ?? idForEntry(entryId), acceptedAt, recipients, ...(tp && { traceparent: tp }) };
}

const STRING_FIELDS = ['id', 'template', 'category', 'event_id', 'priority', 'send_at', 'collapse_key', 'digest_template'] as const;
const OBJECT_FIELDS = ['params', 'data'] as const;
const CONTENT_FIELDS = ['title', 'body', 'subject', 'html', 'text'] as const;
const KNOWN_CHANNELS: ReadonlySet<unknown> = new Set(CHANNELS);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The cheap check for entries marked as the ingress's: the types of every field the workers read or dereference (not
 * the schema's finer rules — formats and lengths — which the ingress enforced). Undefined when the shape is usable.
 */
export function shapeProblem(json: unknown): string | undefined {
  if (!isObject(json)) return 'the payload is not a JSON object';
  if (typeof json.tenant !== 'string') return 'tenant must be a string';
  const to = json.to;
  if (json.user_id !== undefined) {
    if (typeof json.user_id !== 'string') return 'user_id must be a string';
    if (to !== undefined) return 'give exactly one of user_id or to';
  } else {
    if (!Array.isArray(to) || to.length === 0) return 'give user_id or a non-empty to[]';
    for (const t of to) if (!isObject(t) || typeof t.user_id !== 'string') return 'every to[] item needs a string user_id';
  }
  for (const f of STRING_FIELDS) if (json[f] !== undefined && typeof json[f] !== 'string') return `${f} must be a string`;
  for (const f of OBJECT_FIELDS) if (json[f] !== undefined && !isObject(json[f])) return `${f} must be an object`;
  // Bounded before anything recursive (a fingerprint, the renderer) sees it, as the ingress bounds it.
  if (json.params !== undefined && jsonBoundsProblem(json.params, { maxDepth: PARAMS_MAX_DEPTH, maxBytes: PARAMS_MAX_BYTES })) {
    return `params must be nested at most ${PARAMS_MAX_DEPTH} levels and at most ${PARAMS_MAX_BYTES} bytes of JSON`;
  }
  if (json.send_at !== undefined && Number.isNaN(Date.parse(json.send_at as string))) return 'send_at must be a date';
  if (json.accepted_at !== undefined && !Number.isFinite(json.accepted_at)) return 'accepted_at must be a number';
  const channels = json.channels;
  if (channels !== undefined && (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => KNOWN_CHANNELS.has(c)))) {
    return `channels must be a non-empty list of ${CHANNELS.join(', ')}`;
  }
  const content = json.content;
  if (content !== undefined) {
    if (!isObject(content)) return 'content must be an object';
    for (const f of CONTENT_FIELDS) if (content[f] !== undefined && typeof content[f] !== 'string') return `content.${f} must be a string`;
  }
  if ((json.template === undefined) === (content === undefined)) return 'give exactly one of template or content';
  return undefined;
}
