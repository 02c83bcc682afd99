// Pure: turns a send result into what happens next — sent, retried later, or failed (and dead-lettered).
import type { SendResult } from '../providers/types.js';
import { maskAddress } from './mask.js';
import type { DeliveryRecord } from './record.js';
import { backoffDelay, mayRetry, type RetryPolicy } from './retry.js';
import type { AttemptNote, DeliveryTask } from './task.js';
import type { DeliveryStatus, ProviderName } from './types.js';

/** A device token the provider says is dead; `at` is APNs' timestamp (ms) when given. */
export interface DeadToken {
  token: string;
  at?: number;
}

export type Outcome =
  | { kind: 'sent'; record: DeliveryRecord }
  | { kind: 'retry'; record: DeliveryRecord; dueAt: number; next: DeliveryTask }
  | { kind: 'failed'; record: DeliveryRecord; deadLetter?: { reason: string; task: DeliveryTask }; deadToken?: DeadToken };

/** Dead-letter reason of a delivery the provider refused for account-level reasons (bad credentials, suspension). */
export const PROVIDER_REFUSED = 'provider_refused';

/** Attempt history kept on a task (and so in a dead letter): the most recent notes. */
const HISTORY_KEPT = 20;

/** The stored record for a task in a given state. */
export function deliveryRecord(
  task: DeliveryTask, status: DeliveryStatus, provider: ProviderName | null, now: number,
  extra: { provider_message_id?: string; last_error?: string } = {},
): DeliveryRecord {
  return {
    user_id: task.user_id, channel: task.channel, provider, to: maskAddress(task.to), status,
    attempts: task.attempt, ...extra, updated_at: new Date(now).toISOString(),
  };
}

/**
 * `earlier`: this attempt's failures at the lane's providers tried before `provider` (a failover), oldest first; they
 * join the history ahead of this one, so it shows every provider's attempts in order.
 */
export function decideOutcome(
  task: DeliveryTask, provider: ProviderName, result: SendResult, policy: RetryPolicy, now: number, random: () => number,
  earlier: readonly AttemptNote[] = [],
): Outcome {
  if (result.ok) {
    return { kind: 'sent', record: deliveryRecord(task, 'sent', provider, now, { provider_message_id: result.providerMessageId }) };
  }
  const lastError = `${result.code}: ${result.message}`;
  const note: AttemptNote = { at: now, provider, code: result.code, message: result.message };
  if (result.suppressed) {
    return { kind: 'failed', record: { ...deliveryRecord(task, 'suppressed', provider, now, { last_error: lastError }), attempts: task.attempt - 1 } };
  }
  // Being told to slow down (429, quotas, an open circuit) is not an attempt: minutes of it would push the real
  // attempts out of the history, so throttles are only counted (`throttled`) and the last one kept (`last_throttle`).
  const throttled = result.throttled === true;
  const history = [...(task.history ?? []), ...earlier, ...(throttled ? [] : [note])].slice(-HISTORY_KEPT);
  if (!result.retryable) {
    const failed: Outcome = { kind: 'failed', record: deliveryRecord(task, 'failed', provider, now, { last_error: lastError }) };
    if (result.tokenInvalid && task.channel === 'push') {
      failed.deadToken = { token: task.to, ...(result.tokenInvalid.at !== undefined && { at: result.tokenInvalid.at }) };
    }
    // Refused for the provider's or our account's sake (credentials, suspension), not the message's own fault: kept in
    // the dead-letter stream with its history, to be redriven once the account is fixed.
    if (result.providerSide) failed.deadLetter = { reason: PROVIDER_REFUSED, task: { ...task, history } };
    return failed;
  }
  // Being told to slow down is not the message's fault: it costs time (bounded by the maximum age), not an attempt.
  const step = throttled ? (task.throttled ?? 0) + 1 : task.attempt;
  const delay = backoffDelay(policy, step, random, result.retryAfterMs);
  const allowed = throttled
    ? now + delay - task.accepted_at <= policy.maxAgeMs
    : mayRetry(policy, task.attempt, task.accepted_at, now, delay);
  if (allowed) {
    const next: DeliveryTask = throttled
      ? { ...task, throttled: step, last_throttle: note, history }
      : { ...task, attempt: task.attempt + 1, history };
    return { kind: 'retry', record: deliveryRecord(task, 'retrying', provider, now, { last_error: lastError }), dueAt: now + delay, next };
  }
  const reason = !throttled && task.attempt >= policy.maxAttempts ? 'attempts_exhausted' : 'max_age_exceeded';
  return {
    kind: 'failed',
    record: deliveryRecord(task, 'failed', provider, now, { last_error: lastError }),
    deadLetter: { reason, task: { ...task, history, ...(throttled && { throttled: step, last_throttle: note }) } },
  };
}
