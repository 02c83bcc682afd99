// Sizes and durations of the chaos scenarios: a bounded form for CI (default) and a full one (CHAOS_SCALE=full).
export const FULL = process.env.CHAOS_SCALE === 'full';

export interface Scale {
  /** Notifications submitted per scenario. */
  notifications: number;
  /** Submission rate (per second), so the chaos lands while traffic flows. */
  ratePerSec: number;
  /** Worker kill -9 rounds (each: kill one worker mid-batch, start a replacement). */
  kills: number;
  /** Redis kill -9 + restart rounds, and how long Redis stays down each time. */
  redisKills: number;
  redisDownMs: number;
  /** How long a worker stays SIGSTOPped: longer than the claim idle time (4 s) and the sandbox send timeout (5 s). */
  stopMs: number;
  /** Provider storms: 429 stretch and timeout stretch. */
  throttleMs: number;
  timeoutMs: number;
  /** Duplicate submissions: logical requests, and copies of each sent at once. */
  dupRequests: number;
  dupCopies: number;
  /** Longest wait for the system to drain after the chaos stops. */
  drainMs: number;
}

export const SCALE: Scale = FULL
  ? {
    notifications: 6_000, ratePerSec: 100, kills: 4, redisKills: 3, redisDownMs: 12_000, stopMs: 10_000,
    throttleMs: 150_000, timeoutMs: 20_000, dupRequests: 1_000, dupCopies: 10, drainMs: 240_000,
  }
  : {
    notifications: 1_000, ratePerSec: 120, kills: 1, redisKills: 1, redisDownMs: 3_000, stopMs: 6_000,
    throttleMs: 5_000, timeoutMs: 3_000, dupRequests: 150, dupCopies: 6, drainMs: 60_000,
  };
