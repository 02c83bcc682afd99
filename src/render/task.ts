// The shape of a render task sent to the worker pool and the pure function that runs it.
import type { Channel, RenderedContent } from '../domain/types.js';
import type { TemplateInput } from '../domain/schemas.js';
import type { CompiledCache } from './engine.js';
import { MAX_TEXT } from './sandbox.js';

export interface TemplateSource {
  version: string;
  parts: TemplateInput;
}
export interface RenderJob {
  /** Key into RenderTask.templates: "<tenant>/<name>@<version>". */
  template: string;
  channel: Channel;
  params: Record<string, unknown>;
}
/** Many jobs per task: a task costs ~56 µs of pool overhead, a cached render ~12 µs. */
export interface RenderTask {
  templates: Record<string, TemplateSource>;
  jobs: RenderJob[];
  /** Report when each job ran (for tracing); off, results carry only the content. */
  timed?: boolean;
  /** The task's slot in the pool's watchdog (render-worker.ts marks when it starts). */
  slot?: number;
}
/** `span`: when the render ran and on which thread, so the caller can trace it (epoch ms, worker thread id). */
export interface RenderTiming {
  start: number;
  end: number;
  thread: number;
}
export type RenderResult = ({ ok: true; content: RenderedContent } | { ok: false; error: string }) & { timing?: RenderTiming };

/** Renders every job of a task with compiled templates from `cache`; one failing job does not fail the rest. */
export function runRenderTask(task: RenderTask, cache: CompiledCache, thread = 0): RenderResult[] {
  if (!task.timed) return task.jobs.map((job) => renderJob(task, job, cache));
  return task.jobs.map((job) => {
    const start = performance.timeOrigin + performance.now();
    const result = renderJob(task, job, cache);
    result.timing = { start, end: performance.timeOrigin + performance.now(), thread };
    return result;
  });
}

function renderJob(task: RenderTask, job: RenderJob, cache: CompiledCache): RenderResult {
  const src = task.templates[job.template];
  const part = src?.parts[job.channel] as Record<string, string | undefined> | undefined;
  if (!src || !part) return { ok: false, error: `template has no ${job.channel} part` };
  try {
    const content: Record<string, string> = {};
    for (const [field, source] of Object.entries(part)) {
      if (source === undefined) continue;
      const key = `${job.template}/${job.channel}.${field}`;
      // The key names the version, and the version covers `strict`.
      const text = cache.get(key, source, field, src.parts.strict === true).render(job.params);
      if (text.length > MAX_TEXT) return { ok: false, error: `render failed: ${job.channel}.${field} is ${text.length} characters, over the render limit of ${MAX_TEXT}` };
      content[field] = text;
    }
    return { ok: true, content: content as unknown as RenderedContent };
  } catch (err) {
    return { ok: false, error: `render failed: ${renderError(err)}` };
  }
}

/**
 * nunjucks' message on one line, as our others read: without its "(unknown path)" (templates have no path), where it
 * happened at the end, and the strict mode's refusal of an undefined variable said plainly.
 */
export function renderError(err: unknown): string {
  let msg = String(err instanceof Error ? err.message : err).replace(/^\(unknown path\)\s*/, '').replace(/\s+/g, ' ').trim();
  const at = /^\[Line (\d+)(?:, Column (\d+))?\]\s*(.*)$/.exec(msg);
  if (at) msg = `${at[3]} (line ${at[1]}${at[2] ? `, column ${at[2]}` : ''})`;
  return msg.replace(/^(?:Error: )?attempted to output null or undefined value/, 'strict template: a value output here is undefined or null');
}
