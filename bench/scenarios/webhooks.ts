// webhooks: signed webhooks to producers' endpoints, against receivers in this process on 127.0.0.1.
//   1. the end-to-end maximum with webhooks off, then on with one endpoint taking delivery.sent: the ratio, and the
//      webhook requests per second that endpoint got (one request in flight per endpoint, by design);
//   2. ten endpoints at a fixed rate, all healthy, then with one of them dead (accepts, never answers): the healthy
//      endpoints' latency (event appended → request received) p50 / p99 both times.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Ctx } from '../lib/context.js';
import { openLoop } from '../lib/producers.js';
import { sleep } from '../lib/proc.js';
import { BENCH_KEY } from '../lib/service.js';
import { percentile } from '../lib/stats.js';
import { ours, runSystem } from './end-to-end.js';

const ENV = { NOTIFY_WEBHOOKS: 'on', NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'on' };

export async function webhooks(ctx: Ctx): Promise<void> {
  const { o } = ctx;
  const receivers = await Promise.all(Array.from({ length: 10 }, () => startReceiver()));
  try {
    await runSystem(ctx, ours(ctx, { name: 'ours-webhooks-off', what: 'webhooks off', env: o.serviceEnv }), []);
    const off = ctx.results.at(-1)!;
    const one = receivers[0]!;
    one.reset();
    await runSystem(ctx, ours(ctx, {
      name: 'ours-webhooks-on', what: 'webhooks on, one endpoint (delivery.sent)', env: { ...o.serviceEnv, ...ENV },
      onStarted: (url) => putEndpoints(url, [one.url]),
    }), []);
    const on = ctx.results.at(-1)!;
    ctx.results.push({
      key: 'webhooks.on-off', scenario: 'webhooks', system: 'ours', what: 'end-to-end maximum, webhooks on ÷ off (goal ≥ 0.9)',
      value: on.value / off.value, unit: 'ratio', extra: { offPerS: Math.round(off.value), onPerS: Math.round(on.value) },
    });
    ctx.results.push({
      key: 'webhooks.rate', scenario: 'webhooks', system: 'ours', what: 'webhook requests per second to one endpoint, beside that maximum',
      value: one.rate(), unit: 'req/s', extra: { received: one.times.length, deliveriesPerS: Math.round(on.value) },
    });

    const healthy = receivers.slice(0, 9);
    const dead = await startDeadEndpoint();
    try {
      for (const [name, last] of [['ten-healthy', receivers[9]!.url], ['one-dead', dead.url]] as const) {
        for (const r of receivers) r.reset();
        await fixedRate(ctx, name, [...healthy.map((r) => r.url), last]);
        const lat = healthy.flatMap((r) => r.latencies);
        ctx.results.push({
          key: `webhooks.latency.${name}`, scenario: 'webhooks', system: 'ours',
          what: `the nine healthy endpoints' latency, event → received, ${name === 'one-dead' ? 'the tenth endpoint dead' : 'all ten healthy'}`,
          value: percentile(lat, 99), unit: 'ms p99', extra: { p50: Math.round(percentile(lat, 50)), max: Math.round(Math.max(0, ...lat)), received: lat.length },
        });
      }
    } finally {
      dead.close();
    }
  } finally {
    for (const r of receivers) r.close();
  }
}

/** `rate` notifications per second for --rate-duration seconds, then up to 15 s for the webhooks to arrive. */
async function fixedRate(ctx: Ctx, name: string, urls: string[]): Promise<void> {
  const rate = ctx.o.quick ? 50 : 100;
  await ctx.fresh();
  const sys = ours(ctx, { name: `ours-webhooks-${name}`, what: name, env: { ...ctx.o.serviceEnv, ...ENV }, onStarted: (url) => putEndpoints(url, urls) });
  const running = await sys.start();
  try {
    const producer = openLoop(sys.send, { rate, chunk: 10 });
    await sleep(ctx.o.rateDuration * 1000);
    await producer.stop();
    await sleep(ctx.o.quick ? 5_000 : 15_000);
  } finally {
    await running.stop();
  }
}

async function putEndpoints(base: string, urls: string[]): Promise<void> {
  for (const [i, url] of urls.entries()) {
    const res = await fetch(`${base}/v1/webhooks/bench-${i}`, {
      method: 'PUT', headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url, events: ['delivery.sent'] }),
    });
    if (!res.ok) throw new Error(`PUT /v1/webhooks/bench-${i}: ${res.status} ${await res.text()}`);
  }
}

interface Receiver {
  url: string;
  /** Receipt times (ms) and latencies (receipt − the event's timestamp). */
  times: number[];
  latencies: number[];
  rate(): number;
  reset(): void;
  close(): void;
}

async function startReceiver(): Promise<Receiver> {
  const times: number[] = [];
  const latencies: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      times.push(at);
      try {
        const ts = Date.parse((JSON.parse(Buffer.concat(chunks).toString()) as { timestamp: string }).timestamp);
        if (Number.isFinite(ts)) latencies.push(at - ts);
      } catch { /* counted, no latency */ }
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, times, latencies,
    rate: () => (times.length < 2 ? 0 : ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!)),
    reset: () => { times.length = 0; latencies.length = 0; },
    close: () => { server.closeAllConnections(); server.close(); },
  };
}

/** Accepts connections and never answers (the sender's timeout ends each try). */
async function startDeadEndpoint(): Promise<{ url: string; close(): void }> {
  const server = http.createServer(() => { /* never answers */ });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dead`, close: () => { server.closeAllConnections(); server.close(); } };
}
