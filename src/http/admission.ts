// Per-tenant admission at the ingress: a request asking for N deliveries takes N tokens from its tenant's bucket in
// Redis (tenant-admit.lua), or is refused with 429 + Retry-After (422 when N is over the burst: it could never pass).
// The checks of one event-loop turn share one script call.
import type { Redis } from 'ioredis';
import { Batcher } from '../actors/batcher.js';
import { limitFor, retryAfterSeconds, type TenantLimit, type TenantLimits } from '../domain/tenant-limit.js';
import type { Keys } from '../streams/keys.js';
import { runScript } from '../streams/scripts.js';
import { ApiError } from './errors.js';

interface Ask {
  tenant: string;
  limit: TenantLimit;
  cost: number;
}

export class TenantAdmission {
  private readonly checks: Batcher<Ask, number>;

  constructor(
    redis: Redis,
    keys: Keys,
    private readonly limits: TenantLimits,
  ) {
    this.checks = new Batcher(async (asks: Ask[]) => runScript<number[]>(
      redis, 'tenantAdmit', asks.map((a) => keys.tenantBucket(a.tenant)), asks.flatMap((a) => [a.limit.rate, a.limit.burst, a.cost]),
    ));
  }

  /**
   * Takes `cost` deliveries from the tenant's allowance, or throws: `tenant_rate_limited` (429, with Retry-After) or
   * `too_many_recipients` (422, naming `field`). Nothing is taken from a refused request.
   */
  async take(tenant: string, cost: number, field: string): Promise<void> {
    const limit = limitFor(this.limits, tenant);
    if (limit === undefined || cost <= 0) return;
    if (cost > limit.burst) throw tooMany(tenant, cost, limit, field);
    const waitMs = await this.checks.add({ tenant, limit, cost });
    if (waitMs === 0) return;
    if (waitMs < 0) throw tooMany(tenant, cost, limit, field);
    const s = retryAfterSeconds(waitMs);
    throw new ApiError(
      'tenant_rate_limited',
      `tenant "${tenant}" is over its limit of ${limit.rate} deliveries/s (burst ${limit.burst}): this request asks for ${cost}; retry after ${s} s`,
      undefined, s,
    );
  }
}

const tooMany = (tenant: string, cost: number, limit: TenantLimit, field: string) => new ApiError(
  'too_many_recipients',
  `this request asks for ${cost} deliveries, more than tenant "${tenant}" may ask for at once (burst ${limit.burst}, at ${limit.rate}/s): split it into requests of at most ${limit.burst}`,
  field,
);

/** Deliveries a notification asks for: one per distinct recipient (as the intake counts them). */
export const recipientsOf = (n: { user_id?: string; to?: readonly { user_id: string }[] }): number =>
  n.user_id !== undefined ? 1 : new Set((n.to ?? []).map((t) => t.user_id)).size;
