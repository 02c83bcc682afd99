// Sends each endpoint's queue, from its head, one request at a time per endpoint (so events arrive in order), up to
// `concurrency` endpoints at once per process. An endpoint is due (sorted set `due`) when it has something queued and
// its next attempt's time has come; a lease makes one sender at a time work on it, and a sender that dies leaves the
// head entry in the queue, taken over when its lease runs out (at least once). The head leaves the queue only in the
// same MULTI that records its outcome (sent, or dead-lettered).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { pairs } from '../streams/replies.js';
import type { WebhookConfig } from './config.js';
import { holdLease, releaseLease } from './dispatcher.js';
import { fromMember, member, type WebhookKeys } from './keys.js';
import { postWebhook, type PostResult } from './post.js';
import { parseRetryAfter, retryDelay, shouldDisable } from './schedule.js';
import { signatureHeaders } from './sign.js';
import { signingSecrets, WebhookStore, type Attempt, type Endpoint } from './store.js';

/** Removes an endpoint from `due` only while its queue is empty (a dispatcher may have just queued something). */
const IDLE = `if redis.call('XLEN', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end return 0`;

export interface SenderCounters {
  attempt(outcome: Attempt['outcome']): void;
  /** An endpoint was disabled after persistent failure (the alerts note it). */
  disabled?(tenant: string, endpoint: string): void;
}

export class Sender {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inflight = new Map<string, Promise<void>>();
  private wakeUp: (() => void) | undefined;
  private readonly owner = `sender-${randomUUID()}`;
  private readonly store: WebhookStore;

  constructor(
    private readonly redis: Redis,
    private readonly wk: WebhookKeys,
    private readonly cfg: WebhookConfig,
    private readonly log: Logger,
    private readonly counters?: SenderCounters,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.store = new WebhookStore(redis, wk, now);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops taking endpoints and waits for the requests in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.all(this.inflight.values());
  }

  /** Look for due endpoints now (the dispatcher queued something). */
  wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const free = this.cfg.concurrency - this.inflight.size;
        if (free > 0) {
          const due = await this.redis.zrangebyscore(this.wk.due, '-inf', this.now(), 'LIMIT', 0, free + this.inflight.size);
          for (const m of due) {
            if (this.inflight.size >= this.cfg.concurrency) break;
            if (this.inflight.has(m)) continue;
            const work = this.work(m).catch((err: unknown) => this.log.warn({ endpoint: m, err: (err as Error).message }, 'webhooks: sending failed; trying again'))
              .finally(() => { this.inflight.delete(m); this.wake(); });
            this.inflight.set(m, work);
          }
        }
      } catch (err) {
        if (this.running) this.log.warn({ err: (err as Error).message }, 'webhooks: reading due endpoints failed');
      }
      await this.pause(this.cfg.pollMs);
    }
  }

  /** Sends an endpoint's queue from its head while it succeeds (at most `batch` entries before letting others in). */
  private async work(m: string): Promise<void> {
    const [tenant, name] = fromMember(m);
    const leaseKey = this.wk.lease(tenant, name);
    if (!(await holdLease(this.redis, leaseKey, this.owner, this.cfg.leaseMs))) return;
    let held = this.now();
    try {
      for (let i = 0; i < this.cfg.batch && this.running; i++) {
        // Renewed once a third of it has passed (not per request: that was two round trips per event).
        if (this.now() - held > this.cfg.leaseMs / 3) {
          if (!(await holdLease(this.redis, leaseKey, this.owner, this.cfg.leaseMs))) return;
          held = this.now();
        }
        if (!(await this.sendHead(tenant, name))) return;
      }
    } finally {
      await releaseLease(this.redis, leaseKey, this.owner);
    }
  }

  /** One attempt at the head entry; true when the next entry may be sent at once. */
  private async sendHead(tenant: string, name: string): Promise<boolean> {
    const wk = this.wk;
    const m = member(tenant, name);
    // The endpoint, its queue's head and its state in one round trip (sent together on the connection).
    const [ep, [head], st] = await Promise.all([
      this.store.get(tenant, name),
      this.redis.xrange(wk.queue(tenant, name), '-', '+', 'COUNT', 1) as Promise<[string, string[]][]>,
      this.redis.hgetall(wk.state(tenant, name)),
    ]);
    if (!ep || !ep.enabled) {
      // Deleted, or disabled: its queue waits (PUT with enabled: true puts it back in `due`).
      await this.redis.zrem(wk.due, m);
      return false;
    }
    if (!head) {
      await this.redis.eval(IDLE, 2, wk.queue(tenant, name), wk.due, m);
      return false;
    }
    const [entryId, flat] = head;
    const f = pairs<string>(flat);
    const attempt = (st.head === entryId ? Number(st.head_attempts ?? 0) : 0) + 1;
    const webhookId = `${f.id}_${name}`;
    const type = (JSON.parse(f.p!) as { type: string }).type;
    const res = await send(ep, webhookId, f.p!, this.cfg, this.now());
    const at = this.now();
    const record = (outcome: Attempt['outcome'], next?: number): string => JSON.stringify({
      at: new Date(at).toISOString(), webhook_id: webhookId, type, attempt, status_code: res.status ?? null, duration_ms: res.durationMs,
      ...(res.error !== undefined && { error: res.error }), outcome, ...(next !== undefined && { next_attempt_at: new Date(next).toISOString() }),
    } satisfies Attempt);
    const tx = this.redis.multi();
    const log = (json: string) => tx.lpush(wk.attempts(tenant, name), json).ltrim(wk.attempts(tenant, name), 0, this.cfg.attemptsKept - 1);
    let more = false;
    let outcome: Attempt['outcome'];
    if (res.error === undefined) {
      outcome = 'succeeded';
      log(record(outcome));
      tx.xdel(wk.queue(tenant, name), entryId).hset(wk.state(tenant, name), { head: '', head_attempts: '0', failures: '0', failing_since: '' });
      more = true;
    } else {
      const failures = Number(st.failures ?? 0) + 1;
      const since = st.failing_since ? Number(st.failing_since) : at;
      const state = { failures: String(failures), failing_since: String(since) };
      const delay = retryDelay(attempt, this.cfg.retrySchedule, parseRetryAfter(res.retryAfter, at), this.cfg.maxRetryAfterMs, this.random());
      if (shouldDisable(failures, since, at, this.cfg)) {
        outcome = 'disabled';
        const reason = `disabled after ${failures} failed attempts in a row since ${new Date(since).toISOString()} (last: ${res.error})`;
        log(record(outcome));
        tx.hset(wk.endpoint(tenant, name), { enabled: '0', disabled_reason: reason, disabled_at: new Date(at).toISOString() })
          .hset(wk.state(tenant, name), { ...state, head: entryId, head_attempts: String(attempt) })
          .zrem(wk.due, m);
        this.log.warn({ tenant, endpoint: name, failures, reason }, 'webhooks: endpoint disabled after persistent failure');
      } else if (delay === undefined) {
        outcome = 'dead_lettered';
        log(record(outcome));
        tx.xadd(wk.dead(tenant, name), '*', 'id', f.id!, 'p', f.p!, 'error', res.error, 'attempts', String(attempt), 'dead_at', new Date(at).toISOString())
          .xdel(wk.queue(tenant, name), entryId)
          .hset(wk.state(tenant, name), { ...state, head: '', head_attempts: '0' });
        more = true;
      } else {
        outcome = 'retrying';
        log(record(outcome, at + delay));
        tx.hset(wk.state(tenant, name), { ...state, head: entryId, head_attempts: String(attempt) }).zadd(wk.due, at + delay, m);
      }
    }
    const done = await tx.exec();
    const failed = done?.find(([err]) => err);
    if (!done || failed) throw new Error(`recording a webhook attempt failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    this.counters?.attempt(outcome);
    if (outcome === 'disabled') this.counters?.disabled?.(tenant, name);
    return more;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Signs (with every valid secret) and posts one payload. */
export function send(ep: Endpoint, webhookId: string, body: string, cfg: WebhookConfig, now: number): Promise<PostResult> {
  const headers = signatureHeaders(signingSecrets(ep, now), webhookId, new Date(now), body);
  return postWebhook(ep.url, body, headers, cfg);
}
