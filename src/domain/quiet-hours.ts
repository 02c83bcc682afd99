// Pure: quiet hours in the user's time zone — whether a moment falls inside them and when they end (DST-aware).

/** A daily window in local wall-clock time, "HH:MM" or "HH:MM:SS"; `start` after `end` wraps past midnight. */
export interface QuietHours {
  start: string;
  end: string;
}

export const CLOCK_TIME = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/** "22:00" → 79200 (seconds since local midnight). */
export function secondsOfDay(time: string): number {
  const m = CLOCK_TIME.exec(time);
  if (!m) throw new Error(`"${time}" is not HH:MM or HH:MM:SS`);
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0);
}

interface Wall {
  y: number;
  mo: number;
  d: number;
  /** Seconds since local midnight. */
  s: number;
}

// One formatter per zone: building them is the expensive part, and there are only a few hundred zones.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(t: number, timeZone: string): Wall {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(t)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year!, mo: p.month!, d: p.day!, s: p.hour! * 3600 + p.minute! * 60 + p.second! };
}

/** Offset of the zone from UTC at instant t, in ms (local = utc + offset). */
function offsetAt(t: number, timeZone: string): number {
  const w = wallClock(t, timeZone);
  return Date.UTC(w.y, w.mo - 1, w.d) + w.s * 1000 - Math.floor(t / 1000) * 1000;
}

/** The instant a local wall time happens (a time skipped by a DST jump maps to just after the jump). */
function instantOf(y: number, mo: number, d: number, s: number, timeZone: string): number {
  const guess = Date.UTC(y, mo - 1, d) + s * 1000;
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  return Math.max(first, second);
}

/**
 * Pure: when the quiet window that `now` falls in ends (ms since epoch), or null when `now` is outside quiet hours.
 * @example quietUntil(Date.parse('2025-01-10T23:30:00Z'), { start: '22:00', end: '07:00' }, 'UTC') // 2025-01-11T07:00Z
 */
export function quietUntil(now: number, q: QuietHours, timeZone = 'UTC'): number | null {
  const start = secondsOfDay(q.start);
  const end = secondsOfDay(q.end);
  if (start === end) return null;
  const w = wallClock(now, timeZone);
  const wraps = start > end;
  const inside = wraps ? w.s >= start || w.s < end : w.s >= start && w.s < end;
  if (!inside) return null;
  // The end is today, unless the window wraps and we are in its evening part.
  const dayOffset = wraps && w.s >= start ? 1 : 0;
  const day = new Date(Date.UTC(w.y, w.mo - 1, w.d + dayOffset));
  const until = instantOf(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), end, timeZone);
  return until > now ? until : now + 1000;
}
