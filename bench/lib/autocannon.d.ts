// The part of autocannon's API the bench uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeout?: number;
    workers?: number;
    requests?: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; setupRequest?: (req: Record<string, unknown>, ctx: Record<string, unknown>) => Record<string, unknown> }[];
  }
  interface Histo { average: number; mean: number; stddev: number; min: number; max: number; total: number; p50: number; p90: number; p97_5: number; p99: number; p99_9?: number; p2_5?: number; sent?: number }
  interface Result {
    requests: Histo;
    latency: Histo;
    throughput: Histo;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    duration: number;
    start: Date;
    finish: Date;
  }
  interface Instance extends EventEmitter {
    stop(): void;
  }
  function autocannon(opts: Options, cb?: (err: Error | null, result: Result) => void): Instance;
  namespace autocannon {
    export type { Options, Result, Instance };
  }
  export default autocannon;
}
