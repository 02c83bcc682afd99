// Pure helpers of the bench harness: percentiles, "levels off", targets and tables, the fakes' latency probe, the chart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderChart } from '../bench/lib/chart.js';
import { formatTargetValue, levelsOff, markdownTable, maxTarget, memorySummary, percentile, ratioTarget, textTable, verdict } from '../bench/lib/stats.js';
import { targets } from '../bench/lib/report.js';
import type { Measurement } from '../bench/lib/context.js';
import { benchTimestamp, LatencyProbe } from '../src/fakes/latency.js';

describe('bench stats', () => {
  it('nearest-rank percentiles', () => {
    const v = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    assert.equal(percentile(v, 50), 5);
    assert.equal(percentile(v, 90), 9);
    assert.equal(percentile(v, 99), 10);
    assert.equal(percentile(v, 0), 1);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it('levelsOff compares the last third with the middle third', () => {
    assert.equal(levelsOff([100, 150, 200, 210, 205, 208, 209, 207, 206]), true);
    assert.equal(levelsOff([100, 150, 200, 250, 300, 350, 400, 450, 500]), false);
    assert.equal(levelsOff([1, 2, 3]), undefined);
  });

  it('memorySummary sums the tracked processes and follows Redis', () => {
    const samples = [10, 20, 30, 31, 30, 32].map((w, i) => ({ rss: { worker: w, ingress: 5, fakes: 99 }, redisUsedMB: 100 + i }));
    const m = memorySummary(samples, { worker: 1, ingress: 2 });
    assert.deepEqual(m, { rssStartMB: 15, peakRssMB: 37, endRssMB: 37, rssLevelsOff: true, redisStartMB: 100, redisPeakMB: 105, redisEndMB: 105 });
  });

  it('judges "no growth" only from a fixed-rate phase of 10 minutes', () => {
    const phase = (phaseS: number, rssLevelsOff: boolean): Measurement => ({
      key: `end-to-end.ours.${phaseS}`, scenario: 'end-to-end', system: 'ours', what: '', value: 1, unit: 'deliv/s',
      extra: { phaseS, rssLevelsOff, rssStartMB: 300, endRssMB: 310, peakRssMB: 320, redisStartMB: 10, redisEndMB: 900 },
    });
    const soak = (rs: Measurement[]) => targets(rs, { channels: ['push'] }).find((t) => t.name.startsWith('no memory growth'))!;
    assert.equal(soak([]).met, undefined);
    const short = soak([phase(15, true)]);
    assert.equal(short.met, undefined);
    assert.match(short.detail!, /--rate-duration 600/);
    assert.equal(soak([phase(15, true), phase(600, false)]).met, false);
    const long = soak([phase(600, true)]);
    assert.equal(long.met, true);
    assert.match(long.detail!, /RSS 300 → 310 MB \(peak 320\); Redis 10 → 900 MB/);
  });

  it('ratio and max targets, formatted', () => {
    const r = ratioTarget('ours ÷ bullmq', 9000, 3000, 3, (a, b) => `${a} vs ${b}`);
    assert.equal(r.met, true);
    assert.equal(formatTargetValue(r), '3.00×');
    assert.equal(r.detail, '9000 vs 3000');
    const p = ratioTarget('ours ÷ hono', 15_000, 20_000, 0.8, undefined, true);
    assert.equal(p.met, false);
    assert.equal(formatTargetValue(p), '75 %');
    assert.equal(p.goal, '≥ 80 %');
    const missing = ratioTarget('x', undefined, 1, 1);
    assert.equal(missing.met, undefined);
    assert.equal(formatTargetValue(missing), 'n/a');
    assert.equal(verdict(undefined), '–');
    const m = maxTarget('p99', 12.34, 20, 'ms');
    assert.equal(m.met, true);
    assert.equal(formatTargetValue(m), '12.3 ms');
  });

  it('tables align numbers right and escape markdown pipes', () => {
    const t = textTable(['name', 'rate'], [['a', '1,000'], ['bb', '20']]).split('\n');
    assert.equal(t[0], 'name  rate');
    assert.equal(t[2], 'a     1,000');
    assert.equal(t[3], 'bb       20');
    const md = markdownTable(['a', 'b'], [['x|y', '1']]);
    assert.match(md, /\| x\\\|y \| 1 \|/);
  });
});

describe('fakes latency probe', () => {
  it('reads the bench timestamp each provider carries', () => {
    assert.equal(benchTimestamp({ provider: 'apns', body: { aps: {}, _bt: '1700000000000.25' } }), 1700000000000.25);
    assert.equal(benchTimestamp({ provider: 'fcm', body: { message: { data: { _bt: '5' } } } }), 5);
    assert.equal(benchTimestamp({ provider: 'twilio', body: { Body: 'hi [bt=12.5] there' } }), 12.5);
    assert.equal(benchTimestamp({ provider: 'sns', body: { Message: '[bt=7]' } }), 7);
    assert.equal(benchTimestamp({ provider: 'ses', body: { Content: { Simple: { Subject: { Data: 'Order [bt=9]' } } } } }), 9);
    assert.equal(benchTimestamp({ provider: 'apns', body: { aps: {} } }), undefined);
    assert.equal(benchTimestamp({ provider: 'twilio', body: { Body: 'no marker' } }), undefined);
  });

  it('records now − timestamp in a histogram and resets', () => {
    const probe = new LatencyProbe();
    for (let i = 1; i <= 100; i++) probe.observe({ provider: 'apns', body: { _bt: String(1000) } }, 1000 + i);
    probe.observe({ provider: 'apns', body: {} }, 5000);
    const s = probe.snapshot();
    assert.equal(s.count, 100);
    assert.ok(Math.abs(s.p50 - 50) <= 0.1, `p50 ${s.p50}`);
    assert.ok(Math.abs(s.p99 - 99) <= 0.1, `p99 ${s.p99}`);
    assert.ok(Math.abs(s.max - 100) <= 0.1, `max ${s.max}`);
    assert.equal(s.byProvider.apns, 100);
    assert.ok(s.points.length > 1);
    probe.reset();
    assert.equal(probe.snapshot().count, 0);
  });
});

describe('bench chart', () => {
  it('renders an SVG with the panels it has data for', () => {
    const sample = (t: number, phase: string, rate: number) => ({
      t, phase, count: t * rate, rate, rss: { 'service-all': 200 + t }, cpu: {}, redisUsedMB: 10 + t, machineCpu: 100, otherCpu: 0,
    });
    const svg = renderChart(
      [sample(1, 'end-to-end/ours/max', 5000), sample(2, 'end-to-end/ours/max', 5200), sample(3, 'end-to-end/bullmq/max', 1500)],
      [{ key: 'k', scenario: 'end-to-end', system: 'ours', what: 'x: offered 50 % of max', value: 1, unit: 'deliv/s',
        latency: { count: 10, p50: 1, p90: 2, p95: 3, p99: 4, p999: 5, max: 6, mean: 1.5, points: [[0, 0.5], [50, 1], [99, 4], [100, 6]] } }],
      'test',
    );
    assert.match(svg, /^<svg /);
    assert.match(svg, /Throughput over time/);
    assert.match(svg, /Memory over time/);
    assert.match(svg, /Latency distribution/);
    assert.doesNotMatch(svg, /NaN/);
  });
});
