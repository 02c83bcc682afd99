// notify search: GET /v1/notifications (the history's search; every filter it takes, README "History").
import type { Query } from './client.js';
import type { Ctx } from './context.js';
import { notificationRows, type Notification } from './views.js';

export interface SearchOptions {
  user?: string;
  status?: string;
  channel?: string;
  category?: string;
  template?: string;
  since?: string;
  until?: string;
  limit?: string;
  cursor?: string;
}

/** The query string the options make (left out: what was not given, so the service's defaults apply). */
export const searchQuery = (o: SearchOptions): Query => ({
  user_id: o.user, status: o.status, channel: o.channel, category: o.category, template: o.template,
  since: o.since, until: o.until, limit: o.limit, cursor: o.cursor,
});

export async function search(ctx: Ctx, o: SearchOptions): Promise<void> {
  const r = await ctx.api.call<{ notifications: Notification[]; next_cursor: string | null }>('GET', '/v1/notifications', { query: searchQuery(o) });
  const page = r.body;
  ctx.out.result(page, () => {
    if (page.notifications.length === 0) return 'no notifications match';
    return notificationRows(page.notifications) + (page.next_cursor ? `\n\nmore: --cursor ${page.next_cursor}` : '');
  });
}
