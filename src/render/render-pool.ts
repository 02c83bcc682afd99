// Renders templates in a Piscina worker pool, many jobs per task, so rendering never blocks the event loop.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Batcher } from '../actors/batcher.js';
import type { Channel } from '../domain/types.js';
import type { RenderJob, RenderResult, RenderTask, TemplateSource } from './task.js';

interface Item {
  templateKey: string;
  source: TemplateSource;
  channel: Channel;
  params: Record<string, unknown>;
}

/** Same extension as this module: .ts when run through tsx, .js when compiled. */
const workerFile = new URL(`./render-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

export class RenderPool {
  private readonly pool: Piscina<RenderTask, RenderResult[]>;
  private readonly batcher: Batcher<Item, RenderResult>;

  /** `timed`: results say when each render ran, so it can be traced. */
  constructor(private readonly opts: { threads: number; batch: number; timed?: boolean }) {
    this.pool = new Piscina({ filename: workerFile, minThreads: opts.threads, maxThreads: opts.threads, idleTimeout: 60_000 });
    this.batcher = new Batcher((items) => this.runChunks(items, opts.batch), opts.batch * 8);
  }

  /** Renders one channel of a template; resolved with the others queued in the same turn. */
  render(templateKey: string, source: TemplateSource, channel: Channel, params: Record<string, unknown>): Promise<RenderResult> {
    return this.batcher.add({ templateKey, source, channel, params });
  }

  get threads(): number {
    return this.pool.threads.length;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  private async runChunks(items: Item[], size: number): Promise<RenderResult[]> {
    const chunks: Promise<RenderResult[]>[] = [];
    for (let i = 0; i < items.length; i += size) chunks.push(this.pool.run(toTask(items.slice(i, i + size), this.opts.timed === true)));
    return (await Promise.all(chunks)).flat();
  }
}

function toTask(items: Item[], timed: boolean): RenderTask {
  const templates: Record<string, TemplateSource> = {};
  const jobs: RenderJob[] = [];
  for (const it of items) {
    const key = `${it.templateKey}@${it.source.version}`;
    templates[key] ??= it.source;
    jobs.push({ template: key, channel: it.channel, params: it.params });
  }
  return { templates, jobs, timed };
}
