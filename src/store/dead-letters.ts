// The dead-letter stream: listing per tenant with filters, redriving entries onto their streams, deleting them.
import type { Redis } from 'ioredis';
import { pairs } from '../streams/replies.js';
import { decodeDeadLetter, matches, redrivenTask, type DeadLetter, type DeadLetterFilter } from '../domain/dead-letter.js';
import { deliveryRecord } from '../domain/outcome.js';
import { DELIVERY_FIELD_PREFIX, NOT_PLANNED_FIELD } from '../domain/record.js';
import { KeyList, LANE_PROVIDERS, runScript, type Keys } from '../streams/index.js';

export interface Selector extends DeadLetterFilter {
  ids?: string[];
}

/** Entries looked at per request at most: filtering is per tenant, in the app. */
const SCAN_LIMIT = 20_000;
const PAGE = 500;

export class DeadLetterStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Newest first. `cursor` is the last id of the previous page. */
  async list(tenant: string, filter: DeadLetterFilter, limit: number, cursor?: string): Promise<{ items: DeadLetter[]; next_cursor: string | null }> {
    const items: DeadLetter[] = [];
    let end = cursor ? `(${cursor}` : '+';
    for (let scanned = 0; items.length < limit && scanned < SCAN_LIMIT; scanned += PAGE) {
      const page = await this.redis.xrevrange(this.keys.dead, end, '-', 'COUNT', PAGE);
      for (const [id, kv] of page) {
        const d = decodeDeadLetter(id, pairs<string>(kv));
        if (matches(d, tenant, filter)) items.push(d);
        if (items.length === limit) return { items, next_cursor: id };
      }
      if (page.length < PAGE) return { items, next_cursor: null };
      end = `(${page[page.length - 1]![0]}`;
    }
    return { items, next_cursor: items.at(-1)?.id ?? null };
  }

  async get(tenant: string, id: string): Promise<DeadLetter | null> {
    const [entry] = await this.redis.xrange(this.keys.dead, id, id);
    if (!entry) return null;
    const d = decodeDeadLetter(entry[0], pairs<string>(entry[1]));
    return d.tenant === tenant ? d : null;
  }

  /** Puts the selected entries back: deliveries onto their lane (first attempt again), intake entries onto the ingest stream. */
  async redrive(tenant: string, sel: Selector, max: number, now = Date.now()): Promise<{ redriven: DeadLetter[] }> {
    const chosen = (await this.select(tenant, sel, max)).filter((d) => d.task || d.fields);
    if (chosen.length === 0) return { redriven: [] };
    const keys = new KeyList([this.keys.dead]);
    const args: (string | number)[] = [chosen.length];
    for (const d of chosen) {
      if (d.task) {
        const task = redrivenTask(d.task, now);
        const record = deliveryRecord(task, 'queued', LANE_PROVIDERS[task.lane][0]!, now);
        record.attempts = 0;
        args.push(d.id, keys.index(this.keys.lane(task.lane)), 1, 'd', JSON.stringify(task),
          keys.index(this.keys.notification(tenant, task.nid)), DELIVERY_FIELD_PREFIX + task.dk, JSON.stringify(record));
      } else {
        // Planned again from the start: the notification is no longer marked as not planned.
        const fields = Object.entries(d.fields!);
        // An orphan's id is another (unknown) tenant's: it names no record of the caller's.
        const record = d.notification_id !== undefined && !d.orphan ? keys.index(this.keys.notification(tenant, d.notification_id)) : '';
        args.push(d.id, keys.index(this.keys.ingest), fields.length, ...fields.flat(), record, NOT_PLANNED_FIELD, '');
      }
    }
    const done = await runScript<number[]>(this.redis, 'redrive', [...keys.keys, this.keys.events], [...args, new Date(now).toISOString()]);
    return { redriven: chosen.filter((_, i) => done[i] === 1) };
  }

  async remove(tenant: string, sel: Selector, max: number): Promise<number> {
    const chosen = await this.select(tenant, sel, max);
    return chosen.length ? this.redis.xdel(this.keys.dead, ...chosen.map((d) => d.id)) : 0;
  }

  private async select(tenant: string, sel: Selector, max: number): Promise<DeadLetter[]> {
    if (sel.ids) {
      const found = await Promise.all(sel.ids.slice(0, max).map((id) => this.get(tenant, id)));
      return found.filter((d): d is DeadLetter => d !== null && matches(d, tenant, sel));
    }
    return (await this.list(tenant, sel, max)).items;
  }
}

