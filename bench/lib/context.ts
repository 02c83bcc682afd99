// What every scenario gets: options, the bench's Redis and fakes, the sampler, and where results go.
import type { LatencySnapshot } from '../../src/fakes/latency.js';
import type { Channel, Platform } from '../../src/domain/types.js';
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/streams/keys.js';
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

/** Where the service under test keeps its state: the bench's own redis-server, or a Redis Cluster (lib/redis-cluster.ts). */
export interface RedisTarget {
  /** The service's REDIS_URL (not used when `clusterNodes` is set). */
  url: string;
  /** The service's REDIS_CLUSTER_NODES (host:port,…). */
  clusterNodes?: string;
  /** The service's keys there (on a cluster, under the hash tag `{notify}`). */
  keys: Keys;
  /** The bench's own connection (seeding); on a cluster, an ioredis Cluster client. */
  client: Redis;
  /** A new connection for a producer (lazyConnect). */
  connect(): Redis;
  /** used_memory in bytes (on a cluster, summed over the masters). */
  usedMemory(): Promise<number>;
  flush(): Promise<void>;
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
  /** The bench's redis-server as a target (what `ours` runs against unless told otherwise). */
  target: RedisTarget;
  /**
   * Empties Redis (`target`, default the bench's redis-server), clears the fakes (counters, latency, behaviour as
   * configured) and seeds users + template (the BullMQ layout too, on the bench's redis-server only).
   */
  fresh(target?: RedisTarget): Promise<void>;
}

export const find = (results: readonly Measurement[], key: string): Measurement | undefined => results.find((m) => m.key === key);
