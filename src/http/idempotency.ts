// Idempotency-Key at the ingress (per tenant): reserve the key before accepting, replay the stored response to a
// repeat with the same body, refuse a different body (422) or a repeat while the first is still running (409). Each
// reservation carries its request's random token, so a request recognises its own (see decideReservation).
import { decideReservation, doneValue, fingerprint, inFlightValue, keyHash, MAX_IDEMPOTENCY_KEY, type StoredResponse } from '../domain/idempotency.js';
import type { AcceptResult, NotificationStore } from '../store/notifications.js';
import { ApiError } from './errors.js';

/** A reservation this request holds: released if the request does not get accepted. */
export interface Claim {
  keyHash: string;
  fp: string;
  value: string;
}

export type ClaimOutcome =
  | { kind: 'fresh'; claim: Claim }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'error'; error: ApiError };

/** The key from the header (or the item's `idempotency_key`), checked; undefined when none was given. */
export function idempotencyKey(raw: string | undefined, field = 'Idempotency-Key'): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length === 0 || raw.length > MAX_IDEMPOTENCY_KEY) {
    throw new ApiError('validation_failed', `${field}: must be 1-${MAX_IDEMPOTENCY_KEY} characters`, field);
  }
  return raw;
}

/**
 * Reserves every given key in one round trip; undefined entries stay undefined. `field` is what a refusal names: the
 * header, or the body's (or batch item's) `idempotency_key`.
 */
export async function claimKeys(
  store: NotificationStore, tenant: string, requests: readonly ({ key: string; body: Record<string, unknown>; field?: string } | undefined)[],
): Promise<(ClaimOutcome | undefined)[]> {
  const claims = requests.map((r) => {
    if (!r) return undefined;
    const fp = fingerprint(r.body);
    return { keyHash: keyHash(r.key), fp, value: inFlightValue(fp) };
  });
  const wanted = claims.filter((c): c is Claim => c !== undefined);
  let held: (string | null)[];
  try {
    held = await store.reserve(tenant, wanted);
  } catch (err) {
    // Some of the SETs may have run (one of a batch failed, or the connection broke after they ran): give back what
    // is ours, or the client's retry would be refused until the reservations expire.
    await releaseAll(store, tenant, wanted);
    throw err;
  }
  // A reservation of a request of this process that failed while Redis was unreachable (its release was not sent then,
  // or ran only after this SET): the retry gives it back and reserves afresh instead of being refused until it expires.
  const stale = wanted.flatMap((_, i) => (held[i] != null && store.abandoned(held[i]!) ? [i] : []));
  if (stale.length > 0) {
    await Promise.all(stale.map((i) => store.release(tenant, wanted[i]!.keyHash, held[i]!)));
    const again = await store.reserve(tenant, stale.map((i) => wanted[i]!));
    stale.forEach((i, j) => (held[i] = again[j] ?? null));
  }
  let next = 0;
  return claims.map((claim, i) => (claim ? outcome(claim, held[next++] ?? null, requests[i]!.field) : undefined));
}

function outcome(claim: Claim, held: string | null, field?: string): ClaimOutcome {
  // Meeting its own value: this request's SET ran twice (re-sent after a reconnect), the reservation is its own.
  const r = decideReservation(held, claim.fp, claim.value);
  switch (r.kind) {
    case 'fresh': return { kind: 'fresh', claim };
    case 'replay': return { kind: 'replay', response: r.response };
    case 'reused': return { kind: 'error', error: keyError('idempotency_key_reused', field) };
    case 'in_flight': return { kind: 'error', error: keyError('idempotency_key_in_flight', field) };
  }
}

/** The value that completes a claim (written by accept.lua together with the notification). */
export const completion = (claim: Claim, response: StoredResponse): { keyHash: string; done: string } => ({
  keyHash: claim.keyHash, done: doneValue(claim.fp, response),
});

/**
 * What an accepted item answers: its own response, or — when another request completed the same key first (this
 * one's reservation had expired) — that request's response, or 422 if its body differed.
 */
export function settle(
  result: AcceptResult, own: StoredResponse, claim: Claim | undefined, field?: string,
): { response: StoredResponse; replayed: boolean } {
  if ('entryId' in result) return { response: own, replayed: false };
  // Its own completion: accept.lua ran twice (re-sent after a reconnect), the first run accepted this very item.
  if (claim && result.completed === doneValue(claim.fp, own)) return { response: own, replayed: false };
  const r = decideReservation(result.completed, claim?.fp ?? '');
  if (r.kind === 'replay') return { response: r.response, replayed: true };
  throw keyError('idempotency_key_reused', field);
}

/** A refused key, naming where it came from and what would be accepted instead. */
function keyError(code: 'idempotency_key_reused' | 'idempotency_key_in_flight', field: string | undefined): ApiError {
  const what = code === 'idempotency_key_reused'
    ? 'this key was used with a different request body; a repeat must send the same body, a different request needs a new key'
    : 'a request with this key is still being processed; retry shortly with the same body';
  return new ApiError(code, field ? `${field}: ${what}` : what, field);
}

/**
 * Releases the reservations of requests that were not accepted; best effort (they expire anyway). While Redis is
 * unreachable it does not wait: the store gives them back once Redis is back.
 */
export async function releaseAll(store: NotificationStore, tenant: string, claims: readonly (Claim | undefined)[]): Promise<void> {
  await Promise.all(claims.filter((c): c is Claim => c !== undefined).map((c) => store.release(tenant, c.keyHash, c.value).catch(() => undefined)));
}
