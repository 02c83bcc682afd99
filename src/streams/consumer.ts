// Reads one stream as a member of a consumer group: bounded in-flight work, crash recovery by XAUTOCLAIM, and
// long-running entries kept fresh so nobody else claims them.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { ensureGroup } from './groups.js';
import { maxId, minId } from './ids.js';
import { runScript } from './scripts.js';
import { markArgs, type DeadMark } from '../domain/dead-mark.js';

export interface Entry {
  id: string;
  fields: Record<string, string>;
}

export interface ConsumerOptions {
  stream: string;
  group: string;
  consumer: string;
  /** Most entries per read. */
  count: number;
  blockMs: number;
  /** Reading pauses while this many entries are being worked on (back-pressure). */
  maxInflight: number;
  /** Entries pending longer than this on any consumer are taken over. Must exceed the slowest legitimate handling. */
  claimIdleMs: number;
  /** An entry claimed more often than this is poison: it is moved to `dead` instead of being handled again. */
  maxDeliveries: number;
  /** An entry in hand longer than this is stalled: its slot is freed and it is no longer refreshed, so it can be claimed (and counted). */
  maxHandleMs: number;
  /**
   * Dead-letter stream and the labels its entries get; `mark` says what a dead-lettered entry leaves on its
   * notification record (`key`), so that record reaches a terminal state in the same step.
   */
  /** `events`: the status event stream, where dead-lettering that settles a record appends its event. */
  dead: { stream: string; events: string; kind: 'intake' | 'delivery'; lane?: string; mark?: (e: Entry) => { key: string; mark: DeadMark } | undefined };
}

/** Receives entries; must call `consumer.release(id)` once each one is finished (acknowledged or abandoned). */
export type EntryHandler = (entries: Entry[], claimed: boolean) => void;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class StreamConsumer {
  private readonly inflight = new Map<string, number>();
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private claiming = false;
  /** Highest id read fresh ('>'): a fresh read at or below it means the group was recreated from the start. */
  private lastRead = '0-0';
  /** The stream's end when this consumer (re)created the group over existing entries: those may have been handled. */
  private replayUntil: string | undefined;

  constructor(
    private readonly cmd: Redis,
    private readonly blocking: Redis,
    private readonly opts: ConsumerOptions,
    private readonly handle: EntryHandler,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    this.replayUntil = await ensureGroup(this.cmd, this.opts.stream, this.opts.group);
    this.loopDone = this.loop();
    // Every quarter of the idle limit: our own entries are refreshed before they look idle (at most two ticks, half
    // the limit, plus event-loop lag), and others' idle entries are claimed.
    this.claimTimer = setInterval(() => void this.recover(), this.tick);
    this.claimTimer.unref();
  }

  /** Entries currently being worked on. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  release(id: string): void {
    if (!this.inflight.delete(id)) return;
    if (this.wake && this.opts.maxInflight - this.inflight.size >= this.minRead) this.wakeUp();
  }

  /** Reading waits until this many entries fit: one read per slot freed would cost a round trip per entry. */
  private get minRead(): number {
    return Math.max(1, Math.min(this.opts.count, this.opts.maxInflight) >> 3);
  }

  /** Stops reading; entries already handed out keep running (see `drained`). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.claimTimer);
    this.wakeUp();
    this.blocking.disconnect();
    await this.loopDone;
  }

  /** Resolves once no entry is in flight, or after `timeoutMs`; returns how many were still in flight. */
  async drained(timeoutMs: number): Promise<number> {
    const deadline = this.now() + timeoutMs;
    while (this.inflight.size > 0 && this.now() < deadline) await sleep(20);
    return this.inflight.size;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async loop(): Promise<void> {
    const { stream, group, consumer, count, blockMs } = this.opts;
    let backoff = 0;
    while (!this.stopping) {
      const room = this.opts.maxInflight - this.inflight.size;
      if (room < this.minRead) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        const reply = await this.blocking.call(
          'XREADGROUP', 'GROUP', group, consumer, 'COUNT', Math.min(count, room), 'BLOCK', blockMs, 'STREAMS', stream, '>',
        );
        backoff = 0;
        if (reply) this.dispatchRead(parseRead(reply));
      } catch (err) {
        if (this.stopping) break;
        const message = (err as Error).message;
        backoff = Math.min(5_000, Math.max(100, backoff * 2));
        if (message.includes('NOGROUP')) {
          this.log.warn({ stream, group }, 'consumer group missing: recreating it from the start of the stream');
          this.replayUntil = await ensureGroup(this.cmd, stream, group).catch(() => undefined);
        } else {
          this.log.warn({ stream, err: message, retryInMs: backoff }, 'stream read failed');
        }
        await sleep(backoff);
      }
    }
  }

  /**
   * Fresh reads. After a lost group is recreated from the start, entries handled before come again: those at or below
   * the last id read here (or the stream's end when this consumer recreated the group) go out as `claimed`, so the
   * handler checks what is recorded before acting again. In a healthy group a read starts above both: one compare.
   */
  private dispatchRead(entries: Entry[]): void {
    const first = entries[0];
    if (!first) return;
    const seen = this.replayUntil === undefined ? this.lastRead : maxId(this.lastRead, this.replayUntil);
    this.lastRead = maxId(this.lastRead, entries[entries.length - 1]!.id);
    if (minId(first.id, seen) !== first.id) {
      this.replayUntil = undefined;
      this.dispatch(entries, false);
      return;
    }
    const again = entries.filter((e) => minId(e.id, seen) === e.id);
    this.dispatch(again, true);
    this.dispatch(entries.slice(again.length), false);
  }

  private dispatch(entries: Entry[], claimed: boolean): void {
    const fresh = entries.filter((e) => !this.inflight.has(e.id));
    if (fresh.length === 0) return;
    const t = this.now();
    for (const e of fresh) this.inflight.set(e.id, t);
    try {
      this.handle(fresh, claimed);
    } catch (err) {
      // A handler that threw may never release what it was given: let go of it here, so nothing stays in hand for
      // ever. The entries stay pending and are claimed again (and set aside as poison if this keeps happening).
      this.log.error({ stream: this.opts.stream, err, count: fresh.length }, 'entry handler failed; its entries will be claimed again');
      for (const e of fresh) this.release(e.id);
    }
  }

  /** Takes over entries a dead or stalled consumer left pending, and refreshes our own long-running ones. */
  private async recover(): Promise<void> {
    if (this.claiming || this.stopping) return;
    this.claiming = true;
    try {
      await this.refreshOwn();
      await this.claimIdle();
    } catch (err) {
      this.log.warn({ stream: this.opts.stream, err: (err as Error).message }, 'pending-entry recovery failed');
    } finally {
      this.claiming = false;
    }
  }

  private get tick(): number {
    return Math.max(100, Math.floor(this.opts.claimIdleMs / 4));
  }

  private async refreshOwn(): Promise<void> {
    const { stream, group, consumer, maxHandleMs } = this.opts;
    const t = this.now();
    const old = t - this.tick;
    const stalledBefore = t - maxHandleMs;
    // A stuck handler cannot be cancelled, but its slot is given back: its entry is no longer kept from other consumers
    // (nor from this one), so it is claimed again, counted, and after maxDeliveries dead-lettered as poison.
    const stalled = [...this.inflight].filter(([, at]) => at < stalledBefore).map(([id]) => id);
    if (stalled.length > 0) this.log.warn({ stream, stalled: stalled.length }, 'entries in hand past the handling limit are let go: they can be claimed again');
    for (const id of stalled) this.release(id);
    const ids = [...this.inflight].filter(([, at]) => at < old && at >= stalledBefore).map(([id]) => id);
    // Only entries still pending on this consumer (refresh-own.lua): one another consumer claimed while this one stalled
    // is its own now. Taken-over ids leave the in-flight map, so they are not refreshed again; their outcome, when it
    // comes, is skipped by commit-sends (not the owner). Ids pending nowhere were acknowledged (their handler's release
    // is on its way): they just leave the map, nothing was lost.
    for (let i = 0; i < ids.length; i += 500) {
      const [taken, gone] = await runScript<[string[], string[]]>(this.cmd, 'refreshOwn', [stream], [group, consumer, ...ids.slice(i, i + 500)]);
      if (taken.length > 0) this.log.warn({ stream, lost: taken.length }, 'entries in hand were taken over by another consumer; not refreshing them');
      for (const id of [...taken, ...gone]) this.release(id);
    }
  }

  private async claimIdle(): Promise<void> {
    const { stream, group, consumer, claimIdleMs, count } = this.opts;
    let cursor = '0-0';
    do {
      const room = this.opts.maxInflight - this.inflight.size;
      if (room <= 0 || this.stopping) return;
      const reply = (await this.cmd.call(
        'XAUTOCLAIM', stream, group, consumer, claimIdleMs, cursor, 'COUNT', Math.min(count, room),
      )) as [string, RawEntry[], string[]?];
      cursor = reply[0];
      const deleted = reply[2] ?? [];
      if (deleted.length > 0) {
        // Deleted while pending (XDEL or a MAXLEN trim by hand; the trimmer never does it): there is nothing left to
        // process, so only the pending record is cleared. The entry was the only link to its notification record (records
        // do not keep their entry ids: that would cost a write per delivery), so the record cannot be marked: the ids are
        // logged for an operator.
        this.log.error({ stream, count: deleted.length, ids: deleted.slice(0, 100) }, 'pending entries were deleted before processing');
        await this.cmd.call('XACK', stream, group, ...deleted);
      }
      const entries = await this.setPoisonAside(parseEntries(reply[1]));
      if (entries.length > 0) {
        this.log.info({ stream, count: entries.length }, 'claimed entries left pending by another consumer');
        this.dispatch(entries, true);
      }
    } while (cursor !== '0-0');
  }

  /**
   * Moves an entry to the dead-letter stream (with why), acknowledges it and marks its record failed, in one step
   * (dead-letter.lua; nothing happens if another consumer owns the entry by now); then lets it go.
   */
  async deadLetter(e: Entry, reason: string, error: string, extra: readonly string[] = []): Promise<string | null> {
    const { stream, group, consumer, dead } = this.opts;
    try {
      const m = dead.mark?.(e);
      // `extra`: more field/value pairs for the dead letter (the intake's `owner`, see src/domain/dead-letter.ts).
      const fields = ['kind', dead.kind, ...(dead.lane ? ['lane', dead.lane] : []), 'reason', reason, 'error', error,
        'source_id', e.id, 'payload', JSON.stringify(e.fields), ...extra];
      return await runScript<string | null>(this.cmd, 'deadLetter', [stream, dead.stream, ...(m ? [m.key] : []), dead.events],
        [group, consumer, e.id, new Date(this.now()).toISOString(), ...markArgs(m?.mark), reason, error, ...fields]);
    } finally {
      this.release(e.id);
    }
  }

  /**
   * Claimed entries that have been delivered more than maxDeliveries times crashed or stalled their handlers again
   * and again: they go to the dead-letter stream (with the count) and are acknowledged, so the rest keeps flowing.
   */
  private async setPoisonAside(entries: Entry[]): Promise<Entry[]> {
    if (entries.length === 0) return entries;
    const { stream, group, maxDeliveries } = this.opts;
    const pipe = this.cmd.pipeline();
    for (const e of entries) pipe.xpending(stream, group, e.id, e.id, 1);
    const counts = ((await pipe.exec()) ?? []).map(([, r]) => Number((r as [string, string, number, number][])[0]?.[3] ?? 0));
    const keep: Entry[] = [];
    for (const [i, e] of entries.entries()) {
      const deliveries = counts[i]!;
      if (deliveries <= maxDeliveries || this.inflight.has(e.id)) {
        keep.push(e);
        continue;
      }
      this.log.error({ stream, entry: e.id, deliveries }, 'poison entry: handled and lost too often; moved to the dead-letter stream');
      await this.deadLetter(e, 'poison', `delivered ${deliveries} times without being acknowledged`);
    }
    return keep;
  }
}

type RawEntry = [string, string[] | null];


function parseRead(reply: unknown): Entry[] {
  const streams = reply as [string, RawEntry[]][];
  return streams.flatMap(([, entries]) => parseEntries(entries));
}

function parseEntries(raw: RawEntry[]): Entry[] {
  const out: Entry[] = [];
  for (const [id, kv] of raw) {
    if (!kv) continue;
    const fields: Record<string, string> = {};
    for (let i = 0; i < kv.length; i += 2) fields[kv[i]!] = kv[i + 1]!;
    out.push({ id, fields });
  }
  return out;
}
