// A promise with a deadline: what answers an operator (readiness, a metrics scrape) must not wait on a stalled Redis.

export class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Resolves as `p` does, or rejects with DeadlineError after `ms` (the work itself is not cancelled).
 * @example const pong = await withDeadline(redis.ping(), 1000, 'redis ping');
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
