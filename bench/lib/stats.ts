// Pure helpers: percentiles, steady-state rates, "levels off", ratios against targets, and plain-text tables.

/** Nearest-rank percentile (p in 0..100) of unsorted numbers; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Whether a series levels off: the peak of its last third is at most `tolerance` (fraction) above the peak of its
 * middle third. Fewer than 6 points cannot tell: undefined.
 */
export function levelsOff(series: readonly number[], tolerance = 0.1): boolean | undefined {
  if (series.length < 6) return undefined;
  const third = Math.floor(series.length / 3);
  const middle = Math.max(...series.slice(third, 2 * third));
  const last = Math.max(...series.slice(2 * third));
  return last <= middle * (1 + tolerance);
}

/** A phase's memory over time: the tracked processes' RSS summed per sample, and Redis used_memory (MB). */
export interface MemorySummary {
  rssStartMB: number | undefined;
  peakRssMB: number;
  endRssMB: number | undefined;
  rssLevelsOff: boolean | undefined;
  redisStartMB: number | undefined;
  redisPeakMB: number;
  redisEndMB: number | undefined;
}

export function memorySummary(samples: readonly { rss: Record<string, number>; redisUsedMB: number }[], procs: Record<string, number>): MemorySummary {
  const rss = samples.map((s) => Object.entries(s.rss).filter(([name]) => name in procs).reduce((a, [, v]) => a + v, 0));
  const redis = samples.map((s) => s.redisUsedMB);
  return {
    rssStartMB: rss[0], peakRssMB: Math.max(0, ...rss), endRssMB: rss.at(-1), rssLevelsOff: levelsOff(rss),
    redisStartMB: redis[0], redisPeakMB: Math.max(0, ...redis), redisEndMB: redis.at(-1),
  };
}

export interface Target {
  /** What is compared, e.g. "e2e push: ours ÷ BullMQ". */
  name: string;
  /** Measured value (a ratio, or ms, or a yes/no). */
  value: number | boolean | undefined;
  /** How the goal is written, e.g. "≥ 3×", "≤ 20 ms". */
  goal: string;
  met: boolean | undefined;
  /** The two figures a ratio came from, for the reader. */
  detail?: string;
  /** How a ratio is shown when the goal does not say (context rows). */
  show?: '×' | '%';
}

/** A ratio target: ours ÷ base ≥ min. */
export function ratioTarget(name: string, ours: number | undefined, base: number | undefined, min: number, detail?: (o: number, b: number) => string, asPercent = false): Target {
  if (ours === undefined || base === undefined || !(base > 0)) return { name, value: undefined, goal: goalText(min, asPercent), met: undefined };
  const ratio = ours / base;
  return { name, value: ratio, goal: goalText(min, asPercent), met: ratio >= min, detail: detail?.(ours, base) };
}

const goalText = (min: number, asPercent: boolean) => (asPercent ? `≥ ${Math.round(min * 100)} %` : `≥ ${min}×`);

export function maxTarget(name: string, value: number | undefined, max: number, unit: string): Target {
  return { name, value, goal: `≤ ${max} ${unit}`, met: value === undefined ? undefined : value <= max };
}

export function formatTargetValue(t: Target): string {
  if (t.value === undefined) return 'n/a';
  if (typeof t.value === 'boolean') return t.value ? 'yes' : 'no';
  if (t.show === '×') return `${t.value.toFixed(2)}×`;
  if (t.goal.includes('%') || t.goal === '(context)') return `${(t.value * 100).toFixed(0)} %`;
  if (t.goal.includes('×')) return `${t.value.toFixed(2)}×`;
  return `${t.value.toFixed(1)}${t.goal.endsWith(' ms') ? ' ms' : ''}`;
}

export const verdict = (met: boolean | undefined): string => (met === undefined ? '–' : met ? 'met' : 'NOT met');

/** Formats a number for tables: thousands separators, at most `digits` decimals. */
export function num(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** A plain-text table with aligned columns (numbers right-aligned). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const isNum = (s: string) => /^[-\d.,]+( ?[%×a-zA-Z/]+)?$/.test(s) || s === 'n/a';
  const line = (cells: string[]) =>
    cells.map((c, i) => (isNum(c) && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A GitHub markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
