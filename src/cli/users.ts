// notify users get|put|patch: /v1/users/{id}. PUT replaces the profile, PATCH merges into it (README "Users").
import { seg } from './client.js';
import type { Ctx } from './context.js';
import { UsageError } from './errors.js';
import { jsonObject, readJsonFile } from './input.js';
import { userText } from './views.js';

export interface ProfileOptions {
  file?: string;
  email?: string;
  phone?: string;
  locale?: string;
  timezone?: string;
  /** PATCH only: fields to remove (sent as null). */
  unset?: string[];
}

export async function profileBody(o: ProfileOptions): Promise<Record<string, unknown>> {
  const body = o.file !== undefined ? { ...jsonObject(await readJsonFile(o.file), o.file) } : {};
  for (const k of ['email', 'phone', 'locale', 'timezone'] as const) if (o[k] !== undefined) body[k] = o[k];
  for (const k of o.unset ?? []) body[k] = null;
  return body;
}

export async function get(ctx: Ctx, id: string): Promise<void> {
  const u = (await ctx.api.call<Record<string, unknown>>('GET', `/v1/users/${seg(id)}`)).body;
  ctx.out.result(u, () => userText(u));
}

export async function put(ctx: Ctx, id: string, o: ProfileOptions, method: 'PUT' | 'PATCH'): Promise<void> {
  const body = await profileBody(o);
  if (method === 'PUT' && o.file === undefined && Object.keys(body).length === 0) {
    throw new UsageError('give --file <json> or profile fields (--email, --phone, --locale, --timezone): PUT replaces the whole profile');
  }
  const u = (await ctx.api.call<Record<string, unknown>>(method, `/v1/users/${seg(id)}`, { body })).body;
  ctx.out.result(u, () => userText(u));
}
