// cluster: the service's end-to-end maximum (the same closed loop and workload as end-to-end's `ours`) on the bench's
// redis-server, then on a private Redis Cluster (3 masters + 3 replicas) through REDIS_CLUSTER_NODES, in one run;
// each with p50/p99 at 50 % of its maximum. Then, per cluster node: CPU µs per delivery at the maximum and memory.
// Every key is under one hash tag (`{notify}`), so one master does all of the service's work: the cluster buys
// failover, not throughput, until the keys are partitioned.
import type { Ctx, Measurement } from '../lib/context.js';
import { startBenchCluster } from '../lib/redis-cluster.js';
import { cpuPerUnit, cpuSummary } from '../lib/sampler.js';
import { ours, runSystem } from './end-to-end.js';

export async function cluster(ctx: Ctx): Promise<void> {
  const { o } = ctx;
  const max = (name: string) => ctx.results.find((m) => m.key === `end-to-end.${name}.max`)!;
  await runSystem(ctx, ours(ctx, { name: 'ours-single', what: 'single redis-server', env: o.serviceEnv }), [50]);
  const single = max('ours-single');

  ctx.log('bench: cluster: starting a Redis Cluster (3 masters, 3 replicas)…');
  const c = await startBenchCluster();
  const unwatch = ctx.sampler.watch(Object.fromEntries(c.nodes.map((n) => [n.name, n.pid])));
  try {
    const masters = c.nodes.filter((n) => n.role === 'master').length;
    await runSystem(ctx, ours(ctx, {
      name: 'ours-cluster', what: `Redis Cluster, ${masters} masters + replicas, every key on :${c.slotMaster}`, env: o.serviceEnv, redis: c.target,
    }), [50]);
    const onCluster = max('ours-cluster');
    const cpu = cpuSummary(ctx.sampler.of(onCluster.phase!));
    const us = (pct: number) => Math.round((pct / 100 / onCluster.value) * 1e6);
    const memory = await c.memory();
    const rows: Measurement[] = c.nodes.map((n) => ({
      key: `cluster.${n.name}`, scenario: 'cluster', system: `${n.role} :${n.port}`,
      what: `Redis CPU per delivery at the cluster maximum${n.port === c.slotMaster ? ' (holds {notify}, every key)' : ''}`,
      value: us(cpu[n.name] ?? 0), unit: 'µs/deliv',
      extra: { cpuPct: cpu[n.name] ?? 0, usedMemoryMB: memory[n.port]?.usedMB, usedMemoryPeakMB: memory[n.port]?.peakMB, holdsServiceSlot: n.port === c.slotMaster },
    }));
    const replicas = c.nodes.filter((n) => n.role === 'replica');
    const svc = { single: cpuPerUnit(cpuSummary(ctx.sampler.of(single.phase!)), single.value), cluster: cpuPerUnit(cpu, onCluster.value) };
    ctx.results.push(...rows.sort((a, b) => Number(b.extra!.holdsServiceSlot) - Number(a.extra!.holdsServiceSlot) || a.system.localeCompare(b.system)), {
      key: 'cluster.replicas', scenario: 'cluster', system: `${replicas.length} replicas`, what: 'Redis CPU per delivery at the cluster maximum, all replicas',
      value: replicas.reduce((a, n) => a + us(cpu[n.name] ?? 0), 0), unit: 'µs/deliv',
    }, {
      key: 'cluster.vs-single', scenario: 'cluster', system: 'ours', what: 'end-to-end maximum, cluster ÷ single redis-server',
      value: (100 * onCluster.value) / single.value, unit: '%',
      extra: {
        singlePerS: Math.round(single.value), clusterPerS: Math.round(onCluster.value), workers: o.workers,
        serviceUsSingle: svc.single?.system, serviceUsCluster: svc.cluster?.system, redisUsSingle: svc.single?.redis, redisUsCluster: svc.cluster?.redis,
      },
    });
  } finally {
    unwatch();
    await c.stop();
  }
}
