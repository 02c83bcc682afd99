// Idempotency-Key at the ingress (per tenant): reserve the key before accepting, replay the stored response to a
// repeat with the same body, refuse a different body (422) or a repeat while the first is still running (409).
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

/** Reserves every given key in one round trip; undefined entries stay undefined. */
export async function claimKeys(
  store: NotificationStore, tenant: string, requests: readonly ({ key: string; body: Record<string, unknown> } | undefined)[],
): Promise<(ClaimOutcome | undefined)[]> {
  const claims = requests.map((r) => {
    if (!r) return undefined;
    const fp = fingerprint(r.body);
    return { keyHash: keyHash(r.key), fp, value: inFlightValue(fp) };
  });
  const wanted = claims.filter((c): c is Claim => c !== undefined);
  const held = await store.reserve(tenant, wanted);
  let next = 0;
  return claims.map((claim) => (claim ? outcome(claim, held[next++] ?? null) : undefined));
}

function outcome(claim: Claim, held: string | null): ClaimOutcome {
  const r = decideReservation(held, claim.fp);
  switch (r.kind) {
    case 'fresh': return { kind: 'fresh', claim };
    case 'replay': return { kind: 'replay', response: r.response };
    case 'reused': return { kind: 'error', error: new ApiError('idempotency_key_reused') };
    case 'in_flight': return { kind: 'error', error: new ApiError('idempotency_key_in_flight') };
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
export function settle(result: AcceptResult, own: StoredResponse, claim: Claim | undefined): { response: StoredResponse; replayed: boolean } {
  if ('entryId' in result) return { response: own, replayed: false };
  const r = decideReservation(result.completed, claim?.fp ?? '');
  if (r.kind === 'replay') return { response: r.response, replayed: true };
  throw new ApiError('idempotency_key_reused');
}

/** Releases the reservations of requests that were not accepted; best effort (they expire anyway). */
export async function releaseAll(store: NotificationStore, tenant: string, claims: readonly (Claim | undefined)[]): Promise<void> {
  await Promise.all(claims.filter((c): c is Claim => c !== undefined).map((c) => store.release(tenant, c.keyHash, c.value).catch(() => undefined)));
}
