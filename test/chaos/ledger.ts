// The ledger: users, and a paced producer recording every 202 (and every other answer), each request carrying a unique marker.
import type { Cluster } from './cluster.js';
import type { Slot } from './sends.js';

export const USERS = 40;

export interface Item {
  id: string;
  marker: string;
  slots: Slot[];
}

export interface Request {
  body: Record<string, unknown>;
  marker: string;
  slots: Slot[];
  /** Sent as the Idempotency-Key header (also what a retry of an ambiguous request reuses). */
  key: string;
}

export class Ledger {
  /** Every 202: one entry per (request, id) answered. */
  readonly accepted: Item[] = [];
  /** Answered with a non-202 status and not retried: not accepted. */
  readonly rejected: { marker: string; status: number }[] = [];
  /** No answer (timeout, connection error) and not retried: maybe accepted, maybe not. */
  readonly ambiguous: { marker: string; error: string }[] = [];
  /** Requests sent again with the same Idempotency-Key after a 5xx, 409 or no answer. */
  retries = 0;
}

/** Creates the users: each has an email, a phone, an iOS and an Android device. */
export async function createUsers(c: Cluster): Promise<void> {
  await Promise.all(Array.from({ length: USERS }, async (_, u) => {
    const id = `u${u}`;
    const put = await c.api('PUT', `/v1/users/${id}`, { email: `${id}@example.com`, phone: `+1415555${String(u).padStart(4, '0')}` });
    if (put.status !== 200) throw new Error(`creating user ${id}: ${put.status} ${JSON.stringify(put.body)}`);
    for (const [platform, token] of [['ios', u.toString(16).padStart(4, '0').repeat(16)], ['android', `fcm-chaos-token-${String(u).padStart(20, '0')}`]]) {
      const dev = await c.api('POST', `/v1/users/${id}/devices`, { platform, token });
      if (dev.status !== 201) throw new Error(`adding ${platform} device to ${id}: ${dev.status} ${JSON.stringify(dev.body)}`);
    }
  }));
}

const CHANNEL_SETS: [string[], Slot[]][] = [
  [['push'], ['apns', 'fcm']],
  [['sms', 'email'], ['sms', 'email']],
  [['sms', 'email', 'push'], ['sms', 'email', 'apns', 'fcm']],
];

/** Notification number i of a scenario: a user, some channels, and content that carries the marker everywhere. */
export function request(tag: string, i: number, extra: Record<string, unknown> = {}): Request {
  const marker = `chaos-${tag}-${i}`;
  const [channels, slots] = CHANNEL_SETS[i % CHANNEL_SETS.length]!;
  return {
    marker, slots, key: `key-${marker}`,
    body: { user_id: `u${i % USERS}`, channels, content: { title: 'chaos', body: marker, subject: marker, text: 'x' }, ...extra },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Submits one request and records the outcome. With `retry` (the API honours Idempotency-Key) a 5xx, a 409 or no
 * answer is retried with the same key, as a client would; without it, the first answer is what the ledger records.
 */
export async function submit(c: Cluster, ledger: Ledger, r: Request, retry: boolean, deadline = Date.now() + 60_000): Promise<void> {
  for (;;) {
    let status = 0;
    let error = '';
    try {
      const res = await c.api('POST', '/v1/notifications', r.body, { 'idempotency-key': r.key });
      status = res.status;
      if (status === 202) {
        ledger.accepted.push({ id: res.body.id, marker: r.marker, slots: r.slots });
        return;
      }
      error = JSON.stringify(res.body);
    } catch (err) {
      error = (err as Error).message;
    }
    const retryable = status === 0 || status === 409 || status >= 500;
    if (retry && retryable && Date.now() < deadline) {
      ledger.retries++;
      await sleep(200);
      continue;
    }
    if (status === 0) ledger.ambiguous.push({ marker: r.marker, error });
    else ledger.rejected.push({ marker: r.marker, status });
    return;
  }
}

/** Submits `count` requests at `ratePerSec`, at most `concurrency` at once; resolves when all have an outcome. */
export async function produce(
  c: Cluster, ledger: Ledger, opts: { count: number; ratePerSec: number; make: (i: number) => Request; retry: boolean; concurrency?: number },
): Promise<void> {
  const start = Date.now();
  const limit = opts.concurrency ?? 32;
  const running = new Set<Promise<void>>();
  for (let i = 0; i < opts.count; i++) {
    const due = start + (i * 1000) / opts.ratePerSec;
    if (due > Date.now()) await sleep(due - Date.now());
    while (running.size >= limit) await Promise.race(running);
    const p = submit(c, ledger, opts.make(i), opts.retry).finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
}

/** Whether the API honours Idempotency-Key: the same request twice with one key gets the same id. */
export async function idempotencySupported(c: Cluster, ledger: Ledger): Promise<boolean> {
  const r = request('probe', 1);
  const before = ledger.accepted.length;
  await submit(c, ledger, r, false);
  await submit(c, ledger, r, false);
  const ids = new Set(ledger.accepted.slice(before).map((a) => a.id));
  return ledger.accepted.length - before === 2 && ids.size === 1;
}
