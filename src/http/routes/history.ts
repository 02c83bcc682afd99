// What the API reads from the notification history in PostgreSQL (src/history): search, stats, and the engagement
// apps report. Query parameters are tenant input: each is checked here (unknown or repeated ones refused) before the
// history sees it, and the history checks again what only it can (a cursor it did not give).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { CHANNELS } from '../../domain/types.js';
import { TEMPLATE_NAME, USER_ID } from '../../domain/schemas.js';
import type { History } from '../../history/index.js';
import { GROUP_BY, HistoryQueryError, MAX_LIMIT, type SearchFilter } from '../../history/queries.js';
import type { StatusEvents } from '../../store/feedback.js';
import type { NotificationStore, StoredNotification } from '../../store/notifications.js';
import type { AuthEnv } from '../auth.js';
import { pathParam, queryLimit, readJson } from '../body.js';
import { ApiError, fromZod, issueMessages } from '../errors.js';
import { notificationView } from './notification-view.js';
import { NOTIFICATION_ID, NOTIFICATION_ID_RULE } from './notifications.js';

export interface HistoryRouteDeps {
  /** Absent when history is off: search, stats and engagement answer 503. */
  history?: History;
  /** Where engagement events are appended (the status event stream). */
  events?: StatusEvents;
  notifications: NotificationStore;
  now: () => number;
}

const DAY_MS = 86_400_000;
/** The longest stats range: a year (a leap one too). */
export const MAX_STATS_DAYS = 366;
/** How far ahead of this service's clock a reported engagement may be (the app's clock may run a little fast). */
export const ENGAGEMENT_AHEAD_MS = 60_000;
const SHOWN_STATUSES = ['accepted', 'scheduled', 'processing', 'sent', 'partially_sent', 'failed', 'not_sent', 'cancelled'] as const;
const CURSOR = /^[A-Za-z0-9_-]{1,256}$/;
/** As NotificationSchema takes a category. */
const CATEGORY = /^[A-Za-z0-9._-]{1,64}$/;

const isoDateTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();
/** An ISO 8601 time with an offset, or a date (midnight UTC), as ms since the epoch. */
const time = (field: string) => z.string({ error: `${field} is required` }).max(64).refine(
  (s) => isoDateTime.safeParse(s).success || isoDate.safeParse(s).success,
  `${field} must be an ISO 8601 time with an offset (2026-12-01T09:00:00Z; in a URL, + as %2B) or a date (2026-12-01, UTC)`,
).transform((s) => Date.parse(s));

const filters = {
  status: z.enum(SHOWN_STATUSES).optional(),
  channel: z.enum(CHANNELS).optional(),
  category: z.string().regex(CATEGORY, 'categories are 1-64 characters of letters, digits and ._-').optional(),
  template: z.string().regex(TEMPLATE_NAME, 'template names are 1-64 characters of letters, digits and ._-').optional(),
  since: time('since').optional(),
  until: time('until').optional(),
  cursor: z.string().regex(CURSOR, 'the next_cursor of the previous page').optional(),
  // Checked by queryLimit, as GET /v1/dead-letters checks it.
  limit: z.string().optional(),
};
const sinceBeforeUntil = (f: { since?: number | undefined; until?: number | undefined }, ctx: z.RefinementCtx) => {
  if (f.since !== undefined && f.until !== undefined && f.until <= f.since) ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must be after since' });
};
export const UserSearch = z.strictObject(filters).superRefine(sinceBeforeUntil);
export const Search = z.strictObject({ user_id: z.string().regex(USER_ID, 'user ids are 1-128 characters of letters, digits and ._:@+=-').optional(), ...filters })
  .superRefine(sinceBeforeUntil);

export const Stats = z.strictObject({ from: time('from'), to: time('to'), group_by: z.enum(GROUP_BY).default('channel') }).superRefine((s, ctx) => {
  if (s.to <= s.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
  else if (s.to - s.from > MAX_STATS_DAYS * DAY_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: `from-to spans at most ${MAX_STATS_DAYS} days` });
});

export const Engagement = z.strictObject({
  type: z.enum(['opened', 'clicked']),
  channel: z.enum(CHANNELS).optional(),
  at: isoDateTime.optional(),
});

/** The query parameters, each given once; a repeated one is refused (which of them would count is not obvious). */
function queryOf(c: Context): Record<string, string> {
  // No prototype: `?__proto__=x` is a parameter like any other (refused as unknown), not a write to the prototype.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) throw new ApiError('validation_failed', `${k}: given ${values.length} times; give it once`, k);
    out[k] = values[0]!;
  }
  return out;
}

function parse<S extends z.ZodType>(schema: S, query: Record<string, string>): z.infer<S> {
  const parsed = schema.safeParse(query, { error: issueMessages });
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

/** A history call; a caller's mistake only the history can see (a forged cursor) is a 422 naming its field. */
async function asked<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof HistoryQueryError) throw new ApiError('validation_failed', err.message, err.field);
    throw err;
  }
}

export function historyRoutes(deps: HistoryRouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const needHistory = (what: string): History => {
    if (!deps.history) throw new ApiError('unavailable', `${what} needs the notification history, and history is off here (NOTIFY_HISTORY=off, or no DATABASE_URL outside --role all)`);
    return deps.history;
  };

  const search = async (c: Context<AuthEnv>, history: History, { limit, ...f }: Omit<SearchFilter, 'limit'> & { limit?: string | undefined }) => {
    const filter: SearchFilter = { ...f, limit: queryLimit(limit, 50, MAX_LIMIT) };
    const page = await asked(() => history.search(c.get('tenant'), filter));
    return c.json({ notifications: page.notifications.map(notificationView), next_cursor: page.next_cursor });
  };

  app.get('/notifications', async (c) => {
    const history = needHistory('search');
    return search(c, history, parse(Search, queryOf(c)));
  });

  app.get('/users/:user_id/notifications', async (c) => {
    const history = needHistory('search');
    const userId = pathParam(c, 'user_id', USER_ID, 'user ids are 1-128 characters of letters, digits and ._:@+=-');
    return search(c, history, { ...parse(UserSearch, queryOf(c)), user_id: userId });
  });

  app.get('/stats', async (c) => {
    const history = needHistory('stats');
    const q = parse(Stats, queryOf(c));
    const rows = await asked(() => history.stats(c.get('tenant'), q));
    return c.json({ from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString(), group_by: q.group_by, rows });
  });

  app.post('/notifications/:id/events', async (c) => {
    const history = needHistory('engagement');
    if (!deps.events) throw new ApiError('unavailable', 'engagement events cannot be recorded here (no status event stream)');
    const id = pathParam(c, 'id', NOTIFICATION_ID, NOTIFICATION_ID_RULE);
    const body = await readJson(c, Engagement);
    const tenant = c.get('tenant');
    const n: StoredNotification | null = (await deps.notifications.get(id, tenant)) ?? (await history.getNotification(tenant, id));
    if (!n) throw new ApiError('not_found', 'no such notification');
    const now = deps.now();
    const at = body.at === undefined ? now : Date.parse(body.at);
    if (at > now + ENGAGEMENT_AHEAD_MS) throw new ApiError('validation_failed', 'at: must not be in the future (more than a minute ahead)', 'at');
    if (at < n.meta.created_at) throw new ApiError('validation_failed', 'at: must not be before the notification was created', 'at');
    const on = n.deliveries.filter((d) => body.channel === undefined || d.channel === body.channel);
    if (body.channel !== undefined && on.length === 0) {
      throw new ApiError('validation_failed', `channel: the notification has no ${body.channel} delivery`, 'channel');
    }
    // One delivery it can be: the event names it. Otherwise stats count it for each delivery on the channel (or all).
    const key = on.length === 1 ? on[0]!.key : undefined;
    await deps.events.append({
      kind: 'engagement', tenant, notificationId: id, createdAt: n.meta.created_at, ...(key !== undefined && { key }),
      data: { type: body.type, ...(body.channel && { channel: body.channel }), at },
    });
    return c.json({ notification_id: id, type: body.type, ...(body.channel && { channel: body.channel }), at: new Date(at).toISOString() }, 202);
  });

  return app;
}
