// Keeps streams bounded: trims each stream below the oldest entry any group still needs, never a pending one,
// trims dead letters by age, and forgets consumers that are long gone and hold nothing.
import type { Redis } from 'ioredis';
import { pairs } from './replies.js';
import { minId } from './ids.js';
import { runScript } from './scripts.js';
import type { Logger } from '../log.js';

export interface TrimTarget {
  stream: string;
  group: string;
  /** With no such group on the stream, nobody will read it: trim it empty (the status event stream with no archiver). */
  emptyWithoutGroup?: boolean;
  /**
   * Trim only below what every group on the stream has handled, not just `group` (the status event stream, read by the
   * archiver and the webhooks dispatcher, each possibly without the other).
   */
  allGroups?: boolean;
}

export interface TrimmerOptions {
  everyMs: number;
  /** Dead letters older than this are dropped. */
  deadRetentionMs: number;
  /** Consumers idle this long with nothing pending are removed from their group. */
  consumerIdleMs: number;
  /** Trim exactly instead of by whole nodes (`~`), which is cheaper and what production uses. */
  exact?: boolean;
}

export class Trimmer {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly targets: readonly TrimTarget[],
    private readonly dead: string,
    private readonly opts: TrimmerOptions,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.run().catch((err) => this.log.warn({ err: (err as Error).message }, 'trimming failed')), this.opts.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass; returns entries removed per stream. One stream's failure is logged and skips only that stream. */
  async run(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    const attempt = async (stream: string, trim: () => Promise<number>) => {
      try {
        removed[stream] = await trim();
      } catch (err) {
        removed[stream] = 0;
        this.log.warn({ stream, err: (err as Error).message }, 'trimming a stream failed; the next pass tries again');
      }
    };
    for (const t of this.targets) await attempt(t.stream, () => this.trimStream(t));
    await attempt(this.dead, async () => Number(await this.redis.call('XTRIM', this.dead, 'MINID', '~', this.now() - this.opts.deadRetentionMs)));
    return removed;
  }

  /**
   * Entries below the group's oldest pending entry (or, with none pending, below its last-delivered id) have been
   * acknowledged: XTRIM MINID removes exactly those. Approximate trimming (~) only ever removes less.
   */
  private async trimStream({ stream, group, emptyWithoutGroup, allGroups }: TrimTarget): Promise<number> {
    let groups: unknown[][];
    try {
      groups = (await this.redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
    } catch {
      return 0; // no stream yet
    }
    const infos = groups.map(pairs);
    const info = infos.find((g) => g.name === group);
    if (!info && emptyWithoutGroup && groups.length === 0) return Number(await this.redis.call('XTRIM', stream, 'MAXLEN', 0));
    const counted = allGroups ? infos : info ? [info] : [];
    if (counted.length === 0) return 0;
    let floor = await this.groupFloor(stream, counted[0]!);
    for (const g of counted.slice(1)) floor = minId(floor, await this.groupFloor(stream, g));
    if (info) await this.forgetIdleConsumers(stream, group);
    if (floor === '0-0') return 0;
    // LIMIT 0: approximate trimming otherwise stops after 100 nodes (~10 000 entries) a call, which falls behind a backlog.
    return Number(await this.redis.call('XTRIM', stream, 'MINID', ...(this.opts.exact ? ['=', floor] : ['~', floor, 'LIMIT', 0])));
  }

  /** Below this id the group has acknowledged everything: its oldest pending entry, or with none its last-delivered id. */
  private async groupFloor(stream: string, info: Record<string, unknown>): Promise<string> {
    let floor = String(info['last-delivered-id']);
    if (Number(info.pending) > 0) {
      const [, oldest] = (await this.redis.xpending(stream, String(info.name))) as [number, string | null, string | null, unknown];
      // null: what was pending at XINFO has been acknowledged since; the last-delivered id is then the floor.
      if (oldest) floor = minId(floor, oldest);
    }
    return floor;
  }

  private async forgetIdleConsumers(stream: string, group: string): Promise<void> {
    const consumers = ((await this.redis.call('XINFO', 'CONSUMERS', stream, group)) as unknown[][]).map(pairs);
    for (const c of consumers) {
      if (Number(c.pending) === 0 && Number(c.idle) > this.opts.consumerIdleMs) {
        // Only with nothing pending, checked again in the same step as the delete (forget-consumer.lua): deleting a
        // consumer drops its pending entries from the group, and it may have read some since XINFO answered.
        await runScript(this.redis, 'forgetConsumer', [stream], [group, String(c.name)]);
      }
    }
  }
}
