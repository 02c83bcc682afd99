// Pure: Idempotency-Key fingerprints and what a repeat gets (Stripe / IETF draft rules, per tenant).
import { createHash, randomBytes } from 'node:crypto';

export const MAX_IDEMPOTENCY_KEY = 255;

/** What the ingress answered; a repeat with the same body gets exactly this. */
export interface StoredResponse {
  id: string;
  status: string;
}

/**
 * The value kept under the key: reserved while the first request runs, then its response. `tok` is random per request:
 * it names the reservation's owner, so a request that meets its own reservation again (its SET re-sent by ioredis
 * after a reconnect: the first one ran but its reply was lost) knows it is its own.
 */
export type IdempotencyRecord =
  | { state: 'in_flight'; fp: string; tok: string }
  | { state: 'done'; fp: string; response: StoredResponse };

export type Reservation =
  | { kind: 'fresh' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'reused' }
  | { kind: 'in_flight' };

/** JSON with object keys sorted at every level, so the same body always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Fingerprint of a request body (its `idempotency_key` field left out). */
export function fingerprint(body: Record<string, unknown>): string {
  const { idempotency_key: _key, ...rest } = body;
  return createHash('sha256').update(canonicalJson(rest)).digest('base64url');
}

/** The key's hash names its Redis key, so the key itself (client data) never appears in key names. */
export const keyHash = (key: string): string => createHash('sha256').update(key).digest('base64url');

export function inFlightValue(fp: string): string {
  return JSON.stringify({ state: 'in_flight', fp, tok: randomBytes(8).toString('hex') } satisfies IdempotencyRecord);
}

export function doneValue(fp: string, response: StoredResponse): string {
  return JSON.stringify({ state: 'done', fp, response } satisfies IdempotencyRecord);
}

/**
 * Pure: what a request with fingerprint `fp` gets, given what the key held when it tried to reserve it (null: nothing,
 * so the reservation is this request's). `own`: the value this request reserves with; meeting exactly that is meeting
 * its own reservation (made by the same SET, re-sent), so it is this request's too.
 */
export function decideReservation(existing: string | null, fp: string, own?: string): Reservation {
  if (existing === null || existing === own) return { kind: 'fresh' };
  const held = JSON.parse(existing) as IdempotencyRecord;
  if (held.fp !== fp) return { kind: 'reused' };
  return held.state === 'done' ? { kind: 'replay', response: held.response } : { kind: 'in_flight' };
}
