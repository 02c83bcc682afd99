// notify templates push <dir>: every `<name>.json` in the directory is PUT to /v1/templates/<name> (the file holds
// the body as the PUT takes it: {push?, sms?, email?, strict?}). Each file's result is reported; a file refused (or
// unreadable) makes the exit code 1, and the others are still pushed. Not reaching the service stops it (exit 3).
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { seg } from './client.js';
import type { Ctx } from './context.js';
import { ApiFailure, Failed, UsageError } from './errors.js';
import { table } from './output.js';

export interface PushResult {
  file: string;
  name: string;
  ok: boolean;
  version?: string;
  error?: { code: string; message: string; field?: string; status?: number };
}

export async function templateFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new UsageError(`cannot read the directory ${dir}: ${(err as Error).message}`);
  }
  return names.filter((f) => f.endsWith('.json')).sort();
}

async function pushOne(ctx: Ctx, dir: string, file: string): Promise<PushResult> {
  const name = basename(file, '.json');
  let body: unknown;
  try {
    body = JSON.parse(await readFile(join(dir, file), 'utf8'));
  } catch (err) {
    return { file, name, ok: false, error: { code: 'invalid_file', message: `not readable JSON: ${(err as Error).message}` } };
  }
  try {
    const r = await ctx.api.call<{ version: string }>('PUT', `/v1/templates/${seg(name)}`, { body });
    return { file, name, ok: true, version: r.body.version };
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    return { file, name, ok: false, error: err.toJson().error as PushResult['error'] };
  }
}

/** The code and message, and the field when the message does not start with it (`sms.body: … (line 2, column 8)`). */
const refusal = (e: NonNullable<PushResult['error']>) => (
  `${e.code}: ${e.field !== undefined && !e.message.startsWith(`${e.field}: `) ? `${e.field}: ` : ''}${e.message}`
);

export async function push(ctx: Ctx, dir: string): Promise<void> {
  const files = await templateFiles(dir);
  if (files.length === 0) throw new UsageError(`no <name>.json template files in ${dir}`);
  const results: PushResult[] = [];
  for (const file of files) results.push(await pushOne(ctx, dir, file));
  const refused = results.filter((r) => !r.ok).length;
  ctx.out.result({ pushed: results.length - refused, refused, results }, () => {
    const rows = results.map((r) => (r.ok
      ? ['ok', r.file, `version ${r.version}`]
      : ['FAIL', r.file, refusal(r.error!)]));
    return `${table(['', 'FILE', 'RESULT'], rows)}\n\npushed ${results.length - refused}, refused ${refused}`;
  });
  if (refused > 0) throw new Failed(`${refused} of ${results.length} templates refused`);
}
