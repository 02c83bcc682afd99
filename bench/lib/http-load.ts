// HTTP load with autocannon (as a library): fixed connections and duration, counting 2xx answers as they come.
import autocannon from 'autocannon';

export interface HttpLoadResult {
  /** 2xx answers per second over the run. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** ms */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  durationS: number;
}

export interface HttpLoad {
  /** 2xx answers so far (for the progress line and timeline). */
  readonly ok: number;
  done: Promise<HttpLoadResult>;
  stop(): void;
}

export function httpLoad(o: { url: string; body: string; headers?: Record<string, string>; connections: number; durationS: number; pipelining?: number }): HttpLoad {
  let ok = 0;
  let inst: autocannon.Instance;
  const done = new Promise<HttpLoadResult>((resolve, reject) => {
    inst = autocannon({
      url: o.url, method: 'POST', connections: o.connections, pipelining: o.pipelining ?? 1, duration: o.durationS,
      headers: { 'content-type': 'application/json', ...o.headers }, body: o.body, timeout: 30,
    }, (err, r) => {
      if (err) return reject(err);
      const durationS = r.duration;
      resolve({
        rps: r['2xx'] / durationS, ok: r['2xx'], non2xx: r.non2xx, errors: r.errors + r.timeouts,
        latency: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
        durationS,
      });
    });
    inst.on('response', (_client: unknown, status: number) => {
      if (status >= 200 && status < 300) ok++;
    });
  });
  return {
    get ok() { return ok; },
    done,
    stop: () => inst.stop(),
  };
}
