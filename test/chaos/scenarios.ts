// The chaos of each scenario, run alongside the traffic: what it breaks, and how many duplicate sends that allows.
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { pairs } from '../../src/streams/replies.js';
import type { Cluster, Worker } from './cluster.js';
import type { Settled } from './verify.js';
import { idempotencySupported, produce, request, submit, type Ledger } from './ledger.js';
import { FULL, SCALE } from './scale.js';
import { alive, sleep, span, until, type Chaos } from './scenario.js';

const traffic = (c: Cluster, ledger: Ledger, tag: string, retry = false) =>
  produce(c, ledger, { count: SCALE.notifications, ratePerSec: SCALE.ratePerSec, make: (i) => request(tag, i), retry });

/** Waits until the worker holds some unacknowledged lane entries (it is mid-batch); false if it never did. */
const midBatch = (c: Cluster, w: Worker) => until(async () => (await c.lanePending(w.consumer)).size >= 3, 5_000);

/** kill -9 a worker while it holds lane entries, start a replacement; duplicates ≤ what it held. */
export async function workerKill(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const producing = traffic(c, ledger, 'kill');
  const held = new Set<string>();
  let inFlight = 0;
  for (let k = 0; k < SCALE.kills; k++) {
    await sleep(span() / (SCALE.kills + 1));
    const victim = alive(c)[0]!;
    if (await midBatch(c, victim)) inFlight++;
    victim.proc.child.kill('SIGKILL');
    await victim.proc.stop();
    for (const d of await c.lanePending(victim.consumer)) held.add(d);
    await c.spawnWorker();
  }
  await producing;
  return { bound: held.size, held, note: `${SCALE.kills} kill(s), ${inFlight} mid-batch` };
}

/** kill -9 Redis (AOF, fsync always) and restart it while producing and consuming. */
export async function redisKill(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const retry = await idempotencySupported(c, ledger);
  const producing = traffic(c, ledger, 'redis', retry);
  const held = new Set<string>();
  for (let k = 0; k < SCALE.redisKills; k++) {
    await sleep(span() / (SCALE.redisKills + 1));
    await c.redis.kill();
    const down = Date.now();
    if (process.env.CHAOS_DEBUG) console.error('redis killed', down);
    // What the AOF holds as pending is what was in flight when Redis died: all that may be sent twice.
    for (const d of await c.pendingInAof()) held.add(d);
    await sleep(SCALE.redisDownMs - (Date.now() - down));
    await c.redis.restart();
    if (process.env.CHAOS_DEBUG) console.error('redis back', Date.now());
  }
  await producing;
  return { bound: held.size, held, note: `${SCALE.redisKills} Redis kill(s); Idempotency-Key ${retry ? 'honoured: 5xx/timeouts retried' : 'not honoured: no retries'}; ${ledger.retries} retries` };
}

/** SIGSTOPs a worker for `ms`, then SIGCONT; returns every delivery it held meanwhile (its blocked reads can still be served while it sleeps). */
async function stopFor(c: Cluster, victim: Worker, ms: number, whileStopped?: () => void): Promise<Set<string>> {
  victim.proc.child.kill('SIGSTOP');
  whileStopped?.();
  const held = new Set<string>();
  const resumeAt = Date.now() + ms;
  try {
    while (Date.now() < resumeAt) {
      for (const id of await c.lanePending(victim.consumer)) held.add(id);
      await sleep(100);
    }
  } finally {
    victim.proc.child.kill('SIGCONT');
  }
  return held;
}

/** Taken over while it slept, an entry is sent by the new owner; the sleeper, on waking, must not send it yet again. */
const notThrice = (held: Set<string>) => (s: Settled) => {
  const thrice = s.duplicated.filter((d) => d.extra > 1 && d.ids.some((id) => held.has(`${id}|${d.slot}`)));
  assert.deepEqual(thrice.slice(0, 5), [], `${thrice.length} deliveries held by the stopped worker were sent three times or more`);
};

/** SIGSTOP a worker longer than the claim idle time, then SIGCONT; duplicates ≤ what it held meanwhile. */
export async function workerStop(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const producing = traffic(c, ledger, 'stop');
  await sleep(span() / 3);
  const victim = alive(c)[0]!;
  const mid = await midBatch(c, victim);
  const held = await stopFor(c, victim, SCALE.stopMs);
  await producing;
  return { bound: held.size, held, note: `stopped ${SCALE.stopMs} ms${mid ? ' mid-batch' : ''}`, check: notThrice(held) };
}

/** Lane and provider concurrency of the slow-provider scenario: room for every slow send, so the other worker can claim. */
export const SLOW_STOP_ENV = { NOTIFY_CHANNEL_CONCURRENCY: '256', NOTIFY_PROVIDER_CONCURRENCY: '512' };

/**
 * A slow provider and a stopped worker (the audit's repro of entries stolen back): SES answers after 7 s (past the 5 s
 * send timeout) while a worker holding many email sends is SIGSTOPped past the claim idle time, and after 3 s (inside
 * it) for the other worker, which claims them meanwhile. The sleeper wakes with its sends timed out and the entries
 * claimed: it must not take them back (and retry them), so each delivery it held is sent at most twice.
 */
export async function slowProviderStop(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const count = FULL ? 2_000 : 400;
  const producing = produce(c, ledger, { count, ratePerSec: 80, make: (i) => request('slowstop', i), retry: false });
  await sleep(1_000);
  c.fakes.behavior('ses', { latencyMs: 7_000 });
  // About 25 emails a second reach each worker: 1.5 s of them are in flight when it stops.
  await sleep(1_500);
  const victim = alive(c)[0]!;
  const held = await stopFor(c, victim, SCALE.stopMs, () => c.fakes.behavior('ses', { latencyMs: 3_000 }));
  // The other worker's sends of what it claimed are still on the wire (3 s): let them land before SES speeds up.
  await sleep(3_000);
  c.fakes.behavior('ses', { latencyMs: 50 });
  await producing;
  const emails = [...held].filter((d) => d.endsWith('|email')).length;
  return {
    bound: held.size, held, check: notThrice(held),
    note: `stopped ${SCALE.stopMs} ms holding ${emails} email entries; SES 7 s, then 3 s`,
  };
}

/**
 * Twilio 5xx (fails over to SNS), SNS 5xx too (retried), SES 5xx for one user (out of attempts: dead-lettered), APNs
 * answering after the send timeout for a stretch, FCM 429 for a long stretch.
 */
export async function providerStorm(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const LATE_MS = 6_000;
  c.fakes.behavior('twilio', { latencyMs: 50, errorRate: 0.3, failWith: { status: 500 } });
  c.fakes.behavior('sns', { latencyMs: 50, errorRate: 0.3, failWith: { status: 503 } });
  c.fakes.behavior('ses', { latencyMs: 50, onlyTo: 'u7@example.com', failWith: { status: 503 } });
  c.sends.lateAfterMs = LATE_MS - 500;
  const producing = traffic(c, ledger, 'storm');
  const storms = Promise.all([
    (async () => {
      await sleep(span() / 5);
      c.fakes.behavior('fcm', { latencyMs: 50, failWith: { status: 429, retryAfterS: 1 } });
      await sleep(SCALE.throttleMs);
      c.fakes.behavior('fcm', { latencyMs: 50 });
    })(),
    (async () => {
      await sleep(span() / 3);
      c.fakes.behavior('apns', { latencyMs: LATE_MS });
      await sleep(SCALE.timeoutMs);
      c.fakes.behavior('apns', { latencyMs: 50 });
    })(),
  ]);
  await Promise.all([producing, storms]);
  const throttled = () => c.fakes.stats().fcm.errored;
  return {
    bound: 0,
    note: `fcm 429s: ${throttled()}`,
    check: (s) => {
      // Answered late, not sent again: a late answer is the attempt's outcome (so s.lateSends, duplicates after a
      // timeout, may well be 0).
      assert.ok([...c.sends.bySlot.values()].some((x) => x.late > 0), 'APNs did answer after the send timeout');
      const email = [...s.views.values()].flatMap((v) => v?.deliveries.filter((d) => d.channel === 'email') ?? []);
      const u7 = email.filter((d) => d.user_id === 'u7');
      const notFailed = u7.filter((d) => d.status !== 'failed' || d.attempts !== 8);
      assert.ok(u7.length > 0 && notFailed.length === 0, `u7's emails ran out of attempts: ${JSON.stringify(notFailed.slice(0, 3))}`);
      assert.ok(email.every((d) => d.user_id === 'u7' || d.status === 'sent'), 'every other email was sent');
      assert.ok(throttled() > 0, 'FCM did answer 429');
      const fcm = [...s.views.values()].flatMap((v) => v?.deliveries.filter((d) => d.provider === 'fcm') ?? []);
      const burned = fcm.filter((d) => d.attempts !== 1);
      assert.deepEqual(burned.slice(0, 5), [], `${burned.length} FCM deliveries spent attempts on 429s`);
    },
  };
}

/**
 * Reads the next entry of `stream` nobody has read yet as a consumer that then dies, and claims it `times` times more,
 * as handlers that died on it would have: it is poison. Its blocking read queues behind the workers' blocked reads, so
 * it gets one of the next few entries of the traffic (HTTP-accepted, in the ledger).
 */
async function poisonNext(c: Cluster, stream: string, group: string, times = 3): Promise<{ id: string; fields: Record<string, string> }> {
  const conn = new Redis(c.redis.url, { maxRetriesPerRequest: null });
  conn.on('error', () => undefined);
  try {
    for (let tries = 0; tries < 10; tries++) {
      const r = (await conn.call('XREADGROUP', 'GROUP', group, 'chaos-crasher', 'COUNT', 1, 'BLOCK', 2000, 'STREAMS', stream, '>')) as
        [string, [string, string[]][]][] | null;
      const e = r?.[0]?.[1][0];
      if (!e) continue;
      for (let i = 0; i < times; i++) await conn.xclaim(stream, group, 'chaos-crasher', 0, e[0]);
      return { id: e[0], fields: pairs<string>(e[1]) };
    }
  } finally {
    conn.disconnect();
  }
  throw new Error(`no entry of ${stream} came to poison`);
}

/**
 * Poison amid traffic: an accepted notification's ingest entry, and another one's email lane entry, "crash" their
 * handlers again and again. Both are dead-lettered and end terminal — the first `failed` (not planned), the second's
 * email delivery `failed` (poison) — nothing of them is sent, and everything else flows.
 */
export async function poison(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const producing = traffic(c, ledger, 'poison');
  await sleep(span() / 3);
  const ingest = await poisonNext(c, c.keys.ingest, 'intake');
  const lane = await poisonNext(c, c.keys.lane('email'), 'send');
  await producing;
  const nid = (JSON.parse(ingest.fields.payload!) as { id: string }).id;
  const task = JSON.parse(lane.fields.d!) as { nid: string };
  const item = (id: string) => ledger.accepted.find((a) => a.id === id);
  return {
    bound: 0,
    note: 'an ingest entry and a lane entry poisoned',
    check: async (s) => {
      assert.equal(ingest.fields.src, 'api', 'the poisoned ingest entry was accepted over HTTP');
      const a = item(nid);
      assert.ok(a, 'the poisoned notification is in the ledger');
      const v = s.views.get(nid);
      assert.equal(v?.status, 'failed');
      assert.equal(v?.not_planned?.reason, 'poison');
      for (const slot of a.slots) assert.equal(c.sends.get(a.marker, slot).tried, 0, `the poisoned notification was never sent (${slot})`);
      const b = item(task.nid);
      assert.ok(b, 'the notification of the poisoned lane entry is in the ledger');
      const email = s.views.get(task.nid)?.deliveries.find((d) => d.channel === 'email');
      assert.equal(email?.status, 'failed');
      assert.match(email?.last_error ?? '', /^poison: /);
      assert.equal(c.sends.get(b.marker, 'email').tried, 0, 'the poisoned email was never sent');
    },
  };
}

/**
 * The same request submitted many times at once: half the requests repeat one Idempotency-Key (one id, one send), the
 * other half send a new key each time but the same event_id (one send; the other ids end `deduplicated`).
 */
export async function duplicates(c: Cluster, ledger: Ledger): Promise<Chaos> {
  const retry = await idempotencySupported(c, ledger);
  const running = new Set<Promise<unknown>>();
  for (let i = 0; i < SCALE.dupRequests; i++) {
    while (running.size >= 8) await Promise.race(running);
    const r = request('dup', i, { event_id: `evt-dup-${i}` });
    const sameKey = i % 2 === 0;
    const p = Promise.all(Array.from({ length: SCALE.dupCopies }, (_, k) => submit(c, ledger, sameKey ? r : { ...r, key: `${r.key}-${k}` }, retry)))
      .finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
  const ids = new Map<string, Set<string>>();
  for (const a of ledger.accepted) ids.set(a.marker, (ids.get(a.marker) ?? new Set()).add(a.id));
  const idsPer = (even: boolean) => [...ids].filter(([m]) => m.startsWith('chaos-dup-') && Number(m.split('-')[2]) % 2 === (even ? 0 : 1));
  return {
    bound: 0,
    note: `${SCALE.dupCopies} copies each; Idempotency-Key ${retry ? 'honoured' : 'NOT honoured'}`,
    check: (s) => {
      const keyed = idsPer(true).filter(([, set]) => set.size !== 1);
      assert.deepEqual(keyed.slice(0, 5).map(([m, set]) => [m, set.size]), [], 'one Idempotency-Key, one notification id');
      const byEvent = idsPer(false);
      const expected = byEvent.reduce((n, [m, set]) => n + (set.size - 1) * request('dup', Number(m.split('-')[2])).slots.length, 0);
      assert.equal(s.statuses.deduplicated ?? 0, expected, 'every repeat of an event_id ends deduplicated');
    },
  };
}

/** Control: traffic and nothing else; no duplicate at all. */
export async function calm(c: Cluster, ledger: Ledger): Promise<Chaos> {
  await traffic(c, ledger, 'calm');
  return { bound: 0, held: new Set() };
}

/** Claim idle time of the slow-sends scenario: sends can outlast it and still finish well inside the 5 s send timeout. */
export const SLOW_CLAIM_IDLE_MS = '3000';

/**
 * No chaos, but every send takes longer than the claim idle time (still within the send timeout): the workers keep
 * their entries fresh, so nothing is taken from a live worker and sent twice.
 */
export async function slowSends(c: Cluster, ledger: Ledger): Promise<Chaos> {
  // Whether a claim tick lands in a refresh gap depends on the workers' timer phases: four workers cover more of them.
  await Promise.all([c.spawnWorker(), c.spawnWorker()]);
  const ms = Number(SLOW_CLAIM_IDLE_MS) + 500;
  for (const p of ['apns', 'fcm', 'twilio', 'sns', 'ses'] as const) c.fakes.behavior(p, { latencyMs: ms });
  await produce(c, ledger, { count: 200, ratePerSec: 50, make: (i) => request('slow', i), retry: false });
  return { bound: 0, held: new Set(), note: `4 workers; sends take ${ms} ms, claim idle ${SLOW_CLAIM_IDLE_MS} ms` };
}
