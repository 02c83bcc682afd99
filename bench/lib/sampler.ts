// Samples, once per interval: the phase's throughput counter, each tracked process's RSS and CPU (from /proc), and
// Redis used_memory; prints a progress line; keeps everything for the report's timeline.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface Sample {
  /** Seconds since the bench started. */
  t: number;
  phase: string;
  /** Cumulative count of the phase's counter, and its rate since the previous sample (per second). */
  count: number;
  rate: number;
  /** MB per process name. */
  rss: Record<string, number>;
  /** % of one core per process name. */
  cpu: Record<string, number>;
  redisUsedMB: number;
  /** Whole machine CPU busy, % of one core (2 cores: up to 200). */
  machineCpu: number;
  /** Of that, what no tracked process (nor the bench itself) used: other work on the machine. */
  otherCpu: number;
}

export interface PhaseSpec {
  name: string;
  /** Cumulative count (deliveries, requests, entries…). */
  counter: () => number | Promise<number>;
  unit: string;
  /** Processes to watch, by display name. */
  procs: Record<string, number>;
  /** Redis used_memory (bytes) of this phase's Redis, when it is not the bench's own redis-server (a cluster). */
  redisUsedMemory?: () => Promise<number>;
}

const TICKS = 100; // USER_HZ on Linux

/** [busy, total] jiffies of the whole machine, from /proc/stat. */
function readMachine(): [number, number] | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return [total - f[3]! - f[4]!, total];
  } catch {
    return undefined;
  }
}

function readRssMB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]); // utime + stime
  } catch {
    return undefined;
  }
}

export class Sampler {
  readonly samples: Sample[] = [];
  private readonly t0 = performance.now();
  private phase: PhaseSpec | undefined;
  private phaseStart = 0;
  private last: { at: number; count: number; ticks: Map<number, number>; machine: [number, number] | undefined } | undefined;
  private readonly cores = Math.max(1, availableParallelism());
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastPrint = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly intervalMs: number,
    private readonly always: Record<string, number>,
    private readonly redisUsedMemory: () => Promise<number>,
  ) {}

  get elapsedS(): number {
    return (performance.now() - this.t0) / 1000;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.endPhase();
  }

  /** Samples `procs` in every phase from now on (beside the phase's own), until the returned function is called. */
  watch(procs: Record<string, number>): () => void {
    Object.assign(this.always, procs);
    return () => {
      for (const name of Object.keys(procs)) delete this.always[name];
    };
  }

  /** Starts a phase: the counter's rate and the processes are sampled until the next phase or endPhase(). */
  async beginPhase(spec: PhaseSpec): Promise<void> {
    this.endPhase();
    this.phase = spec;
    this.phaseStart = performance.now();
    this.last = { at: performance.now(), count: await spec.counter(), ticks: this.readTicks(), machine: readMachine() };
  }

  endPhase(): void {
    if (this.phase && this.tty) process.stderr.write('\n');
    this.phase = undefined;
    this.last = undefined;
  }

  /** Samples of one phase. */
  of(phase: string): Sample[] {
    return this.samples.filter((s) => s.phase === phase);
  }

  private procs(): Record<string, number> {
    return { ...this.always, ...this.phase?.procs };
  }

  private readTicks(): Map<number, number> {
    const m = new Map<number, number>();
    for (const pid of Object.values(this.procs())) {
      const t = readCpuTicks(pid);
      if (t !== undefined) m.set(pid, t);
    }
    return m;
  }

  private async tick(): Promise<void> {
    const phase = this.phase;
    const last = this.last;
    if (!phase || !last || this.busy) return;
    this.busy = true;
    try {
      const [count, redisMem] = await Promise.all([phase.counter(), (phase.redisUsedMemory ?? this.redisUsedMemory)().catch(() => 0)]);
      if (this.phase !== phase) return;
      const at = performance.now();
      const dt = (at - last.at) / 1000;
      const ticks = this.readTicks();
      const machine = readMachine();
      const rss: Record<string, number> = {};
      const cpu: Record<string, number> = {};
      for (const [name, pid] of Object.entries(this.procs())) {
        const r = readRssMB(pid);
        if (r !== undefined) rss[name] = round1(r);
        const t1 = ticks.get(pid);
        const t0 = last.ticks.get(pid);
        if (t1 !== undefined && t0 !== undefined) cpu[name] = Math.round(((t1 - t0) / TICKS / dt) * 100);
      }
      const machineCpu = machine && last.machine && machine[1] > last.machine[1]
        ? Math.round(((machine[0] - last.machine[0]) / (machine[1] - last.machine[1])) * this.cores * 100) : 0;
      const tracked = Object.values(cpu).reduce((a, b) => a + b, 0);
      const s: Sample = {
        t: round1(this.elapsedS), phase: phase.name, count, rate: Math.round((count - last.count) / dt), rss, cpu,
        redisUsedMB: round1(redisMem / 1048576), machineCpu, otherCpu: Math.max(0, machineCpu - tracked),
      };
      this.samples.push(s);
      this.last = { at, count, ticks, machine };
      this.progress(s, (at - this.phaseStart) / 1000, phase.unit);
    } catch {
      // a failed sample is skipped
    } finally {
      this.busy = false;
    }
  }

  private progress(s: Sample, phaseS: number, unit: string): void {
    const mem = Object.entries(s.rss).filter(([n]) => n !== 'redis-server' && n !== 'fakes' && n !== 'bench')
      .map(([n, mb]) => `${n} ${Math.round(mb)}MB/${s.cpu[n] ?? 0}%`).join(' ');
    const line = `  ${s.phase.padEnd(34)} ${phaseS.toFixed(0).padStart(4)}s ${fmtInt(s.rate).padStart(9)} ${unit}/s  total ${fmtInt(s.count)}  ${mem}  redis ${Math.round(s.redisUsedMB)}MB/${s.cpu['redis-server'] ?? 0}%  fakes ${s.cpu.fakes ?? 0}%  bench ${s.cpu.bench ?? 0}%  other ${s.otherCpu}%`;
    if (this.tty) process.stderr.write(`\r${line.slice(0, (process.stderr.columns ?? 160) - 1).padEnd(Math.min(160, (process.stderr.columns ?? 160) - 1))}`);
    else if (performance.now() - this.lastPrint > 5_000) {
      this.lastPrint = performance.now();
      process.stderr.write(`${line}\n`);
    }
  }
}

export const round1 = (n: number): number => Math.round(n * 10) / 10;
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Average CPU (% of one core) per process over some samples, plus `other` (outside load) and `machine`. */
export function cpuSummary(samples: readonly Sample[]): Record<string, number> {
  const sums = new Map<string, number[]>();
  const add = (k: string, v: number) => (sums.get(k) ?? sums.set(k, []).get(k)!).push(v);
  for (const s of samples) {
    for (const [k, v] of Object.entries(s.cpu)) add(k, v);
    add('other', s.otherCpu);
    add('machine', s.machineCpu);
  }
  return Object.fromEntries([...sums].map(([k, v]) => [k, Math.round(v.reduce((a, b) => a + b, 0) / v.length)]));
}

/**
 * Names of Redis processes in the samples: the bench's own redis-server, and a cluster's nodes (lib/redis-cluster.ts
 * names them `redis-master-<port>` and `redis-replica-<port>`).
 */
export const REDIS_MASTER = 'redis-master-';
export const REDIS_REPLICA = 'redis-replica-';
const isRedis = (name: string) => name === 'redis-server' || name.startsWith(REDIS_MASTER) || name.startsWith(REDIS_REPLICA);
const NOT_THE_SYSTEM = new Set(['bench', 'fakes', 'other', 'machine']);

/**
 * CPU µs per unit at `perS` units/s from a cpuSummary: `system`, the system's own processes (everything but the bench,
 * the fakes and Redis); `redis`, the Redis that does the work (the redis-server, or a cluster's masters). A cluster's
 * replicas count in neither (the cluster scenario reports them apart).
 */
export function cpuPerUnit(cpu: Record<string, number>, perS: number): { system: number; redis: number } | undefined {
  const sum = (pred: (name: string) => boolean) => Object.entries(cpu).filter(([k]) => pred(k)).reduce((a, [, v]) => a + v, 0);
  const own = sum((k) => !NOT_THE_SYSTEM.has(k) && !isRedis(k));
  if (!(perS > 0) || own <= 0) return undefined;
  const us = (pct: number) => Math.round((pct / 100 / perS) * 1e6);
  return { system: us(own), redis: us(sum((k) => k === 'redis-server' || k.startsWith(REDIS_MASTER))) };
}
