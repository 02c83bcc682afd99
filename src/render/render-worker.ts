// Piscina worker: renders a batch of jobs with this thread's own compiled-template cache, after telling the pool's
// watchdog when the task started.
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { CompiledCache } from './engine.js';
import { runRenderTask, type RenderResult, type RenderTask } from './task.js';
import { markStarted } from './watchdog.js';

const cache = new CompiledCache();
const starts = (workerData as { starts?: Float64Array } | undefined)?.starts;

export default function render(task: RenderTask): RenderResult[] {
  markStarted(starts, task.slot);
  return runRenderTask(task, cache, threadId);
}
