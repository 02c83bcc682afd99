// Counts the facts alert rules watch and decides their windows. One process at a time (a lease) reads:
// - the status event stream as the consumer group `alerts` (feedback events, delivery attempts): each batch's counts
//   are added in the same MULTI as its XACK, so a crash neither loses nor double-counts a batch (what a holder left
//   pending is read again first, always as the consumer `evaluator`);
// - the dead-letter stream and the alerts' facts stream (webhook endpoints disabled) by cursors kept in Redis and moved
//   in the same MULTI as the counts;
// and every tick samples the workers' circuit states and the queues, then decides each rule's ended windows.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { decodeDeadLetter } from '../domain/dead-letter.js';
import { decodeEvent, type HistoryEvent } from '../history/events.js';
import { ensureGroup } from '../streams/groups.js';
import type { Keys } from '../streams/keys.js';
import { LeasedGroupReader, recordsOf, type Entry } from '../streams/leased-reader.js';
import { pairs } from '../streams/replies.js';
import { holdLease, releaseLease } from '../webhooks/dispatcher.js';
import type { AlertConfig } from './config.js';
import { contribution, factOfDeadLetter, factOfEvent, needsRecord, type Fact } from './facts.js';
import { OPERATOR, type AlertKeys } from './keys.js';
import type { Rule, Settings } from './rules.js';
import { enqueue } from './sender.js';
import { addCounts, AlertStore, fromState } from './store.js';
import { decide, dueWindows, type AlertState } from './window.js';
import type { RuleKind } from './rules.js';

export const ALERT_GROUP = 'alerts';
const CONSUMER = 'evaluator';

export interface WatchedQueue {
  name: string;
  key: string;
  group: string;
}

export interface EvaluatorCounters {
  alert?(kind: RuleKind, state: AlertState): void;
}

interface Scoped {
  /** undefined: the operator's. */
  tenant?: string;
  settings: Settings;
}

export class Evaluator {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly reader: LeasedGroupReader;
  private nextTick = 0;
  holding = false;
  private readonly store: AlertStore;

  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly ak: AlertKeys,
    private readonly cfg: AlertConfig,
    private readonly operator: Settings,
    private readonly queues: readonly WatchedQueue[],
    private readonly owner: string,
    private readonly log: Logger,
    private readonly counters: EvaluatorCounters = {},
    /** Told when messages were queued (the sender looks at once). */
    private readonly queued: () => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.store = new AlertStore(redis, ak);
    this.reader = new LeasedGroupReader(redis, blocking, keys.events, ALERT_GROUP, CONSUMER);
  }

  async start(): Promise<void> {
    if (this.blocking.status === 'wait') await this.blocking.connect();
    await ensureGroup(this.redis, this.keys.events, ALERT_GROUP);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.holding = false;
    await releaseLease(this.redis, this.ak.lease, this.owner).catch(() => {});
    this.blocking.disconnect();
  }

  private async run(): Promise<void> {
    const pauseMs = Math.min(this.cfg.blockMs, this.cfg.tickMs, this.cfg.leaseMs / 3);
    while (this.running) {
      try {
        this.holding = await holdLease(this.redis, this.ak.lease, this.owner, this.cfg.leaseMs);
        if (!this.holding) {
          this.reader.reset();
          await sleep(pauseMs);
          continue;
        }
        const entries = await this.reader.next(this.cfg.batch, Math.min(pauseMs, Math.max(1, this.nextTick - this.now())));
        if (!this.running) break;
        if (entries.length > 0) await this.countEvents(entries);
        const moreDead = await this.countDeadLetters();
        const more = (await this.countFacts()) || moreDead;
        // Behind (a full batch read): catch up before deciding windows, for a tick at most.
        const behind = entries.length >= this.cfg.batch || more;
        if (this.now() >= this.nextTick && (!behind || this.now() >= this.nextTick + this.cfg.tickMs)) {
          this.nextTick = this.now() + this.cfg.tickMs;
          await this.tick();
        }
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err: (err as Error).message }, 'alerts: evaluating failed; trying again');
        this.reader.reset();
        await sleep(1_000);
      }
    }
  }

  /** The operator's rules and those of the given tenants (or of every tenant with settings). */
  private async scopes(tenants?: string[]): Promise<Scoped[]> {
    const list = tenants ?? (await this.store.tenants());
    const of = await this.store.settingsOf(list);
    return [{ settings: this.operator }, ...[...of].map(([tenant, settings]) => ({ tenant, settings }))];
  }

  /** Adds each fact (at its time) to every rule that counts it. */
  private add(m: ReturnType<Redis['multi']>, scopes: Scoped[], facts: { at: number; fact: Fact }[]): void {
    for (const { at, fact } of facts) {
      for (const s of scopes) {
        for (const rule of s.settings.rules) {
          const c = contribution(rule, s.tenant, fact);
          if (c && (c.matched || c.total)) addCounts(m, this.ak, s.tenant, rule, at, c);
        }
      }
    }
  }

  private async countEvents(entries: Entry[]): Promise<void> {
    const events: HistoryEvent[] = [];
    for (const [id, flat] of entries) {
      const ev = decodeEvent(id, pairs<string>(flat));
      if (!('error' in ev)) events.push(ev);
    }
    const records = await recordsOf(this.redis, this.keys, events, needsRecord);
    const facts = events.flatMap((ev) => {
      const fact = factOfEvent(ev, records.get(ev.id));
      return fact ? [{ at: entryMs(ev.id), fact }] : [];
    });
    const scopes = await this.scopes([...new Set(facts.map((f) => (f.fact as { tenant: string }).tenant))]);
    const m = this.redis.multi();
    this.add(m, scopes, facts);
    m.xack(this.keys.events, ALERT_GROUP, ...entries.map(([id]) => id));
    await exec(m, 'counting status events');
  }

  /** Dead letters after the cursor (a first start begins at the stream's end); true when there may be more. */
  private async countDeadLetters(): Promise<boolean> {
    return this.byCursor(this.keys.dead, this.ak.deadCursor, (id, f) => {
      const fact = factOfDeadLetter(decodeDeadLetter(id, f));
      return { at: entryMs(id), fact };
    });
  }

  private async countFacts(): Promise<boolean> {
    return this.byCursor(this.ak.facts, this.ak.factsCursor, (id, f) => (f.kind === 'webhook_disabled' && f.tenant && f.endpoint
      ? { at: entryMs(id), fact: { kind: 'webhook_disabled', tenant: f.tenant, what: `endpoint ${f.endpoint}` } }
      : undefined));
  }

  private async byCursor(stream: string, cursorKey: string, read: (id: string, f: Record<string, string>) => { at: number; fact: Fact } | undefined): Promise<boolean> {
    let cursor = await this.redis.get(cursorKey);
    if (cursor === null) {
      const [last] = (await this.redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
      cursor = last?.[0] ?? '0-0';
      await this.redis.set(cursorKey, cursor, 'NX');
      return false;
    }
    const rows = (await this.redis.xrange(stream, `(${cursor}`, '+', 'COUNT', this.cfg.batch)) as [string, string[]][];
    if (rows.length === 0) return false;
    const facts = rows.flatMap(([id, flat]) => {
      const r = read(id, pairs<string>(flat));
      return r ? [r] : [];
    });
    const tenants = [...new Set(facts.flatMap((f) => ('tenant' in f.fact && f.fact.tenant !== undefined ? [f.fact.tenant] : [])))];
    const m = this.redis.multi();
    this.add(m, await this.scopes(tenants), facts);
    m.set(cursorKey, rows[rows.length - 1]![0]);
    await exec(m, 'counting dead letters and facts');
    return rows.length >= this.cfg.batch;
  }

  /** Samples circuits and queues into the operator's rules, then decides every rule's ended windows. */
  async tick(): Promise<void> {
    const now = this.now();
    const sampled = this.operator.rules.filter((r) => r.kind === 'circuit' || r.kind === 'queue_lag');
    if (sampled.length > 0) {
      const facts: { at: number; fact: Fact }[] = [];
      if (sampled.some((r) => r.kind === 'circuit')) facts.push({ at: now, fact: await this.sampleCircuits(now) });
      if (sampled.some((r) => r.kind === 'queue_lag')) facts.push({ at: now, fact: await this.sampleQueues(now) });
      const m = this.redis.multi();
      this.add(m, [{ settings: { destinations: [], rules: sampled } }], facts);
      await exec(m, 'recording samples');
    }
    // A window is decided a moment after it ends: an event written just before its end may still be on its way.
    const settle = Math.min(250, Math.max(10, this.cfg.tickMs / 2));
    let queued = 0;
    for (const s of await this.scopes()) {
      for (const rule of s.settings.rules) queued += await this.decideRule(s, rule, now - settle, now);
    }
    if (queued > 0) this.queued();
  }

  private async decideRule(s: Scoped, rule: Rule, until: number, now: number): Promise<number> {
    const scope = s.tenant ?? OPERATOR;
    let state = await this.store.state(scope, rule.name);
    const { starts, next } = dueWindows(rule, state, until);
    if (starts.length === 0) {
      if (state.next === undefined) await this.redis.hset(this.ak.state(scope, rule.name), fromState({ ...state, next }));
      return 0;
    }
    const m = this.redis.multi();
    let queued = 0;
    for (const start of starts) {
      const d = decide(rule, s.tenant ?? null, state, start, await this.store.counts(scope, rule.name, start), now);
      state = d.state;
      if (!d.message) continue;
      for (const name of rule.destinations) {
        const dest = s.settings.destinations.find((x) => x.name === name);
        if (dest) {
          enqueue(m, this.ak, scope, dest, d.message, now);
          queued++;
        }
      }
      this.counters.alert?.(rule.kind, d.message.state);
    }
    m.hset(this.ak.state(scope, rule.name), fromState({ ...state, next }));
    await exec(m, 'deciding a rule');
    return queued;
  }

  private async sampleCircuits(now: number): Promise<Fact> {
    const all = await this.redis.hgetall(this.ak.circuits);
    const open = new Set<string>();
    const stale: string[] = [];
    const maxAge = Math.max(3 * this.cfg.tickMs, 3_000);
    for (const [field, value] of Object.entries(all)) {
      const [state, at] = value.split('|');
      if (now - Number(at) > maxAge) stale.push(field);
      else if (state === 'open') open.add(field.slice(field.lastIndexOf('|') + 1));
    }
    if (stale.length > 0) await this.redis.hdel(this.ak.circuits, ...stale);
    return { kind: 'circuit', open: [...open].sort() };
  }

  private async sampleQueues(now: number): Promise<Fact> {
    const pipe = this.redis.pipeline();
    for (const q of this.queues) {
      pipe.call('XINFO', 'GROUPS', q.key);
      pipe.xpending(q.key, q.group);
    }
    const replies = (await pipe.exec()) ?? [];
    const streams = this.queues.map((q, i) => {
      const [gErr, groups] = replies[i * 2]!;
      const [pErr, pending] = replies[i * 2 + 1]!;
      const group = gErr ? undefined : (groups as unknown[][]).map(pairs).find((g) => g.name === q.group);
      const oldest = !pErr && pending ? (pending as [number, string | null])[1] : null;
      const lag = group?.lag;
      return { name: q.name, oldestAgeMs: oldest ? Math.max(0, now - Number(oldest.split('-')[0])) : 0, lag: lag === null || lag === undefined ? 0 : Number(lag) };
    });
    return { kind: 'queue', streams };
  }
}

/** Each worker's circuit states, for the evaluator (whichever process holds the lease) to gather. */
export async function publishCircuits(redis: Redis, ak: AlertKeys, consumer: string, states: Iterable<[provider: string, state: string]>, now = Date.now()): Promise<void> {
  const fields: Record<string, string> = {};
  for (const [p, s] of states) fields[`${consumer}|${p}`] = `${s}|${now}`;
  if (Object.keys(fields).length > 0) await redis.hset(ak.circuits, fields);
}

/** Notes a fact the status event stream does not carry (a webhook endpoint disabled). */
export async function recordWebhookDisabled(redis: Redis, ak: AlertKeys, tenant: string, endpoint: string): Promise<void> {
  await redis.xadd(ak.facts, 'MAXLEN', '~', 10_000, '*', 'kind', 'webhook_disabled', 'tenant', tenant, 'endpoint', endpoint);
}

const entryMs = (id: string): number => Number(id.split('-')[0]);

async function exec(m: ReturnType<Redis['multi']>, what: string): Promise<void> {
  const res = await m.exec();
  const failed = res?.find(([err]) => err);
  if (!res || failed) throw new Error(`${what} failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
