// Token bucket for a provider's send rate, with a pause the provider can impose (429 + Retry-After).

/** Pure over an injected clock. `rate` tokens per second refill up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes a token if one is there (returns 0), else returns how many ms until one will be. */
  take(now: number): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }

  /** Sends nothing until `until` (the provider said to back off); the bucket restarts empty-ish to avoid a burst. */
  pause(until: number): void {
    if (until <= this.pausedUntil) return;
    this.pausedUntil = until;
    this.tokens = Math.min(this.tokens, 1);
    this.last = until;
  }
}
