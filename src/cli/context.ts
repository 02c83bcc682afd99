// What every command gets from the global options: the API client and where output goes.
import type { Command } from 'commander';
import { Api } from './client.js';
import { Output } from './output.js';

/** The service's own default (`npm start`: NOTIFY_HTTP_PORT 3000). */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface Globals {
  url: string;
  apiKey?: string;
  json?: boolean;
}

export interface Ctx {
  api: Api;
  out: Output;
  /** Whether an API key was given (--api-key or NOTIFY_API_KEY). */
  hasKey: boolean;
}

export function contextOf(cmd: Command): Ctx {
  const g = cmd.optsWithGlobals<Globals>();
  // Read here, not as commander's default, so --help never prints the key.
  const apiKey = g.apiKey ?? process.env.NOTIFY_API_KEY;
  return { api: new Api(g.url, apiKey || undefined), out: new Output(Boolean(g.json)), hasKey: Boolean(apiKey) };
}
