// Pure: when a failed webhook attempt is tried again, and when an endpoint that keeps failing is disabled.

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `"5s,30s,2m,1h"` (units ms, s, m, h; a bare number is ms) → waits in ms. */
export function parseSchedule(text: string): number[] {
  const out = text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)(ms|s|m|h)?\s*$/.exec(part);
    if (!m) throw new Error(`"${part.trim()}" is not a duration (e.g. 500ms, 5s, 2m, 1h)`);
    return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
  });
  if (out.length === 0) throw new Error('give at least one wait');
  return out;
}

/**
 * Retry-After (seconds, or an HTTP date) as ms from `now`; undefined when absent or unreadable. Never negative.
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1_000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `failures` (1 after the first failure), or undefined when the schedule is spent
 * (dead-letter). Jitter: ±20 % (`random` in [0, 1)). A Retry-After wins when it asks for longer, capped at `maxRetryAfterMs`.
 */
export function retryDelay(failures: number, schedule: readonly number[], retryAfterMs: number | undefined, maxRetryAfterMs: number, random: number): number | undefined {
  const base = schedule[failures - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (0.8 + 0.4 * random));
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, maxRetryAfterMs));
}

/** Whether an endpoint failing `failures` times in a row since `failingSince` is disabled now. */
export function shouldDisable(failures: number, failingSince: number | undefined, now: number, opts: { disableAfterFailures: number; disableAfterMs: number }): boolean {
  return failingSince !== undefined && failures >= opts.disableAfterFailures && now - failingSince >= opts.disableAfterMs;
}
