// Answers "does this template exist?" for the ingress, remembering recent yeses so the hot path rarely asks Redis.
import type { Redis } from 'ioredis';
import type { Keys } from '../streams/keys.js';

export class KnownTemplates {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The names (of those given) that do not exist. A template deleted within `ttlMs` may still pass; the worker then records the failure. */
  async missing(tenant: string, names: Iterable<string>): Promise<Set<string>> {
    const t = this.now();
    const unknown = [...new Set(names)].filter((n) => (this.seen.get(`${tenant}/${n}`) ?? 0) < t);
    const missing = new Set<string>();
    if (unknown.length === 0) return missing;
    const pipe = this.redis.pipeline();
    for (const n of unknown) pipe.exists(this.keys.template(tenant, n));
    const replies = (await pipe.exec()) ?? [];
    unknown.forEach((n, i) => {
      if (replies[i]?.[1] === 1) this.remember(`${tenant}/${n}`, t + this.ttlMs);
      else missing.add(n);
    });
    return missing;
  }

  private remember(key: string, until: number): void {
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.set(key, until);
  }
}
