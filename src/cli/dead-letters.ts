// notify dead-letters list|show|redrive|delete: /v1/dead-letters. Redrive and delete of a selection first list what
// it selects (pages of GET /v1/dead-letters), then send it by ids in chunks, counting on stderr; delete asks first.
import { seg, type Query } from './client.js';
import { confirm } from './confirm.js';
import type { Ctx } from './context.js';
import { Failed, UsageError } from './errors.js';
import { wholeNumber } from './input.js';
import { progress } from './progress.js';
import { deadLetterRows, deadLetterText, type DeadLetter } from './views.js';

export interface Filter {
  channel?: string;
  reason?: string;
  kind?: string;
}

export interface Selection extends Filter {
  all?: boolean;
  /** At most this many (a whole number as typed); default: every one selected. */
  max?: string;
  /** Ids per request (1-1000, as typed). */
  batch?: string;
  yes?: boolean;
}

type Page = { dead_letters: DeadLetter[]; next_cursor: string | null };
/** Ids per redrive or delete request by default (the API takes up to 1000): small enough for the count to move. */
export const CHUNK = 100;
const batchOf = (o: Selection) => (o.batch !== undefined ? wholeNumber(o.batch, '--batch', 1, 1000) : CHUNK);
const PAGE = 500;

const filterQuery = (f: Filter): Query => ({ channel: f.channel, reason: f.reason, kind: f.kind });

export async function list(ctx: Ctx, o: Filter & { limit?: string; cursor?: string }): Promise<void> {
  const page = (await ctx.api.call<Page>('GET', '/v1/dead-letters', { query: { ...filterQuery(o), limit: o.limit, cursor: o.cursor } })).body;
  ctx.out.result(page, () => {
    if (page.dead_letters.length === 0) return 'no dead letters';
    return deadLetterRows(page.dead_letters) + (page.next_cursor ? `\n\nmore: --cursor ${page.next_cursor}` : '');
  });
}

export async function show(ctx: Ctx, id: string): Promise<void> {
  const d = (await ctx.api.call<DeadLetter>('GET', `/v1/dead-letters/${seg(id)}`)).body;
  ctx.out.result(d, () => deadLetterText(d));
}

/** The ids a command line selects: the ids given, or every dead letter the filter (or --all) lists, up to --max. */
export async function select(ctx: Ctx, ids: readonly string[], o: Selection): Promise<string[]> {
  const filtered = o.channel !== undefined || o.reason !== undefined || o.kind !== undefined;
  const max = o.max !== undefined ? wholeNumber(o.max, '--max', 1) : Infinity;
  batchOf(o); // a bad --batch is refused before anything is listed
  if (ids.length > 0) {
    if (filtered || o.all) throw new UsageError('give ids, or a filter (--channel, --reason, --kind), or --all: not several');
    return ids.slice(0, max);
  }
  if (o.all && filtered) throw new UsageError('--all selects every dead letter: leave out --channel, --reason and --kind');
  if (!o.all && !filtered) throw new UsageError('name what to select: ids, --channel, --reason, --kind, or --all');
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await ctx.api.call<Page>('GET', '/v1/dead-letters', { query: { ...filterQuery(o), limit: PAGE, cursor } })).body;
    out.push(...page.dead_letters.map((d) => d.id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor !== undefined && out.length < max);
  return out.slice(0, max);
}

/** Runs `step` over the ids in chunks of --batch, showing the count on stderr when there is more than one chunk. */
async function chunked<T>(o: Selection, label: string, ids: readonly string[], step: (chunk: string[]) => Promise<T>): Promise<T[]> {
  const size = batchOf(o);
  const bar = ids.length > size ? progress(label, ids.length) : undefined;
  const results: T[] = [];
  try {
    for (let i = 0; i < ids.length; i += size) {
      results.push(await step(ids.slice(i, i + size)));
      bar?.update(Math.min(i + size, ids.length));
    }
  } finally {
    bar?.end();
  }
  return results;
}

export async function redrive(ctx: Ctx, ids: readonly string[], o: Selection): Promise<void> {
  const selected = await select(ctx, ids, o);
  type Redriven = { redriven: number; items: { id: string; notification_id: string | null }[] };
  const answers = await chunked(o, 'redriven', selected, async (chunk) => (
    await ctx.api.call<Redriven>('POST', '/v1/dead-letters/redrive', { body: { ids: chunk, limit: chunk.length } })
  ).body);
  const items = answers.flatMap((a) => a.items);
  ctx.out.result({ selected: selected.length, redriven: items.length, items }, () => (
    selected.length === 0 ? 'nothing to redrive' : `redriven ${items.length} of ${selected.length}`
    + (items.length < selected.length ? ' (the others were gone by then)' : '')
  ));
}

export async function remove(ctx: Ctx, ids: readonly string[], o: Selection): Promise<void> {
  const selected = await select(ctx, ids, o);
  if (selected.length === 0) {
    ctx.out.result({ selected: 0, deleted: 0 }, () => 'nothing to delete');
    return;
  }
  const what = selected.length === 1 ? `dead letter ${selected[0]}` : `${selected.length} dead letters`;
  if (!o.yes && !(await confirm(`Delete ${what}?`))) throw new Failed('not deleted (answer y, or pass --yes)', false);
  let deleted: number;
  if (selected.length === 1) {
    await ctx.api.call('DELETE', `/v1/dead-letters/${seg(selected[0]!)}`);
    deleted = 1;
  } else {
    const answers = await chunked(o, 'deleted', selected, async (chunk) => (
      await ctx.api.call<{ deleted: number }>('POST', '/v1/dead-letters/delete', { body: { ids: chunk, limit: chunk.length } })
    ).body.deleted);
    deleted = answers.reduce((a, b) => a + b, 0);
  }
  ctx.out.result({ selected: selected.length, deleted }, () => `deleted ${deleted} of ${selected.length}`);
}
