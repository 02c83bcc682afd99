// Pure: coalescing windows — the state a window keeps in Redis, and what its owner sends when the window ends.
import { createHash } from 'node:crypto';
import type { DeliveryTask } from './task.js';
import type { Channel, RenderedContent } from './types.js';

/** One notification folded into a window, as a digest template sees it. */
export interface WindowItem {
  id: string;
  params?: Record<string, unknown>;
}

/**
 * A window as stored in its hash (see commit-plan.lua): owner, count, latest content per channel, and the deliveries
 * of every notification folded in (the latest per record field, i.e. per channel and device or address).
 */
export interface WindowState {
  owner: string;
  count: number;
  latest: Partial<Record<Channel, RenderedContent>>;
  /** Record field → the latest notification's task for it (its priority, data, category and trace). */
  tasks: [field: string, task: DeliveryTask][];
  /** Oldest first; at most the configured number are kept, `count` says how many there were. */
  items: WindowItem[];
  /** Digest template named by the latest notification that named one. */
  digest?: string;
}

/** Short, stable hash of a collapse key: key names stay bounded and unambiguous whatever the key holds. */
export const collapseHash = (collapseKey: string): string => createHash('sha256').update(collapseKey).digest('base64url').slice(0, 22);

/** Decodes HGETALL of a window hash; null when there is none. */
export function decodeWindow(hash: Record<string, string>): WindowState | null {
  const owner = hash.owner;
  if (owner === undefined) return null;
  const state: WindowState = { owner, count: Number(hash.n ?? 1), latest: {}, tasks: [], items: [] };
  const items: [number, WindowItem][] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith('c:')) state.latest[field.slice(2) as Channel] = JSON.parse(value) as RenderedContent;
    else if (field.startsWith('t:')) state.tasks.push([field.slice(2), JSON.parse(value) as DeliveryTask]);
    else if (field.startsWith('i:')) items.push([Number(field.slice(2)), JSON.parse(value) as WindowItem]);
  }
  state.items = items.sort(([a], [b]) => a - b).map(([, it]) => it);
  state.tasks.sort(([a], [b]) => a.localeCompare(b));
  if (hash.dt) state.digest = hash.dt;
  return state;
}

/** What a digest template is rendered with: `{{ count }} new messages`, `{% for n in notifications %}…`. */
export function digestParams(state: WindowState): Record<string, unknown> {
  return { count: state.count, notifications: state.items, latest: state.items.at(-1)?.params ?? {} };
}

/**
 * Pure: what the owner sends when the window ends — one delivery per record field any folded notification asked for,
 * recorded on the owner (the others say `coalesced` into it), with the content of the digest where it has that
 * channel, else the latest notification's for the channel, else the task's own.
 */
export function flushTasks(state: WindowState, digest: Partial<Record<Channel, RenderedContent>> = {}): [string, DeliveryTask][] {
  return state.tasks.map(([field, task]) => [field, {
    ...task, nid: state.owner, content: digest[task.channel] ?? state.latest[task.channel] ?? task.content,
  }]);
}
