// Reads the status event stream as the consumer group `webhooks` and fans each event out to its tenant's matching,
// enabled endpoints: one entry on each endpoint's queue, written in the same MULTI as the acknowledgement, so an
// event is queued once per endpoint or (after a crash before the MULTI) read again. One process dispatches at a time
// (a lease), always as the consumer `dispatcher`: events reach the queues in stream order, and whoever holds the
// lease next first re-reads what the previous holder left pending.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { decodeEvent, type HistoryEvent } from '../history/events.js';
import { ensureGroup } from '../streams/groups.js';
import type { Keys } from '../streams/keys.js';
import { LeasedGroupReader, recordsOf, type Entry } from '../streams/leased-reader.js';
import { pairs } from '../streams/replies.js';
import { needsRecord, webhookEvent } from './events.js';
import { member, type WebhookKeys } from './keys.js';

export const WEBHOOK_GROUP = 'webhooks';
const CONSUMER = 'dispatcher';

export interface DispatcherOptions {
  /** This process, as the lease's value. */
  owner: string;
  batch: number;
  blockMs: number;
  leaseMs: number;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Takes or keeps a lease; true while `owner` holds it. */
export async function holdLease(redis: Redis, key: string, owner: string, ms: number): Promise<boolean> {
  if ((await redis.set(key, owner, 'PX', ms, 'NX')) === 'OK') return true;
  return Number(await redis.eval(RENEW, 1, key, owner, ms)) === 1;
}
export const releaseLease = async (redis: Redis, key: string, owner: string): Promise<void> => {
  await redis.eval(RELEASE, 1, key, owner);
};

export class Dispatcher {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly reader: LeasedGroupReader;

  constructor(
    private readonly redis: Redis,
    /** A connection of its own: XREADGROUP BLOCK holds it. */
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly wk: WebhookKeys,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
    /** Called after events were queued (the sender in this process looks at once). */
    private readonly queued: () => void = () => {},
  ) {
    this.reader = new LeasedGroupReader(redis, blocking, keys.events, WEBHOOK_GROUP, CONSUMER);
  }

  async start(): Promise<void> {
    if (this.blocking.status === 'wait') await this.blocking.connect();
    await ensureGroup(this.redis, this.keys.events, WEBHOOK_GROUP);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await releaseLease(this.redis, this.wk.dispatchLease, this.opts.owner).catch(() => {});
    this.blocking.disconnect();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!(await holdLease(this.redis, this.wk.dispatchLease, this.opts.owner, this.opts.leaseMs))) {
          this.reader.reset();
          await sleep(Math.min(this.opts.blockMs, this.opts.leaseMs / 3));
          continue;
        }
        const entries = await this.reader.next(this.opts.batch, Math.min(this.opts.blockMs, this.opts.leaseMs / 3));
        if (entries.length > 0 && this.running) await this.dispatch(entries);
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err: (err as Error).message }, 'webhooks: dispatching failed; trying again');
        this.reader.reset();
        await sleep(1_000);
      }
    }
  }

  private async dispatch(entries: Entry[]): Promise<void> {
    const events: HistoryEvent[] = [];
    for (const [id, flat] of entries) {
      const ev = decodeEvent(id, pairs<string>(flat));
      if ('error' in ev) this.log.warn({ event: id, error: ev.error }, 'webhooks: a malformed event is skipped');
      else events.push(ev);
    }
    const tenants = [...new Set(events.map((e) => e.tenant))];
    const endpoints = await this.endpointsOf(tenants);
    const records = await recordsOf(this.redis, this.keys, events.filter((e) => endpoints.get(e.tenant)?.length), needsRecord);
    const m = this.redis.multi();
    let queued = 0;
    for (const ev of events) {
      const targets = endpoints.get(ev.tenant);
      if (!targets?.length) continue;
      const payload = webhookEvent(ev, records.get(ev.id));
      if (!payload) continue;
      const body = JSON.stringify(payload);
      for (const t of targets) {
        if (!t.events.has(payload.type)) continue;
        m.xadd(this.wk.queue(ev.tenant, t.name), '*', 'id', ev.id, 'p', body);
        m.zadd(this.wk.due, 'LT', Date.now(), member(ev.tenant, t.name));
        queued++;
      }
    }
    m.xack(this.keys.events, WEBHOOK_GROUP, ...entries.map(([id]) => id));
    const res = await m.exec();
    const failed = res?.find(([err]) => err);
    if (!res || failed) throw new Error(`queueing webhook events failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
    if (queued > 0) this.queued();
  }

  /** Each tenant's enabled endpoints and the types they take. */
  private async endpointsOf(tenants: string[]): Promise<Map<string, { name: string; events: Set<string> }[]>> {
    const out = new Map<string, { name: string; events: Set<string> }[]>();
    if (tenants.length === 0) return out;
    const names = await Promise.all(tenants.map((t) => this.redis.smembers(this.wk.index(t))));
    const pipe = this.redis.pipeline();
    tenants.forEach((t, i) => { for (const n of names[i]!) pipe.hmget(this.wk.endpoint(t, n), 'enabled', 'events'); });
    const rows = (await pipe.exec()) ?? [];
    let r = 0;
    tenants.forEach((t, i) => {
      const list: { name: string; events: Set<string> }[] = [];
      for (const n of names[i]!) {
        const [enabled, events] = (rows[r++]?.[1] ?? []) as (string | null)[];
        if (enabled === '1' && events) list.push({ name: n, events: new Set(JSON.parse(events) as string[]) });
      }
      out.set(t, list);
    });
    return out;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
