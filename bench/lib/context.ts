// What every scenario gets: options, the bench's Redis and fakes, the sampler, and where results go.
import type { LatencySnapshot } from '../../src/fakes/latency.js';
import type { Channel, Platform } from '../../src/domain/types.js';
import type { FakesProcess } from './fakes.js';
import type { RedisServer } from './redis-server.js';
import type { Sampler } from './sampler.js';
import type { Workload } from './workload.js';

export interface Options {
  scenarios: string[];
  quick: boolean;
  /** Seconds per measured phase, after `warmup` seconds. */
  duration: number;
  warmup: number;
  /** Offered rates for end-to-end latency, % of the measured maximum, and seconds each. */
  rates: number[];
  rateDuration: number;
  users: number;
  channels: Channel[];
  platform: Platform | 'mix';
  payloadBytes: number;
  /** Per-user checks (event_id dedupe, per-user caps) on, in the service and the BullMQ baseline alike. */
  checks: boolean;
  /** Also measure the service's end-to-end maximum with checks off and with tracing at 1 % and 100 %. */
  variants: boolean;
  /** ingest-http */
  connections: number;
  /** ingest-batch */
  batchSize: number;
  batchConnections: number;
  /** ingest-xadd and the batch baseline */
  xaddProducers: number;
  xaddPipeline: number;
  /** end-to-end closed loop: most notifications between produced and delivered */
  window: number;
  /** fairness: recipients in the first tenant's burst, and the second tenant's notifications per second. */
  burst: number;
  fairnessRate: number;
  /** Service worker processes (0: one process in role all). */
  workers: number;
  backlog: number;
  backlogTimeout: number;
  fakeLatencyMs: number;
  fakeErrorRate: number;
  baselines: boolean;
  bullIngestConcurrency: number;
  bullSendConcurrency: number;
  serviceEnv: Record<string, string>;
  /** PostgreSQL of the history scenario. */
  databaseUrl: string;
  /** Node flags of the service and the Node baselines. */
  nodeFlags: string[];
  cpuProf: boolean;
  sampleMs: number;
  out: string;
}

/** One measured figure. */
export interface Measurement {
  /** Stable id, e.g. "end-to-end.ours.max". */
  key: string;
  scenario: string;
  /** ours, bullmq, bare-minimum, bare-ceiling, empty-hono, xadd-bare, xadd-contract */
  system: string;
  what: string;
  value: number;
  unit: string;
  latency?: Pick<LatencySnapshot, 'count' | 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'mean'> & { points?: [number, number][] };
  /** CPU µs per unit (deliv, req, notif) used by the system's own processes, and by Redis, during the phase. */
  cpuUs?: { system: number; redis: number };
  /** Sampler phase with this measurement's timeline. */
  phase?: string;
  extra?: Record<string, number | string | boolean | undefined>;
}

export interface Ctx {
  o: Options;
  workload: Workload;
  redis: RedisServer;
  fakes: FakesProcess;
  sampler: Sampler;
  results: Measurement[];
  outDir: string;
  log(line: string): void;
  /** Empties Redis, clears the fakes (counters, latency, behaviour as configured) and seeds users + template. */
  fresh(): Promise<void>;
}

export const find = (results: readonly Measurement[], key: string): Measurement | undefined => results.find((m) => m.key === key);
