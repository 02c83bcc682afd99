// Runs one chaos scenario: its own cluster and users, traffic with the chaos alongside, then the ledger check.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TestContext } from 'node:test';
import type { ProviderName } from '../../src/domain/types.js';
import { startCluster, type Cluster, type Worker } from './cluster.js';
import { createUsers, Ledger } from './ledger.js';
import { row, type Row } from './report.js';
import { SCALE } from './scale.js';
import { settle, slotOf, type Settled } from './verify.js';
import { checkHistory } from './history.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long the bounded traffic takes to submit. */
export const span = (): number => (SCALE.notifications * 1000) / SCALE.ratePerSec;

export const alive = (c: Cluster): Worker[] => c.workers.filter((w) => w.proc.child.exitCode === null && w.proc.child.signalCode === null);

/** Polls until `check` holds or the time runs out; returns whether it held. */
export async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

/** Provider latency for every fake, so sends are in flight when the chaos strikes. */
export function baseLatency(c: Cluster, ms = 50): void {
  for (const p of ['apns', 'fcm', 'twilio', 'sns', 'ses'] as ProviderName[]) c.fakes.behavior(p, { latencyMs: ms });
}

export interface Chaos {
  /** Duplicate sends allowed (besides one per send that timed out): what was in flight where the chaos struck. */
  bound: number;
  /** The deliveries (`<notification id>|<lane>`) that were in flight there: only these may be sent twice. */
  held?: Set<string>;
  note?: string;
  /** Extra checks on the settled ledger. */
  check?: (s: Settled, c: Cluster) => void | Promise<void>;
}

export async function runScenario(
  t: TestContext, name: string, env: Record<string, string>, run: (c: Cluster, ledger: Ledger) => Promise<Chaos>,
): Promise<Row> {
  const startedAt = Date.now();
  const phase = (what: string) => process.env.CHAOS_DEBUG && console.error(`${name}: ${what} at +${Date.now() - startedAt} ms`);
  const c = await startCluster(name, env);
  phase('cluster up');
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  try {
    await createUsers(c);
    baseLatency(c);
    const ledger = new Ledger();
    phase('users created');
    const chaos = await run(c, ledger);
    phase('traffic and chaos done');
    const s = await settle(c, ledger, SCALE.drainMs);
    phase('settled');
    // A send the worker gave up on may still have reached the provider: each timeout allows one more duplicate.
    const timeouts = c.timeouts();
    const bound = chaos.bound + timeouts;
    const r = row(name, ledger, s, bound, startedAt, [chaos.note, timeouts ? `${timeouts} send timeouts` : ''].filter(Boolean).join('; '));
    t.diagnostic(`${name}: ${JSON.stringify(r)} statuses=${JSON.stringify(s.statuses)}`);
    if (process.env.CHAOS_DEBUG) {
      console.error('test process event-loop delay p99/max ms', lag.percentile(99) / 1e6, lag.max / 1e6);
      for (const d of s.duplicated.slice(0, 30)) {
        const v = s.views.get(d.ids[0]!);
        console.error('dup', d.ids[0], d.slot, d.at.map((x) => x - startedAt), JSON.stringify(v?.deliveries.find((x) => slotOf(x) === d.slot)));
      }
    }
    assert.ok(s.accepted > 0, 'something was accepted');
    assert.deepEqual(s.problems.slice(0, 20), [], `${s.problems.length} accepted deliveries not in exactly one terminal state`);
    const held = chaos.held;
    if (held) {
      const stray = s.duplicated.filter((d) => !d.ids.some((id) => held.has(`${id}|${d.slot}`)));
      const extra = stray.reduce((n, d) => n + d.extra, 0);
      assert.ok(extra <= timeouts, `${extra} duplicate sends of ${stray.length} deliveries that were not in flight where the chaos struck ` +
        `(and only ${timeouts} sends timed out): ${JSON.stringify(stray.slice(0, 5))}`);
    }
    assert.ok(s.duplicates <= bound, `${s.duplicates} duplicate sends, more than the ${bound} in flight`);
    // Only a request the client saw fail (and did not retry with its key) may have become a notification anyway.
    const unsure = ledger.ambiguous.length + ledger.rejected.filter((x) => x.status >= 500).length;
    assert.ok(s.ghosts.length <= unsure, `${s.ghosts.length} requests became a notification the client has no id of: ${s.ghosts.slice(0, 5).join(', ')}`);
    // Likewise only such a request may have reached a provider without a 202 in the ledger.
    assert.ok(s.unledgered <= unsure, `${s.unledgered} requests reached a provider without being accepted (only ${unsure} answers were unsure)`);
    await chaos.check?.(s, c);
    // With history on (the env names its schema), PostgreSQL must show what Redis shows.
    if (env.NOTIFY_HISTORY_SCHEMA) await checkHistory(s, env.NOTIFY_HISTORY_SCHEMA);
    return r;
  } finally {
    lag.disable();
    await c.close();
    phase('closed');
  }
}
