// Failure injection and latency per fake provider: deterministic (failNext, always) for tests, errorRate for the bench.
import { z } from 'zod';
import { PROVIDERS, type ProviderName } from '../domain/types.js';

/** An error to answer in the provider's own form. Give a code, a status, or both; the other is filled in. */
export interface FailSpec {
  status?: number;
  /** Provider code/reason: "Unregistered", "UNREGISTERED", "21211", "MessageRejected", "Throttled"… */
  code?: string;
  message?: string;
  /** Sent as Retry-After (seconds); 429 answers default to 1. */
  retryAfterS?: number;
  /** APNs 410: the time (ms) the token became invalid; defaults to now. */
  timestampMs?: number;
}

/**
 * How a fake provider misbehaves. Failures (`failWith`, or `down`) apply to the next `failNext` requests, or to a
 * fraction `errorRate` of them, or — when neither is given — to every request.
 */
export interface Behavior {
  /** Delay before answering, every request. */
  latencyMs?: number;
  errorRate?: number;
  failNext?: number;
  /** The error to answer; defaults to the provider's 500. */
  failWith?: FailSpec;
  /** Drop the connection (HTTP/1.1 socket reset, HTTP/2 stream reset) instead of answering. */
  down?: boolean;
  /** Apply this behaviour only to requests for this recipient (token, phone, email); others are served normally. */
  onlyTo?: string;
}

export interface Decision {
  latencyMs: number;
  down: boolean;
  fail?: FailSpec;
}

const NORMAL: Decision = Object.freeze({ latencyMs: 0, down: false });

const FailSchema = z.object({
  status: z.number().int().min(100).max(599).optional(),
  code: z.union([z.string().min(1), z.number().transform(String)]).optional(),
  message: z.string().optional(),
  retryAfterS: z.number().min(0).optional(),
  timestampMs: z.number().int().positive().optional(),
});
const BehaviorSchema = z.object({
  provider: z.enum(PROVIDERS),
  latencyMs: z.number().min(0).max(600_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  failNext: z.number().int().min(0).optional(),
  failWith: FailSchema.optional(),
  down: z.boolean().optional(),
  onlyTo: z.string().optional(),
});

/** Validates a `POST /_fake/behavior` body; throws a readable Error on bad input. */
export function parseBehaviorRequest(input: unknown): { provider: ProviderName; behavior: Behavior } {
  const r = BehaviorSchema.safeParse(input);
  if (!r.success) throw new Error(r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  const { provider, ...behavior } = r.data;
  return { provider, behavior: behavior as Behavior };
}

/** The current behaviour of every fake provider. */
export class Behaviors {
  private readonly map = new Map<ProviderName, Behavior>();

  /** Replaces the provider's behaviour (an empty object restores normal service). */
  set(provider: ProviderName, behavior: Behavior): void {
    if (Object.keys(behavior).length === 0) this.map.delete(provider);
    else this.map.set(provider, { ...behavior, failWith: behavior.failWith && { ...behavior.failWith } });
  }

  get(provider: ProviderName): Behavior {
    return { ...this.map.get(provider) };
  }

  reset(provider?: ProviderName): void {
    if (provider) this.map.delete(provider);
    else this.map.clear();
  }

  /** What to do with one request; consumes one `failNext` when it fails. */
  decide(provider: ProviderName, to: string): Decision {
    const b = this.map.get(provider);
    if (!b || (b.onlyTo !== undefined && b.onlyTo !== to)) return NORMAL;
    const latencyMs = b.latencyMs ?? 0;
    const counted = b.failNext !== undefined || b.errorRate !== undefined;
    let failing: boolean;
    if (b.failNext !== undefined && b.failNext > 0) {
      b.failNext--;
      failing = true;
    } else if (b.errorRate !== undefined) {
      failing = Math.random() < b.errorRate;
    } else {
      // failWith/down alone means "always"; an exhausted failNext means "no more".
      failing = !counted && (b.failWith !== undefined || b.down === true);
    }
    if (!failing) return latencyMs ? { latencyMs, down: false } : NORMAL;
    return { latencyMs, down: b.down === true, fail: b.failWith ?? {} };
  }
}
