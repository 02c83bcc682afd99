// Circuit breaker per provider: after repeated provider-side failures stop sending there for a while, then probe.

export interface BreakerPolicy {
  /** Consecutive provider-side failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses before letting one probe through. */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Pure state machine over an injected clock: closed → open (threshold) → half_open (after openMs, one probe) → closed | open. */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;
  private current: BreakerState = 'closed';

  constructor(private readonly policy: BreakerPolicy) {}

  /** May a send go now? In half_open only one probe is let through until it reports back. */
  tryPass(now: number): boolean {
    if (this.current === 'open') {
      if (now < this.openUntil) return false;
      this.current = 'half_open';
      this.probing = false;
    }
    if (this.current === 'half_open') {
      if (this.probing) return false;
      this.probing = true;
    }
    return true;
  }

  /** A probe that was let through did not go out after all: let the next one try. */
  cancelProbe(): void {
    this.probing = false;
  }

  /** The provider answered (success, or a failure that is the message's fault). */
  onAnswer(): void {
    this.current = 'closed';
    this.failures = 0;
    this.probing = false;
  }

  /** The provider failed on its side (5xx, timeout, connection, throttling, account refusal). */
  onProviderFailure(now: number): void {
    this.failures++;
    if (this.current === 'half_open' || this.failures >= this.policy.failureThreshold) {
      this.current = 'open';
      this.openUntil = now + this.policy.openMs;
      this.probing = false;
    }
  }

  state(now: number): BreakerState {
    return this.current === 'open' && now >= this.openUntil ? 'half_open' : this.current;
  }
}
