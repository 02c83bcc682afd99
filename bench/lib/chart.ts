// A dependency-free SVG chart of a run: throughput over time, memory over time, and the latency distributions.
import type { Measurement } from './context.js';
import type { Sample } from './sampler.js';

const W = 1000;
const PANEL_H = 260;
const M = { l: 70, r: 20, t: 30, b: 40 };
const COLORS: Record<string, string> = {
  ours: '#1f77b4', bullmq: '#ff7f0e', 'bare-minimum': '#2ca02c', 'bare-ceiling': '#7f7f7f',
  'empty-hono': '#9467bd', 'xadd-bare': '#8c564b', 'xadd-contract': '#17becf', other: '#bcbd22',
};
const LAT_COLORS = ['#1f77b4', '#d62728', '#9467bd', '#ff7f0e', '#2ca02c', '#8c564b', '#e377c2'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 1e6 ? `${+(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${+(v / 1e3).toFixed(1)}k` : `${+v.toFixed(v < 10 ? 1 : 0)}`);

/** The system a sampler phase belongs to ("end-to-end/bullmq/max" → bullmq). */
export function systemOfPhase(phase: string): string {
  const parts = phase.split('/');
  const s = parts[1] ?? 'other';
  if (s === 'fill' || s === 'drain') return 'ours';
  return s in COLORS ? s : s === 'ours' ? 'ours' : 'other';
}

interface Axis { min: number; max: number; log: boolean }
function scale(a: Axis, lo: number, hi: number): (v: number) => number {
  if (a.log) {
    const l0 = Math.log10(a.min);
    const l1 = Math.log10(a.max);
    return (v) => lo + ((Math.log10(Math.max(a.min, v)) - l0) / (l1 - l0 || 1)) * (hi - lo);
  }
  return (v) => lo + ((v - a.min) / (a.max - a.min || 1)) * (hi - lo);
}

function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) out.push(v);
    }
  }
  return out;
}

function linTicks(min: number, max: number, n = 5): number[] {
  const step = niceStep((max - min) / n);
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(v);
  return out;
}
function niceStep(raw: number): number {
  const e = 10 ** Math.floor(Math.log10(raw || 1));
  const f = raw / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

function panel(y0: number, title: string, xAxis: Axis, yAxis: Axis, xLabel: string, yLabel: string, xTickFmt: (v: number) => string, xTicks: number[], body: (x: (v: number) => number, y: (v: number) => number) => string): string {
  const x = scale(xAxis, M.l, W - M.r);
  const y = scale(yAxis, y0 + PANEL_H - M.b, y0 + M.t);
  const yt = yAxis.log ? logTicks(yAxis.min, yAxis.max) : linTicks(yAxis.min, yAxis.max);
  const parts = [
    `<text x="${M.l}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${M.l}" y="${y0 + M.t}" width="${W - M.l - M.r}" height="${PANEL_H - M.t - M.b}" fill="none" stroke="#ccc"/>`,
    ...yt.map((v) => `<line x1="${M.l}" x2="${W - M.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${M.l - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(v)}</text>`),
    ...xTicks.map((v) => `<text x="${x(v).toFixed(1)}" y="${y0 + PANEL_H - M.b + 15}" font-size="11" text-anchor="middle">${esc(xTickFmt(v))}</text>`),
    `<text x="${(M.l + W - M.r) / 2}" y="${y0 + PANEL_H - 6}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="14" y="${y0 + PANEL_H / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${y0 + PANEL_H / 2})">${esc(yLabel)}</text>`,
    body(x, y),
  ];
  return parts.join('\n');
}

function legend(x0: number, y0: number, items: [string, string][]): string {
  return items.map(([label, color], i) =>
    `<rect x="${x0}" y="${y0 + i * 16}" width="12" height="3" fill="${color}"/><text x="${x0 + 16}" y="${y0 + i * 16 + 5}" font-size="11">${esc(label)}</text>`).join('\n');
}

const path = (pts: [number, number][]) => pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join('');

/** Renders the run's chart; panels without data are left out. */
export function renderChart(samples: readonly Sample[], results: readonly Measurement[], title: string): string {
  const panels: string[] = [];
  let y0 = 30;
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const xAxis: Axis = { min: 0, max: tMax, log: false };
  const xt = linTicks(0, tMax, 10);

  // 1. Throughput over time, one segment per phase, coloured by system (log scale: baselines are far apart).
  const rated = samples.filter((s) => s.rate > 0);
  if (rated.length > 1) {
    const yAxis: Axis = { min: Math.max(1, Math.min(...rated.map((s) => s.rate)) / 2), max: Math.max(...rated.map((s) => s.rate)) * 1.5, log: true };
    const phases = [...new Set(samples.map((s) => s.phase))];
    const used = new Set<string>();
    panels.push(panel(y0, 'Throughput over time (per second, log scale)', xAxis, yAxis, 'seconds since start', 'rate /s', (v) => `${v}`, xt, (x, y) =>
      phases.map((p) => {
        const pts = samples.filter((s) => s.phase === p && s.rate > 0).map((s): [number, number] => [x(s.t), y(s.rate)]);
        const sys = systemOfPhase(p);
        used.add(sys);
        const first = pts[0];
        const label = first ? `<text x="${first[0].toFixed(1)}" y="${(first[1] - 4).toFixed(1)}" font-size="9" fill="#555">${esc(p.replace(/^[^/]+\//, ''))}</text>` : '';
        return pts.length ? `<path d="${path(pts)}" fill="none" stroke="${COLORS[sys] ?? COLORS.other}" stroke-width="1.5"/>${label}` : '';
      }).join('\n') + legend(W - M.r - 130, y0 + M.t + 6, [...used].map((s) => [s, COLORS[s] ?? COLORS.other!]))));
    y0 += PANEL_H;
  }

  // 2. Memory: RSS of the processes under test (summed) and Redis used_memory.
  if (samples.length > 1) {
    const rssOf = (s: Sample) => Object.entries(s.rss).filter(([n]) => n !== 'redis-server' && n !== 'fakes' && n !== 'bench').reduce((a, [, v]) => a + v, 0);
    const maxMB = Math.max(1, ...samples.map((s) => Math.max(rssOf(s), s.redisUsedMB)));
    const yAxis: Axis = { min: 0, max: maxMB * 1.1, log: false };
    panels.push(panel(y0, 'Memory over time (MB)', xAxis, yAxis, 'seconds since start', 'MB', (v) => `${v}`, xt, (x, y) => {
      const byPhase = [...new Set(samples.map((s) => s.phase))];
      const lines = byPhase.map((p) => {
        const ss = samples.filter((s) => s.phase === p);
        return `<path d="${path(ss.map((s) => [x(s.t), y(rssOf(s))]))}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>` +
          `<path d="${path(ss.map((s) => [x(s.t), y(s.redisUsedMB)]))}" fill="none" stroke="#d62728" stroke-width="1.5"/>`;
      }).join('\n');
      return lines + legend(W - M.r - 200, y0 + M.t + 6, [['RSS of processes under test', '#1f77b4'], ['Redis used_memory', '#d62728']]);
    }));
    y0 += PANEL_H;
  }

  // 3. Latency distributions (accept → receipt at the fake), percentile on a "nines" axis.
  const lat = results.filter((m) => m.latency?.points && m.latency.points.length > 1);
  if (lat.length) {
    const nines = (p: number) => -Math.log10(Math.max(1e-6, 1 - Math.min(p, 99.9999) / 100));
    const all = lat.flatMap((m) => m.latency!.points!);
    const xA: Axis = { min: 0, max: Math.max(3, Math.min(5, Math.max(...all.map(([p]) => nines(p))))), log: false };
    const yA: Axis = { min: Math.max(0.05, Math.min(...all.map(([, v]) => v)) / 1.5), max: Math.max(...all.map(([, v]) => v)) * 1.5, log: true };
    const ticks = [0, nines(50), 1, 2, 3, 4, 5].filter((v) => v <= xA.max);
    const label = (v: number) => (v === 0 ? '0' : `${+(100 * (1 - 10 ** -v)).toFixed(3)}`);
    panels.push(panel(y0, 'Latency distribution: accept → receipt at the fake provider (ms, log scale)', xA, yA, 'percentile', 'ms', label, ticks, (x, y) =>
      lat.map((m, i) => `<path d="${path(m.latency!.points!.map(([p, v]) => [x(nines(p)), y(v)]))}" fill="none" stroke="${LAT_COLORS[i % LAT_COLORS.length]}" stroke-width="1.5"/>`).join('\n') +
      legend(M.l + 10, y0 + M.t + 6, lat.map((m, i) => [`${m.system} ${m.what.replace(/^.*: /, '')} (p99 ${m.latency!.p99} ms)`, LAT_COLORS[i % LAT_COLORS.length]!]))));
    y0 += PANEL_H;
  }

  const h = y0 + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n<text x="${M.l}" y="20" font-size="16" font-weight="bold">${esc(title)}</text>\n${panels.join('\n')}\n</svg>\n`;
}
