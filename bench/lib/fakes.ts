// The fake providers in their own process (src/fakes/main.ts), and a small client for their control endpoints.
import type { FakesInfo } from '../../src/fakes/index.js';
import type { Behavior, FakeStats, LatencySnapshot } from '../../src/fakes/index.js';
import type { ProviderName } from '../../src/domain/types.js';
import { spawnNode, type Proc } from './proc.js';

export interface FakesProcess {
  info: FakesInfo;
  proc: Proc;
  /** Requests the fakes have answered successfully, all providers together. */
  accepted(): Promise<number>;
  stats(): Promise<FakeStats>;
  latency(): Promise<LatencySnapshot>;
  resetLatency(): Promise<void>;
  /** Forgets received messages and counters. */
  clear(): Promise<void>;
  behavior(provider: ProviderName, b: Behavior): Promise<void>;
  resetBehavior(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFakesProcess(): Promise<FakesProcess> {
  // A small ring: the bench only needs counters and the latency probe.
  const proc = spawnNode('fakes', 'src/fakes/main.ts', ['--http-port', '0', '--apns-port', '0', '--max-messages', '1000']);
  const info = (await proc.waitFor((l) => typeof l.httpUrl === 'string', 60_000)) as unknown as FakesInfo;
  const base = info.httpUrl;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method, signal: AbortSignal.timeout(10_000),
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!res.ok) throw new Error(`fakes ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };
  const stats = () => call('GET', '/_fake/stats') as Promise<FakeStats>;
  return {
    info, proc, stats,
    accepted: async () => Object.values(await stats()).reduce((a, s) => a + s.accepted, 0),
    latency: () => call('GET', '/_fake/latency') as Promise<LatencySnapshot>,
    resetLatency: async () => void (await call('DELETE', '/_fake/latency')),
    clear: async () => void (await call('DELETE', '/_fake/messages')),
    behavior: async (provider, b) => void (await call('POST', '/_fake/behavior', { provider, ...b })),
    resetBehavior: async () => void (await call('DELETE', '/_fake/behavior')),
    stop: async () => void (await proc.stop(5_000)),
  };
}
