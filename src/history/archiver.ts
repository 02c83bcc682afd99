// Reads the status event stream as the consumer group `archiver` and writes it to PostgreSQL in batches. An event is
// acknowledged only once its batch is committed, so a crash or a database outage loses nothing: the batch waits in
// Redis (pending on this consumer, or taken over by another archiver after the claim idle time) and is written again,
// which changes nothing that was written (archiveBatch is idempotent).
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Keys } from '../streams/keys.js';
import { ensureGroup } from '../streams/groups.js';
import { pairs } from '../streams/replies.js';
import { decodeEvent, type HistoryEvent } from './events.js';
import type { ArchiveResult, History } from './index.js';

export const ARCHIVE_GROUP = 'archiver';

export interface ArchiverOptions {
  consumer: string;
  /** Most events written per transaction. */
  batch: number;
  blockMs: number;
  /** Events pending this long on another (presumably dead) archiver are taken over. */
  claimIdleMs: number;
  /** A notification whose history says it is terminal keeps its Redis record this much longer (NOTIFY_HOT_RETENTION_MS). */
  hotRetentionMs: number;
}

export interface ArchiverCounters {
  archived(n: number): void;
  failed(): void;
}

type Entry = [id: string, fields: string[]];

/** Waits after a failed write: 0.5 s, doubling, at most 30 s. */
export const backoffMs = (failures: number): number => Math.min(30_000, 500 * 2 ** Math.max(0, failures - 1));

export class Archiver {
  private running = false;
  private loop: Promise<void> | undefined;
  private lastClaim = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly redis: Redis,
    /** A connection of its own: XREADGROUP BLOCK holds it. */
    private readonly blocking: Redis,
    private readonly keys: Keys,
    private readonly history: History,
    private readonly opts: ArchiverOptions,
    private readonly log: Logger,
    private readonly counters?: ArchiverCounters,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    if (this.blocking.status === 'wait') await this.blocking.connect();
    await ensureGroup(this.redis, this.keys.events, ARCHIVE_GROUP);
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the batch in hand (or gives up waiting on the database: its events stay pending), then stops. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.blocking.disconnect();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let entries: Entry[];
      try {
        entries = await this.next();
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err: (err as Error).message }, 'archiver: reading the event stream failed; trying again');
        await this.pause(1_000);
        continue;
      }
      if (entries.length > 0) await this.archive(entries);
    }
  }

  /** Events of dead archivers first (every half claim idle time), else new ones. */
  private async next(): Promise<Entry[]> {
    const { consumer, batch, blockMs, claimIdleMs } = this.opts;
    if (this.now() - this.lastClaim >= claimIdleMs / 2) {
      this.lastClaim = this.now();
      const [, claimed] = (await this.redis.call(
        'XAUTOCLAIM', this.keys.events, ARCHIVE_GROUP, consumer, claimIdleMs, '0-0', 'COUNT', batch,
      )) as [string, (Entry | null)[]];
      const live = claimed.filter((e): e is Entry => e !== null && e[1] !== null);
      if (live.length > 0) return live;
    }
    const reply = (await this.blocking.call(
      'XREADGROUP', 'GROUP', ARCHIVE_GROUP, consumer, 'COUNT', batch, 'BLOCK', blockMs, 'STREAMS', this.keys.events, '>',
    )) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Writes the batch, retrying with backoff while the database is unavailable, then acknowledges it. */
  private async archive(entries: Entry[]): Promise<void> {
    const events: HistoryEvent[] = [];
    for (const [id, flat] of entries) {
      const ev = decodeEvent(id, pairs<string>(flat));
      if ('error' in ev) this.log.warn({ event: id, error: ev.error }, 'archiver: a malformed event is acknowledged and not archived');
      else events.push(ev);
    }
    let result: ArchiveResult | undefined;
    for (let failures = 1; result === undefined; failures++) {
      try {
        result = await this.history.archiveBatch(events, this.now());
      } catch (err) {
        this.counters?.failed();
        const waitMs = backoffMs(failures);
        this.log.warn({ err: (err as Error).message, events: events.length, retryInMs: waitMs }, 'archiver: writing to the history database failed; the events wait in Redis');
        if (!this.running) return; // left pending: written by the next archiver to claim them
        await this.pause(waitMs);
        if (!this.running) return;
      }
    }
    for (const s of result.skipped) this.log.warn({ event: s.id, error: s.error }, 'archiver: an event was not archived');
    await this.redis.xack(this.keys.events, ARCHIVE_GROUP, ...entries.map(([id]) => id));
    this.counters?.archived(entries.length);
    await this.shortenHot(result.terminal);
  }

  /**
   * PostgreSQL has the whole of a terminal notification now: its Redis record need only live `hotRetentionMs` more
   * (never longer than it would have: PEXPIRE … LT). A later change (feedback, say) still finds it meanwhile.
   */
  private async shortenHot(terminal: ArchiveResult['terminal']): Promise<void> {
    if (terminal.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const n of terminal) pipe.call('PEXPIRE', this.keys.notification(n.tenant, n.id), this.opts.hotRetentionMs, 'LT');
    await pipe.exec();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
