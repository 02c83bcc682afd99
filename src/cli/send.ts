// notify send: POST /v1/notifications. The body is --file's (if given) with the options on top; prints the id.
import type { Ctx } from './context.js';
import { UsageError } from './errors.js';
import { jsonObject, parseJson, readJsonFile } from './input.js';

export interface SendOptions {
  template?: string;
  params?: string;
  channel?: string[];
  content?: string;
  category?: string;
  sendAt?: string;
  idempotencyKey?: string;
  file?: string;
}

export async function sendBody(user: string | undefined, o: SendOptions): Promise<Record<string, unknown>> {
  const body = o.file !== undefined ? { ...jsonObject(await readJsonFile(o.file), o.file) } : {};
  if (user !== undefined) body.user_id = user;
  if (o.template !== undefined) body.template = o.template;
  if (o.params !== undefined) body.params = jsonObject(parseJson(o.params, '--params'), '--params');
  if (o.content !== undefined) body.content = jsonObject(parseJson(o.content, '--content'), '--content');
  if (o.channel?.length) body.channels = o.channel;
  if (o.category !== undefined) body.category = o.category;
  if (o.sendAt !== undefined) body.send_at = o.sendAt;
  if (body.user_id === undefined && body.to === undefined) throw new UsageError('name the user: notify send <user-id> (or --file with user_id or to)');
  if (body.template === undefined && body.content === undefined) throw new UsageError('give --template <name> or --content <json> (or --file with either)');
  return body;
}

export async function send(ctx: Ctx, user: string | undefined, o: SendOptions): Promise<void> {
  const body = await sendBody(user, o);
  const headers = o.idempotencyKey !== undefined ? { 'idempotency-key': o.idempotencyKey } : undefined;
  const r = await ctx.api.call<{ id: string; status: string }>('POST', '/v1/notifications', { body, ...(headers && { headers }) });
  const replayed = r.headers.get('idempotent-replayed') === 'true';
  ctx.out.result({ ...r.body, ...(replayed && { replayed }) }, () => {
    if (r.body.status !== 'accepted' || replayed) ctx.out.note(`${r.body.status}${replayed ? ' (replayed: this Idempotency-Key was used before)' : ''}`);
    return r.body.id;
  });
}
