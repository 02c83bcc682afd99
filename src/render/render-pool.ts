// Renders templates in a Piscina worker pool, many jobs per task, so rendering never blocks the event loop. Tasks
// hold one tenant's renders and are served tenant by tenant (round robin); each has a time budget, past which its
// thread is terminated and replaced. The threads get an empty environment and a heap limit.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Channel } from '../domain/types.js';
import { FairQueue } from '../actors/fair-queue.js';
import type { RenderJob, RenderResult, RenderTask, TemplateSource } from './task.js';
import { RenderTimeout, RenderWatchdog } from './watchdog.js';

interface Item {
  templateKey: string;
  source: TemplateSource;
  channel: Channel;
  params: Record<string, unknown>;
  resolve(result: RenderResult): void;
  reject(err: unknown): void;
}

interface Chunk {
  tenant: string;
  items: Item[];
}

export interface RenderPoolOptions {
  threads: number;
  batch: number;
  /** Results say when each render ran, so it can be traced. */
  timed?: boolean;
  /** Longest a task may run on its thread (default 1000 ms). */
  timeoutMs?: number;
  /** Heap limit of each render thread (default 256 MiB). */
  heapMb?: number;
}

/** What every render thread runs with: no environment variables (no secrets to read) and a heap limit. */
export const renderThreadOptions = (heapMb: number) => ({ env: {}, resourceLimits: { maxOldGenerationSizeMb: heapMb } });

/** Same extension as this module: .ts when run through tsx, .js when compiled. */
const workerFile = new URL(`./render-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
/** How long a template version that ran out of budget or memory has its renders run one per task. */
const ISOLATE_MS = 60_000;

export class RenderPool {
  private readonly pool: Piscina<RenderTask, RenderResult[]>;
  /** The renders asked for in this turn of the event loop, sent out together on the next. */
  private pending: Item[] = [];
  /** Tasks waiting for a slot, one queue per tenant, served in turn. */
  private readonly queue: FairQueue<Chunk>;
  private readonly watchdog: RenderWatchdog;
  /** "<template key>@<version>" → until when its renders run alone (one slow render cannot take others down). */
  private readonly isolated = new Map<string, number>();

  constructor(private readonly opts: RenderPoolOptions) {
    // Two tasks per thread: one running, one waiting in Piscina, so a thread never idles for the event loop.
    this.watchdog = new RenderWatchdog(opts.threads * 2, opts.timeoutMs ?? 1000);
    this.queue = new FairQueue(this.watchdog.slots, (chunk) => this.run(chunk));
    this.pool = new Piscina({
      filename: workerFile, minThreads: opts.threads, maxThreads: opts.threads, idleTimeout: 60_000,
      ...renderThreadOptions(opts.heapMb ?? 256), workerData: { starts: this.watchdog.starts },
    });
  }

  /** Renders one channel of a template, in a task with others of its tenant asked for in the same turn. */
  render(templateKey: string, source: TemplateSource, channel: Channel, params: Record<string, unknown>): Promise<RenderResult> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ templateKey, source, channel, params, resolve, reject }) === 1) setImmediate(this.flush);
    });
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  close(): Promise<void> {
    this.watchdog.close();
    return this.pool.destroy();
  }

  /** One tenant's items per chunk, at most `batch` each (one each for an isolated template version). */
  private readonly flush = (): void => {
    const items = this.pending;
    this.pending = [];
    const byTenant = new Map<string, Item[]>();
    for (const it of items) {
      const tenant = tenantOf(it.templateKey);
      const list = byTenant.get(tenant);
      if (list) list.push(it);
      else byTenant.set(tenant, [it]);
    }
    const now = Date.now();
    for (const [tenant, list] of byTenant) {
      const together: Item[] = [];
      for (const it of list) {
        if ((this.isolated.get(versionKey(it)) ?? 0) > now) this.queue.push(tenant, { tenant, items: [it] });
        else together.push(it);
      }
      for (let i = 0; i < together.length; i += this.opts.batch) this.queue.push(tenant, { tenant, items: together.slice(i, i + this.opts.batch) });
    }
  };

  /** Runs a chunk in a free slot (the queue starts no more chunks than there are slots). */
  private run(chunk: Chunk): void {
    const { slot, signal } = this.watchdog.acquire()!;
    const settle = (then: () => void) => {
      this.watchdog.release(slot);
      this.queue.done();
      then();
    };
    this.pool.run(toTask(chunk.items, this.opts.timed === true, slot), { signal }).then(
      (results) => settle(() => chunk.items.forEach((it, i) => it.resolve(results[i]!))),
      (err) => settle(() => this.failed(chunk, budgetError(err, signal))),
    );
  }

  /** A task that ran out of time or memory: with several items, each is tried alone; alone, it fails with why. */
  private failed(chunk: Chunk, err: { budget?: string; cause: unknown }): void {
    if (err.budget === undefined) return chunk.items.forEach((it) => it.reject(err.cause));
    const now = Date.now();
    if (chunk.items.length === 1) {
      this.isolated.set(versionKey(chunk.items[0]!), now + ISOLATE_MS);
      return chunk.items[0]!.resolve({ ok: false, error: err.budget });
    }
    for (const [k, until] of this.isolated) if (until <= now) this.isolated.delete(k);
    for (const it of chunk.items) this.queue.push(chunk.tenant, { tenant: chunk.tenant, items: [it] });
  }
}

/** Why a task failed, when it is the render's own doing (its time or memory budget); other failures are passed on. */
function budgetError(err: unknown, signal: AbortSignal): { budget?: string; cause: unknown } {
  if (signal.aborted && signal.reason instanceof RenderTimeout) return { budget: signal.reason.message, cause: err };
  if ((err as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') return { budget: 'render failed: it ran out of the render thread\'s memory', cause: err };
  return { cause: err };
}

/** Template keys are "<tenant>/<name>". */
const tenantOf = (templateKey: string): string => templateKey.slice(0, Math.max(0, templateKey.indexOf('/')));
const versionKey = (it: Item): string => `${it.templateKey}@${it.source.version}`;

function toTask(items: Item[], timed: boolean, slot: number): RenderTask {
  const templates: Record<string, TemplateSource> = {};
  const jobs: RenderJob[] = [];
  for (const it of items) {
    const key = versionKey(it);
    templates[key] ??= it.source;
    jobs.push({ template: key, channel: it.channel, params: it.params });
  }
  return { templates, jobs, timed, slot };
}
