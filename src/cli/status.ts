// notify status <id>: GET /v1/notifications/{id}, with --wait polling until the notification has finished.
import { seg } from './client.js';
import type { Ctx } from './context.js';
import { Failed } from './errors.js';
import { notificationText, type Notification } from './views.js';

/** The notification statuses that still change by themselves. */
const UNFINISHED = new Set(['accepted', 'processing']);

export async function status(ctx: Ctx, id: string, o: { wait?: boolean; waitMs: number }): Promise<void> {
  const deadline = Date.now() + o.waitMs;
  let n = (await ctx.api.call<Notification>('GET', `/v1/notifications/${seg(id)}`)).body;
  while (o.wait && unfinished(n) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    n = (await ctx.api.call<Notification>('GET', `/v1/notifications/${seg(id)}`)).body;
  }
  ctx.out.result(n, () => notificationText(n));
  if (o.wait && unfinished(n)) throw new Failed(`${id} is still ${n.status} after ${o.waitMs} ms`);
}

/** Not finished: the notification itself, or a delivery still queued or being retried. */
const unfinished = (n: Notification) => UNFINISHED.has(n.status) || n.deliveries.some((d) => d.status === 'queued' || d.status === 'retrying');
