// What every adapter does around an SDK call: per-send timeout, channel check, and "never throw" for any outcome.
import type { Channel } from '../domain/types.js';
import { failure, networkFailure, timeoutFailure, unknownFailure } from './failure.js';
import type { OutboundMessage, SendFailure, SendResult } from './types.js';

/**
 * Runs one send with a deadline. When the deadline passes first, `signal` is aborted (so the SDK can drop the request)
 * and the result is a retryable `timeout` failure; a late SDK answer is then ignored.
 * Anything `run` throws becomes a classified failure via `classify`, then network rules, else `unknown`.
 */
export function guardedSend(
  provider: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<SendResult>,
  classify: (err: unknown) => SendFailure | undefined = () => undefined,
  /** false for SDKs that enforce their own deadline and take no signal: spares an AbortController per send. */
  withSignal = true,
): Promise<SendResult> {
  const controller = withSignal ? new AbortController() : undefined;
  return new Promise<SendResult>((resolve) => {
    let done = false;
    const finish = (r: SendResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish(timeoutFailure(provider, timeoutMs));
      controller?.abort();
    }, timeoutMs);
    let pending: Promise<SendResult>;
    try {
      pending = run(controller?.signal as AbortSignal);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(finish, (err: unknown) => {
      finish(classify(err) ?? networkFailure(provider, err) ?? unknownFailure(provider, err));
    });
  });
}

/** A message of another channel reached this adapter: a routing bug, never retried. */
export function wrongChannel(provider: string, expected: Channel, message: OutboundMessage): SendFailure | undefined {
  if (message.channel === expected) return undefined;
  return failure(provider, { code: 'wrong_channel', retryable: false, providerSide: false, detail: `got a ${message.channel} message` });
}

/**
 * The send's answer if it comes within `timeoutMs`; else a retryable `timeout` failure carrying the still-pending
 * answer as `late` (the request is not dropped: it runs on to the adapter's own bound).
 */
export function answerWithin(provider: string, timeoutMs: number, pending: Promise<SendResult>): Promise<SendResult> {
  return new Promise<SendResult>((resolve) => {
    const timer = setTimeout(() => resolve({ ...timeoutFailure(provider, timeoutMs), late: pending }), timeoutMs);
    pending.then((r) => {
      clearTimeout(timer);
      resolve(r);
    }, (err: unknown) => {
      clearTimeout(timer);
      resolve(unknownFailure(provider, err));
    });
  });
}
