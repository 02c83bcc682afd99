// The alerts' state in Redis: tenants' settings, rules' window counts and states.
import type { ChainableCommander, Redis } from 'ioredis';
import type { Contribution } from './facts.js';
import { OPERATOR, type AlertKeys } from './keys.js';
import type { Rule, Settings } from './rules.js';
import { windowStart, type RuleState, type WindowCounts } from './window.js';

export class AlertStore {
  constructor(private readonly redis: Redis, private readonly keys: AlertKeys) {}

  async settings(tenant: string): Promise<Settings | undefined> {
    const json = await this.redis.get(this.keys.settings(tenant));
    return json ? (JSON.parse(json) as Settings) : undefined;
  }

  /** Several tenants' settings in one round trip. */
  async settingsOf(tenants: string[]): Promise<Map<string, Settings>> {
    const out = new Map<string, Settings>();
    if (tenants.length === 0) return out;
    const rows = await this.redis.mget(...tenants.map((t) => this.keys.settings(t)));
    tenants.forEach((t, i) => { if (rows[i]) out.set(t, JSON.parse(rows[i]!) as Settings); });
    return out;
  }

  async tenants(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.tenants)).sort();
  }

  /** Replaces a tenant's settings; the state of rules gone or changed is forgotten. */
  async put(tenant: string, s: Settings): Promise<void> {
    const before = await this.settings(tenant);
    const m = this.redis.multi();
    for (const old of before?.rules ?? []) {
      const now = s.rules.find((r) => r.name === old.name);
      if (!now || JSON.stringify(now) !== JSON.stringify(old)) m.del(this.keys.state(tenant, old.name));
    }
    if (s.rules.length === 0 && s.destinations.length === 0) m.del(this.keys.settings(tenant)).srem(this.keys.tenants, tenant);
    else m.set(this.keys.settings(tenant), JSON.stringify(s)).sadd(this.keys.tenants, tenant);
    await m.exec();
  }

  async state(scope: string, rule: string): Promise<RuleState> {
    return toState(await this.redis.hgetall(this.keys.state(scope, rule)));
  }

  async counts(scope: string, rule: string, start: number): Promise<WindowCounts> {
    return toCounts(await this.redis.hgetall(this.keys.counts(scope, rule, start)));
  }
}

/** Adds a contribution to the rule's window of `at` (kept three windows, then it expires). */
export function addCounts(m: ChainableCommander, keys: AlertKeys, scope: string | undefined, rule: Rule, at: number, c: Contribution): void {
  const key = keys.counts(scope ?? OPERATOR, rule.name, windowStart(at, rule.window_ms));
  if (c.matched) m.hincrby(key, 'n', c.matched);
  if (c.total) m.hincrby(key, 't', c.total);
  for (const w of c.what) m.hincrby(key, `b:${w}`, 1);
  if (c.sample !== undefined) m.hsetnx(key, 's', c.sample);
  // Highest sampled value: one evaluator writes samples (the lease), so a read-compare-write is not needed in Lua.
  if (c.ageMs !== undefined) m.eval(MAX, 1, key, 'ma', Math.round(c.ageMs));
  if (c.lag !== undefined) m.eval(MAX, 1, key, 'ml', Math.round(c.lag));
  m.pexpire(key, rule.window_ms * 3 + 60_000);
}

const MAX = `local v = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1') if tonumber(ARGV[2]) > v then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 1`;

export function toCounts(h: Record<string, string>): WindowCounts {
  const breakdown: Record<string, number> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('b:')) breakdown[k.slice(2)] = Number(v);
  return {
    matched: Number(h.n ?? 0), total: Number(h.t ?? 0), breakdown, ...(h.s !== undefined && { sample: h.s }),
    ...(h.ma !== undefined && { maxAgeMs: Number(h.ma) }), ...(h.ml !== undefined && { maxLag: Number(h.ml) }),
  };
}

export function toState(h: Record<string, string>): RuleState {
  return {
    firing: h.firing === '1', ...(h.next && { next: Number(h.next) }), ...(h.last_sent_at && { lastSentAt: Number(h.last_sent_at) }),
    ...(h.last_state && { lastState: h.last_state as RuleState['lastState'] }),
    ...(h.last_window_end && { lastWindowEnd: Number(h.last_window_end) }), ...(h.last_count && { lastCount: Number(h.last_count) }),
  };
}

export function fromState(s: RuleState): Record<string, string> {
  return {
    firing: s.firing ? '1' : '0', next: String(s.next ?? ''), last_sent_at: String(s.lastSentAt ?? ''), last_state: s.lastState ?? '',
    last_window_end: String(s.lastWindowEnd ?? ''), last_count: String(s.lastCount ?? ''),
  };
}
