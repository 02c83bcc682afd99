// Guards one provider: circuit breaker, send-rate limit, concurrency cap, and the pause a 429 asks for. A send that
// would wait too long is not held: it comes back as a throttled failure, to be retried from the delayed set.
import { CircuitBreaker, type BreakerPolicy, type BreakerState } from '../domain/circuit-breaker.js';
import { TokenBucket } from '../domain/token-bucket.js';
import type { ProviderName } from '../domain/types.js';
import type { OutboundMessage, ProviderAdapter, SendFailure, SendResult } from '../providers/types.js';
import { Semaphore } from './semaphore.js';

export interface GatePolicy {
  /** Sends per second to this provider from this process; undefined = unlimited. */
  ratePerSec?: number;
  maxConcurrent: number;
  breaker: BreakerPolicy;
  /** Pause after a throttled answer that gave no Retry-After. */
  throttlePauseMs: number;
  /** Longest a send may wait here for its turn before it is handed back as throttled. */
  maxWaitMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ProviderGate {
  readonly name: ProviderName;
  private readonly breaker: CircuitBreaker;
  private readonly bucket: TokenBucket | undefined;
  private readonly slots: Semaphore;
  private pausedUntil = 0;

  constructor(
    private readonly adapter: ProviderAdapter,
    private readonly policy: GatePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.name = adapter.name;
    this.breaker = new CircuitBreaker(policy.breaker);
    this.bucket = policy.ratePerSec ? new TokenBucket(policy.ratePerSec, Math.max(1, policy.ratePerSec), now()) : undefined;
    this.slots = new Semaphore(policy.maxConcurrent);
  }

  /** False while the circuit is open; in half-open, true for the one probe. */
  tryEnter(): boolean {
    return this.breaker.tryPass(this.now());
  }

  breakerState(): BreakerState {
    return this.breaker.state(this.now());
  }

  /** Milliseconds until the circuit lets a probe through (0 when closed). */
  openFor(): number {
    return this.breakerState() === 'open' ? this.policy.breaker.openMs : 0;
  }

  /**
   * Sends through the adapter once the gate allows it. `around` wraps only the adapter call (the provider's HTTP
   * exchange), so what it times and traces excludes the waits here; a send refused here never calls it.
   */
  async send(message: OutboundMessage, around?: (call: () => Promise<SendResult>) => Promise<SendResult>): Promise<SendResult> {
    const waited = await this.waitTurn();
    if (waited) {
      this.breaker.cancelProbe();
      return waited;
    }
    await this.slots.acquire();
    let result: SendResult;
    try {
      result = await (around ? around(() => this.adapter.send(message)) : this.adapter.send(message));
    } finally {
      this.slots.release();
    }
    if (result.ok || !result.providerSide) this.breaker.onAnswer();
    else this.breaker.onProviderFailure(this.now());
    if (!result.ok && result.throttled) this.pause(result.retryAfterMs ?? this.policy.throttlePauseMs);
    return result;
  }

  /** Waits for the pause and the rate limit; returns a throttled failure instead of waiting longer than maxWaitMs. */
  private async waitTurn(): Promise<SendFailure | undefined> {
    for (let waitedMs = 0; ; ) {
      const t = this.now();
      const wait = t < this.pausedUntil ? this.pausedUntil - t : (this.bucket?.take(t) ?? 0);
      if (wait === 0) return undefined;
      if (waitedMs + wait > this.policy.maxWaitMs) {
        return {
          ok: false, retryable: true, providerSide: true, throttled: true, local: true, code: 'local_throttle',
          message: `${this.name}: sending is paused or rate-limited here for ${wait} ms`, retryAfterMs: wait,
        };
      }
      await sleep(wait);
      waitedMs += wait;
    }
  }

  private pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.bucket?.pause(this.pausedUntil);
  }
}
