// Piscina worker: renders a batch of jobs with this thread's own compiled-template cache.
import { threadId } from 'node:worker_threads';
import { CompiledCache } from './engine.js';
import { runRenderTask, type RenderResult, type RenderTask } from './task.js';

const cache = new CompiledCache();

export default function render(task: RenderTask): RenderResult[] {
  return runRenderTask(task, cache, threadId);
}
