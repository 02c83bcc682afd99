// notify tail: follows the status event stream (`<prefix>:events`, README "The status event stream") with XREAD
// BLOCK, as the service has no HTTP way to follow; shows the API key's tenant's events (see tenant.ts). Stops after
// --count events or --timeout-ms, else on Ctrl-C. --json prints one document {events} when it stops; --jsonl one
// event per line as they come.
import { decodeEvent, type HistoryEvent } from '../history/events.js';
import { makeKeys } from '../streams/keys.js';
import type { Ctx } from './context.js';
import { causeOf, safeUrl, Unreachable } from './errors.js';
import { wholeNumber } from './input.js';
import { TenantFilter } from './tenant.js';

export interface TailOptions {
  redisUrl: string;
  prefix: string;
  tenant?: string;
  notification?: string;
  count?: string;
  timeoutMs?: string;
  from?: string;
  jsonl?: boolean;
}

export interface EventView {
  id: string;
  at: string;
  tenant: string;
  kind: string;
  notification_id: string;
  created_at: string;
  key?: string;
  data: unknown;
}

export const eventView = (ev: HistoryEvent): EventView => ({
  id: ev.id, at: new Date(Number(ev.id.split('-')[0])).toISOString(), tenant: ev.tenant, kind: ev.kind,
  notification_id: ev.notificationId, created_at: new Date(ev.createdAt).toISOString(),
  ...('key' in ev && ev.key !== undefined && { key: ev.key }), data: ev.data,
});

/** What an event says, in a few words. */
export function summary(ev: HistoryEvent): string {
  const d = ev.data as Record<string, unknown>;
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  switch (ev.kind) {
    case 'accepted': return `recipients ${s(d.recipients)}${d.template ? ` template ${s(d.template)}` : ''}`;
    case 'delivery': return [d.channel, d.provider, d.status, d.last_error].map(s).filter(Boolean).join(' ');
    case 'feedback': return d.status !== undefined && d.status !== d.event ? `${s(d.event)} → ${s(d.status)}` : s(d.event);
    case 'not_planned': return d.cleared ? 'cleared' : `${s(d.reason)}: ${s(d.message)}`;
    case 'engagement': return [d.type, d.channel].map(s).filter(Boolean).join(' ');
    case 'user_erased': return `user ${s(d.user_id)}`;
    default: return '';
  }
}

export function eventLine(ev: HistoryEvent, withTenant: boolean): string {
  const v = eventView(ev);
  return [v.at, ...(withTenant ? [v.tenant] : []), v.kind.padEnd(11), v.notification_id || '-', v.key ?? '-', summary(ev)].join('  ');
}

export async function tail(ctx: Ctx, o: TailOptions): Promise<void> {
  const count = o.count !== undefined ? wholeNumber(o.count, '--count', 1) : Infinity;
  const timeoutMs = o.timeoutMs !== undefined ? wholeNumber(o.timeoutMs, '--timeout-ms', 1) : Infinity;
  const deadline = Date.now() + timeoutMs;
  const filter = new TenantFilter(ctx.hasKey ? ctx.api : undefined, o.tenant);
  const key = makeKeys(o.prefix).events;
  const { Redis } = await import('ioredis');
  const redis = new Redis(o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5_000 });
  redis.on('error', () => {}); // reported by the command that fails
  const events: HistoryEvent[] = [];
  let stopped = false;
  const stop = () => {
    stopped = true;
    redis.disconnect();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    try {
      await redis.connect();
    } catch (err) {
      throw new Unreachable(`cannot reach Redis at ${safeUrl(o.redisUrl)}: ${causeOf(err)}`);
    }
    // From the stream's last entry as it is now (a concrete id, so nothing appended after the line below is missed).
    let last = o.from ?? (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    ctx.out.note(`following ${key}${filter.current ? ` for tenant ${filter.current}` : filter.everyTenant ? ' (every tenant: no API key)' : ''}`);
    while (!stopped && events.length < count && Date.now() < deadline) {
      const block = Math.max(1, Math.min(deadline - Date.now(), 5_000));
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await redis.xread('COUNT', 100, 'BLOCK', block, 'STREAMS', key, last)) as typeof reply;
      } catch (err) {
        if (stopped) break;
        throw new Unreachable(`lost Redis at ${safeUrl(o.redisUrl)}: ${causeOf(err)}`);
      }
      for (const [id, flat] of reply?.[0]?.[1] ?? []) {
        last = id;
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
        const ev = decodeEvent(id, fields);
        if ('error' in ev) continue;
        if (o.notification !== undefined && ev.notificationId !== o.notification) continue;
        if (!(await filter.admits(ev))) continue;
        events.push(ev);
        if (o.jsonl) ctx.out.line(JSON.stringify(eventView(ev)));
        else if (!ctx.out.json) ctx.out.line(eventLine(ev, filter.everyTenant));
        if (events.length >= count) break;
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    redis.disconnect();
  }
  if (ctx.out.json && !o.jsonl) ctx.out.result({ events: events.map(eventView) }, () => '');
}
