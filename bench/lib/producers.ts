// Load producers: closed-loop (as fast as the pipeline drains, with a bounded backlog) and open-loop (a fixed
// offered rate). Both call `send(first, n, bt)` to hand `n` items to the system under test.
import { preciseNow } from '../../src/fakes/latency.js';
import { sleep } from './proc.js';

/** Sends items [first, first + n) stamped with `bt`; resolves once the system has them. */
export type SendFn = (first: number, n: number, bt: string) => Promise<void>;

export const stamp = (): string => preciseNow().toFixed(2);

export interface Producer {
  /** Items handed over so far. */
  readonly sent: number;
  stop(): Promise<void>;
}

/**
 * Keeps at most `window` items between "sent" and "done" (done() is polled by the caller's counter), sending
 * `chunk` at a time with up to `parallel` sends in flight. Measures the pipeline's maximum with a bounded backlog.
 */
export function closedLoop(send: SendFn, done: () => number, o: { window: number; chunk: number; parallel?: number; start?: number; limit?: number }): Producer {
  let sent = 0;
  let stopped = false;
  const start = o.start ?? 0;
  const limit = o.limit ?? Infinity;
  const worker = async (): Promise<void> => {
    while (!stopped && sent < limit) {
      if (sent - done() >= o.window) {
        await sleep(2);
        continue;
      }
      const n = Math.min(o.chunk, limit - sent);
      const first = start + sent;
      sent += n;
      await send(first, n, stamp());
    }
  };
  const workers = Array.from({ length: o.parallel ?? 2 }, worker);
  const all = Promise.all(workers);
  return {
    get sent() { return sent; },
    async stop() {
      stopped = true;
      await all;
    },
  };
}

/**
 * Offers `rate` items per second: every `tickMs` it sends what is due (in chunks of at most `chunk`, each stamped
 * when sent). If the system falls behind, sends queue up in the producer, visible as `behind`.
 */
export function openLoop(send: SendFn, o: { rate: number; chunk?: number; tickMs?: number; start?: number }): Producer & { readonly behind: number } {
  const chunk = o.chunk ?? 200;
  const tickMs = o.tickMs ?? 5;
  const t0 = performance.now();
  let sent = 0;
  let inflight = 0;
  let stopped = false;
  const pending = new Set<Promise<void>>();
  const start = o.start ?? 0;
  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - t0) / 1000) * o.rate) - sent;
    // Never more than ~1 s of load in flight: a stuck system should not make the producer pile up without bound.
    for (let left = Math.min(due, Math.max(0, o.rate - inflight)); left > 0; left -= chunk) {
      const n = Math.min(chunk, left);
      const first = start + sent;
      sent += n;
      inflight += n;
      const p = send(first, n, stamp()).finally(() => {
        inflight -= n;
        pending.delete(p);
      });
      pending.add(p);
    }
  }, tickMs);
  return {
    get sent() { return sent; },
    get behind() { return Math.max(0, Math.floor(((performance.now() - t0) / 1000) * o.rate) - sent); },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}

/** Polls an async counter every `everyMs`, so hot loops can read the latest value synchronously. */
export function polled(read: () => Promise<number>, everyMs = 50): { value: () => number; stop: () => void; refresh: () => Promise<number> } {
  let v = 0;
  let busy = false;
  const refresh = async () => {
    v = await read();
    return v;
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    refresh().catch(() => undefined).finally(() => (busy = false));
  }, everyMs);
  return { value: () => v, stop: () => clearInterval(timer), refresh };
}
