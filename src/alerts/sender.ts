// Sends each destination's outbox, oldest first, one message at a time, within the destination's rate limit (a
// message over it waits for the next rate window). A message that cannot be sent is tried again after the retry
// schedule's waits; after the last it is dropped, logged and counted. Runs only while this process holds the alerts
// lease (one sender at a time; a message in flight when a holder dies is sent again by the next: at least once).
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { pairs } from '../streams/replies.js';
import type { AlertConfig } from './config.js';
import { deliver } from './deliver.js';
import { destMember, fromDestMember, type AlertKeys } from './keys.js';
import type { Destination } from './rules.js';
import type { AlertMessage } from './window.js';

/** Removes a destination from `due` only while its outbox is empty (the evaluator may have just queued something). */
const IDLE = `if redis.call('XLEN', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end return 0`;

export interface AlertSendCounters {
  sent?(type: Destination['type']): void;
  failed?(type: Destination['type']): void;
}

/** Queues a message on a destination's outbox (in the caller's MULTI). */
export function enqueue(m: ReturnType<Redis['multi']>, keys: AlertKeys, scope: string, dest: Destination, msg: AlertMessage, now: number): void {
  m.xadd(keys.outbox(scope, dest.name), 'MAXLEN', '~', 1000, '*', 'type', dest.type, 'url', dest.url, 'trusted', dest.trusted ? '1' : '0', 'm', JSON.stringify(msg));
  // NX: a destination already due later (a retry's wait, the rate limit) keeps its time.
  m.zadd(keys.due, 'NX', now, destMember(scope, dest.name));
}

export class AlertSender {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: AlertKeys,
    private readonly cfg: AlertConfig & { rateWindowMs?: number },
    private readonly log: Logger,
    /** Whether this process holds the alerts lease now. */
    private readonly held: () => boolean,
    private readonly counters: AlertSendCounters = {},
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.held()) {
          const due = await this.redis.zrangebyscore(this.keys.due, '-inf', this.now(), 'LIMIT', 0, 50);
          for (const m of due) {
            if (!this.running) break;
            await this.work(m).catch((err: unknown) => this.log.warn({ destination: m, err: (err as Error).message }, 'alerts: sending failed; trying again'));
          }
        }
      } catch (err) {
        if (this.running) this.log.warn({ err: (err as Error).message }, 'alerts: reading due destinations failed');
      }
      await this.pause(Math.min(200, this.cfg.tickMs));
    }
  }

  /** Sends the head of one destination's outbox (if its time and its rate allow). */
  private async work(member: string): Promise<void> {
    const [scope, name] = fromDestMember(member);
    const k = this.keys;
    const [head] = (await this.redis.xrange(k.outbox(scope, name), '-', '+', 'COUNT', 1)) as [string, string[]][];
    if (!head) {
      await this.redis.eval(IDLE, 2, k.outbox(scope, name), k.due, member);
      return;
    }
    const rateMs = this.cfg.rateWindowMs ?? 60_000;
    const at = this.now();
    const window = Math.floor(at / rateMs);
    const used = Number(await this.redis.get(k.rate(scope, name, window)) ?? 0);
    if (used >= this.cfg.destinationPerMinute) {
      await this.redis.zadd(k.due, (window + 1) * rateMs, member);
      return;
    }
    const [id, flat] = head;
    const f = pairs<string>(flat);
    const msg = JSON.parse(f.m!) as AlertMessage;
    const type = f.type as Destination['type'];
    const st = await this.redis.hgetall(k.attempts(scope, name));
    const attempt = (st.head === id ? Number(st.attempts ?? 0) : 0) + 1;
    await this.redis.multi().incr(k.rate(scope, name, window)).pexpire(k.rate(scope, name, window), rateMs * 2).exec();
    const res = await deliver({ type, url: f.url!, trusted: f.trusted === '1' }, msg, { timeoutMs: this.cfg.timeoutMs, allowPrivate: this.cfg.allowPrivate }, at);
    const tx = this.redis.multi();
    if (res.ok) {
      tx.xdel(k.outbox(scope, name), id).del(k.attempts(scope, name)).zadd(k.due, this.now(), member);
      this.counters.sent?.(type);
    } else {
      const wait = this.cfg.retrySchedule[attempt - 1];
      if (wait === undefined) {
        tx.xdel(k.outbox(scope, name), id).del(k.attempts(scope, name)).zadd(k.due, this.now(), member);
        this.log.warn({ scope: scope === '*' ? 'operator' : scope, destination: name, type, rule: msg.rule, state: msg.state, attempts: attempt, error: res.error },
          'alerts: an alert could not be sent and is dropped after its retries');
        this.counters.failed?.(type);
      } else {
        tx.hset(k.attempts(scope, name), { head: id, attempts: String(attempt), last_error: res.error }).zadd(k.due, this.now() + wait, member);
      }
    }
    await tx.exec();
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
