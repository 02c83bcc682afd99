// /v1/dead-letters: inspect what could not be delivered, send it again, or delete it.
import { Hono } from 'hono';
import { z } from 'zod';
import { deadLetterView } from '../../domain/dead-letter.js';
import { CHANNELS } from '../../domain/types.js';
import type { DeadLetterStore } from '../../store/dead-letters.js';
import type { AuthEnv } from '../auth.js';
import { pathParam, queryLimit, readJson } from '../body.js';
import { ApiError, fromZod } from '../errors.js';

export const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
const ENTRY_ID_RULE = 'dead-letter ids look like 1732262400000-0';
export const Filter = z.strictObject({
  channel: z.enum(CHANNELS).optional(),
  reason: z.string().max(64).optional(),
  kind: z.enum(['intake', 'delivery']).optional(),
});
export const Selector = Filter.extend({
  ids: z.array(z.string().regex(ENTRY_ID, ENTRY_ID_RULE)).min(1).max(1000).optional(),
  /** Everything (up to `limit`): said explicitly, so an empty body does not redrive or delete the whole stream. */
  all: z.boolean().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
}).superRefine((s, ctx) => {
  const chosen = s.ids !== undefined || s.channel !== undefined || s.reason !== undefined || s.kind !== undefined;
  if (s.all === true && chosen) {
    ctx.addIssue({ code: 'custom', path: ['all'], message: 'all: true selects everything; leave it out to select by ids, channel, reason or kind' });
  } else if (s.all !== true && !chosen) {
    ctx.addIssue({ code: 'custom', path: ['all'], message: 'name what to select: ids, channel, reason or kind, or all: true for every dead letter (up to limit)' });
  }
});

export function deadLetterRoutes(store: DeadLetterStore): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();

  app.get('/', async (c) => {
    const { limit, cursor, ...rest } = c.req.query();
    const filter = Filter.safeParse(rest);
    if (!filter.success) throw fromZod(filter.error);
    const n = queryLimit(limit, 50, 500);
    if (cursor !== undefined && !ENTRY_ID.test(cursor)) {
      throw new ApiError('validation_failed', `cursor: the next_cursor of the previous page (${ENTRY_ID_RULE})`, 'cursor');
    }
    const page = await store.list(c.get('tenant'), filter.data, n, cursor);
    return c.json({ dead_letters: page.items.map(deadLetterView), next_cursor: page.next_cursor });
  });

  app.get('/:id', async (c) => {
    const d = await store.get(c.get('tenant'), pathParam(c, 'id', ENTRY_ID, ENTRY_ID_RULE));
    if (!d) throw new ApiError('not_found', 'no such dead letter');
    return c.json(deadLetterView(d));
  });

  app.post('/redrive', async (c) => {
    const { limit, all: _, ...sel } = await readJson(c, Selector);
    const { redriven } = await store.redrive(c.get('tenant'), sel, limit);
    return c.json({ redriven: redriven.length, items: redriven.map((d) => ({ id: d.id, notification_id: d.notification_id ?? null })) });
  });

  app.post('/delete', async (c) => {
    const { limit, all: _, ...sel } = await readJson(c, Selector);
    return c.json({ deleted: await store.remove(c.get('tenant'), sel, limit) });
  });

  app.delete('/:id', async (c) => {
    const deleted = await store.remove(c.get('tenant'), { ids: [pathParam(c, 'id', ENTRY_ID, ENTRY_ID_RULE)] }, 1);
    if (deleted === 0) throw new ApiError('not_found', 'no such dead letter');
    return c.body(null, 204);
  });

  return app;
}
