// Bench latency probe: a received message that carries a bench timestamp adds (now − timestamp) to a histogram.
// Push carries it as data `_bt` (APNs custom key, FCM data); SMS and email as a `[bt=<ms>]` marker in the text.
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { ProviderName } from '../domain/types.js';
import type { FakeMessage } from './store.js';

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

const MARKER = /\[bt=(\d+(?:\.\d+)?)\]/;

/** The bench timestamp a message carries (epoch ms), if any. */
export function benchTimestamp(m: Pick<FakeMessage, 'provider' | 'body'>): number | undefined {
  const b = m.body;
  let raw: unknown;
  switch (m.provider) {
    case 'apns': raw = b._bt; break;
    case 'fcm': raw = b.message?.data?._bt; break;
    case 'twilio': raw = MARKER.exec(String(b.Body ?? ''))?.[1]; break;
    case 'sns': raw = MARKER.exec(String(b.Message ?? ''))?.[1]; break;
    case 'ses': raw = MARKER.exec(String(b.Content?.Simple?.Subject?.Data ?? ''))?.[1]; break;
  }
  if (raw === undefined) return undefined;
  const t = Number(raw);
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

export interface LatencySnapshot {
  /** Messages that carried a timestamp since the last reset. */
  count: number;
  /** Milliseconds. */
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  /** The histogram's own percentile points: [percentile, ms], ascending, for plotting the distribution. */
  points: [number, number][];
  /** Per provider, how many timed messages arrived. */
  byProvider: Partial<Record<ProviderName, number>>;
}

/** Histogram of accept→receipt latencies, recorded in microseconds; O(1) per message. */
export class LatencyProbe {
  private hist: RecordableHistogram = createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 });
  private byProvider: Partial<Record<ProviderName, number>> = {};

  observe(m: Pick<FakeMessage, 'provider' | 'body'>, now = preciseNow()): void {
    const t = benchTimestamp(m);
    if (t === undefined) return;
    this.hist.record(Math.max(1, Math.min(3_600_000_000, Math.round((now - t) * 1000))));
    this.byProvider[m.provider] = (this.byProvider[m.provider] ?? 0) + 1;
  }

  reset(): void {
    this.hist.reset();
    this.byProvider = {};
  }

  snapshot(): LatencySnapshot {
    const h = this.hist;
    const count = Number(h.count);
    const ms = (us: number) => (count === 0 ? 0 : Math.round(us) / 1000);
    const points: [number, number][] = count === 0 ? [] : [...h.percentiles].map(([p, v]) => [p, ms(v)]);
    return {
      count, min: ms(h.min), max: ms(h.max), mean: ms(h.mean),
      p50: ms(h.percentile(50)), p90: ms(h.percentile(90)), p95: ms(h.percentile(95)),
      p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)),
      points, byProvider: { ...this.byProvider },
    };
  }
}
