// Pure: per-tenant admission limits at the ingress (NOTIFY_TENANT_RATE, NOTIFY_TENANT_BURST, NOTIFY_TENANT_LIMITS)
// and the token-bucket maths that tenant-admit.lua applies in Redis, so the bucket holds across ingress processes.
// (src/domain/token-bucket.ts is the other bucket: a provider's send rate inside one worker process.)

/** A tenant may ask for `rate` deliveries per second on average, and up to `burst` at once. */
export interface TenantLimit {
  rate: number;
  burst: number;
}

export interface TenantLimits {
  /** Every tenant's limit unless overridden; undefined: unlimited. */
  default?: TenantLimit;
  /** Per tenant: its own limit, or null for none. */
  overrides: ReadonlyMap<string, TenantLimit | null>;
}

const OFF = /^(off|0)$/i;

function positive(text: string, what: string, integer: boolean): number {
  const n = Number(text.trim());
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${what} "${text}" must be a positive ${integer ? 'integer' : 'number'} (or off)`);
  return n;
}

/**
 * `rate`: deliveries per second (`off` or `0`: no limit); `burst`: the most at once (≥ 1; requests asking for more
 * can never pass). `overrides`: `tenant:rate/burst` or `tenant:off`, comma-separated.
 * @example parseTenantLimits('100', '1000', 'acme:500/2000,internal:off')
 */
export function parseTenantLimits(rate: string, burst: string, overrides: string): TenantLimits {
  const limit = (r: string, b: string, where: string): TenantLimit | null => {
    if (OFF.test(r.trim())) return null;
    return { rate: positive(r, `${where} rate`, false), burst: positive(b, `${where} burst`, true) };
  };
  const def = limit(rate, burst, 'NOTIFY_TENANT_RATE/BURST');
  const map = new Map<string, TenantLimit | null>();
  for (const item of overrides.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_-]{1,64}):(?:(off)|([0-9.]+)\/(\d+))$/i.exec(item);
    if (!m) throw new Error(`"${item}" must be tenant:rate/burst (e.g. acme:500/2000) or tenant:off`);
    map.set(m[1]!, m[2] ? null : limit(m[3]!, m[4]!, m[1]!));
  }
  return { ...(def && { default: def }), overrides: map };
}

/** The limit that applies to a tenant (undefined: none). */
export function limitFor(limits: TenantLimits, tenant: string): TenantLimit | undefined {
  const own = limits.overrides.get(tenant);
  return own === null ? undefined : own ?? limits.default;
}

/** A bucket as stored: tokens left at time `at` (ms). A bucket never seen is full. */
export interface BucketState {
  tokens: number;
  at: number;
}

export type Admission =
  | { ok: true; state: BucketState }
  /** Not now: enough tokens will be there in `waitMs`. */
  | { ok: false; never: false; waitMs: number }
  /** Never: the request asks for more than the burst. */
  | { ok: false; never: true };

/**
 * Takes `cost` tokens from the bucket if they are there (all or nothing). Refills at `rate` per second up to `burst`;
 * a clock that went back refills nothing. tenant-admit.lua is the same maths, in Redis.
 */
export function admit(state: BucketState | undefined, cost: number, limit: TenantLimit, now: number): Admission {
  if (cost > limit.burst) return { ok: false, never: true };
  const tokens = state === undefined ? limit.burst : Math.min(limit.burst, state.tokens + (Math.max(0, now - state.at) * limit.rate) / 1000);
  const at = state === undefined ? now : Math.max(now, state.at);
  if (tokens >= cost) return { ok: true, state: { tokens: tokens - cost, at } };
  return { ok: false, never: false, waitMs: Math.max(1, Math.ceil(((cost - tokens) * 1000) / limit.rate)) };
}

/** Retry-After in whole seconds, rounded up, at least 1. */
export const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / 1000));
