// Endpoints, their attempts and dead letters in Redis (per tenant).
import type { Redis } from 'ioredis';
import { pairs } from '../streams/replies.js';
import { member, type WebhookKeys } from './keys.js';
import { newSecret } from './sign.js';

export interface Endpoint {
  name: string;
  url: string;
  events: string[];
  enabled: boolean;
  secret: string;
  /** The secret before the last rotation, valid until `previousUntil` (ms). */
  previousSecret?: string;
  previousUntil?: number;
  disabledReason?: string;
  disabledAt?: string;
  createdAt: string;
  updatedAt: string;
}

export interface Attempt {
  at: string;
  webhook_id: string;
  type: string;
  attempt: number;
  status_code: number | null;
  duration_ms: number;
  error?: string;
  outcome: 'succeeded' | 'retrying' | 'dead_lettered' | 'disabled' | 'test';
  next_attempt_at?: string;
}

export interface DeadLetter {
  id: string;
  webhook_id: string;
  type: string;
  error: string;
  attempts: number;
  dead_at: string;
  payload: unknown;
}

/** Moves dead letters back to the queue's tail, each once even under concurrent redrives. */
const REDRIVE = `
local n = 0
for i = 1, #ARGV do
  local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #e > 0 then
    local f = e[1][2]
    local id, p
    for j = 1, #f, 2 do
      if f[j] == 'id' then id = f[j + 1] elseif f[j] == 'p' then p = f[j + 1] end
    end
    redis.call('XADD', KEYS[2], '*', 'id', id, 'p', p)
    redis.call('XDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n`;

export class WebhookStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: WebhookKeys,
    private readonly now: () => number = Date.now,
  ) {}

  async get(tenant: string, name: string): Promise<Endpoint | undefined> {
    const h = await this.redis.hgetall(this.keys.endpoint(tenant, name));
    return h.url ? toEndpoint(name, h) : undefined;
  }

  async list(tenant: string): Promise<Endpoint[]> {
    const names = (await this.redis.smembers(this.keys.index(tenant))).sort();
    if (names.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const n of names) pipe.hgetall(this.keys.endpoint(tenant, n));
    const rows = (await pipe.exec()) ?? [];
    return names.flatMap((n, i) => {
      const h = rows[i]?.[1] as Record<string, string> | undefined;
      return h?.url ? [toEndpoint(n, h)] : [];
    });
  }

  /** Creates (with a new secret) or updates an endpoint; enabling one clears why it was disabled and resumes its queue. */
  async put(tenant: string, name: string, input: { url: string; events: string[]; enabled: boolean }): Promise<{ endpoint: Endpoint; created: boolean }> {
    const key = this.keys.endpoint(tenant, name);
    const iso = new Date(this.now()).toISOString();
    const created = (await this.redis.hsetnx(key, 'secret', newSecret())) === 1;
    const m = this.redis.multi()
      .hset(key, { url: input.url, events: JSON.stringify(input.events), enabled: input.enabled ? '1' : '0', updated_at: iso })
      .hsetnx(key, 'created_at', iso)
      .sadd(this.keys.index(tenant), name);
    if (input.enabled) {
      m.hdel(key, 'disabled_reason', 'disabled_at')
        .hset(this.keys.state(tenant, name), { failures: '0', failing_since: '' })
        .zadd(this.keys.due, 'LT', this.now(), member(tenant, name));
    }
    await m.exec();
    return { endpoint: (await this.get(tenant, name))!, created };
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    const k = this.keys;
    const [[, removed] = []] = (await this.redis.multi()
      .srem(k.index(tenant), name)
      .del(k.endpoint(tenant, name), k.queue(tenant, name), k.state(tenant, name), k.attempts(tenant, name), k.dead(tenant, name))
      .zrem(k.due, member(tenant, name))
      .exec()) ?? [];
    return removed === 1;
  }

  /** A new secret; the current one keeps signing for `previousMs`. */
  async rotate(tenant: string, name: string, previousMs: number): Promise<Endpoint | undefined> {
    const ep = await this.get(tenant, name);
    if (!ep) return undefined;
    await this.redis.hset(this.keys.endpoint(tenant, name), {
      secret: newSecret(), prev_secret: ep.secret, prev_until: String(this.now() + previousMs), updated_at: new Date(this.now()).toISOString(),
    });
    return this.get(tenant, name);
  }

  async counts(tenant: string, name: string): Promise<{ queued: number; dead_letters: number; failures: number }> {
    const rows = (await this.redis.multi()
      .xlen(this.keys.queue(tenant, name)).xlen(this.keys.dead(tenant, name)).hget(this.keys.state(tenant, name), 'failures')
      .exec()) ?? [];
    const at = (i: number) => Number(rows[i]?.[1] ?? 0);
    return { queued: at(0), dead_letters: at(1), failures: at(2) };
  }

  async attempts(tenant: string, name: string, limit: number): Promise<Attempt[]> {
    return (await this.redis.lrange(this.keys.attempts(tenant, name), 0, limit - 1)).map((s) => JSON.parse(s) as Attempt);
  }

  async deadLetters(tenant: string, name: string, limit: number): Promise<DeadLetter[]> {
    const rows = (await this.redis.xrevrange(this.keys.dead(tenant, name), '+', '-', 'COUNT', limit)) as [string, string[]][];
    return rows.map(([id, flat]) => {
      const f = pairs<string>(flat);
      return { id, webhook_id: `${f.id}_${name}`, type: JSON.parse(f.p!).type, error: f.error ?? '', attempts: Number(f.attempts), dead_at: f.dead_at!, payload: JSON.parse(f.p!) };
    });
  }

  /** Back onto the endpoint's queue (`ids`, or the oldest `limit` when none are named); returns how many moved. */
  async redrive(tenant: string, name: string, ids: string[] | undefined, limit: number): Promise<number> {
    const dead = this.keys.dead(tenant, name);
    const chosen = ids ?? ((await this.redis.xrange(dead, '-', '+', 'COUNT', limit)) as [string, string[]][]).map(([id]) => id);
    if (chosen.length === 0) return 0;
    const n = Number(await this.redis.eval(REDRIVE, 2, dead, this.keys.queue(tenant, name), ...chosen));
    if (n > 0) await this.redis.zadd(this.keys.due, 'LT', this.now(), member(tenant, name));
    return n;
  }
}

function toEndpoint(name: string, h: Record<string, string>): Endpoint {
  return {
    name, url: h.url!, events: JSON.parse(h.events ?? '[]') as string[], enabled: h.enabled === '1', secret: h.secret!,
    ...(h.prev_secret && { previousSecret: h.prev_secret, previousUntil: Number(h.prev_until) }),
    ...(h.disabled_reason && { disabledReason: h.disabled_reason, disabledAt: h.disabled_at }),
    createdAt: h.created_at!, updatedAt: h.updated_at!,
  };
}

/** The secrets that sign now: the current one, and the previous one while it is still valid. */
export const signingSecrets = (ep: Endpoint, now: number): string[] =>
  ep.previousSecret !== undefined && (ep.previousUntil ?? 0) > now ? [ep.secret, ep.previousSecret] : [ep.secret];
