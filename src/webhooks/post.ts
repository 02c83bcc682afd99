// One webhook request: POST with a whole-request timeout, the SSRF check at connect time, and at most
// `maxResponseBytes` of the answer read.
import http from 'node:http';
import https from 'node:https';
import { checkTarget, guardedLookup, UrlRefused } from './ssrf.js';

export interface PostResult {
  /** The HTTP status, or undefined when there was no answer. */
  status?: number;
  durationMs: number;
  /** Why it did not succeed (network error, timeout, refused target, non-2xx). */
  error?: string;
  retryAfter?: string;
  /** The start of the answer (at most 256 characters), for the attempts log. */
  snippet?: string;
  /** True when the target itself was refused (SSRF): retrying will not help until the URL changes. */
  refused?: boolean;
}

export interface PostOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  allowPrivate: boolean;
  now?: () => number;
}

/** Kept-alive connections, one pool per protocol and SSRF mode; each new connection goes through the guarded lookup. */
const agents = new Map<string, http.Agent>();
function agentFor(protocol: string, allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const opts = { keepAlive: true, maxSockets: 4, lookup: guardedLookup(allowPrivate) };
    agent = protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
    agents.set(key, agent);
  }
  return agent;
}

export async function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  let url: URL;
  try {
    url = await checkTarget(rawUrl, opts.allowPrivate);
  } catch (err) {
    return { durationMs: now() - started, error: (err as Error).message, refused: err instanceof UrlRefused };
  }
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const done = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: now() - started });
    };
    const req = lib.request(url, {
      method: 'POST',
      lookup: guardedLookup(opts.allowPrivate),
      agent: agentFor(url.protocol, opts.allowPrivate),
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'notify-streams-webhooks', ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        const status = res.statusCode ?? 0;
        const snippet = Buffer.concat(chunks).toString('utf8').slice(0, 256);
        const retryAfter = res.headers['retry-after'];
        done({
          status, ...(snippet && { snippet }), ...(typeof retryAfter === 'string' && { retryAfter }),
          ...(!(status >= 200 && status < 300) && { error: `HTTP ${status}` }),
        });
        if (size >= opts.maxResponseBytes) res.destroy(); // read to the end: the connection is kept for the next request
      };
      res.on('data', (chunk: Buffer) => {
        if (size < opts.maxResponseBytes) chunks.push(chunk.subarray(0, opts.maxResponseBytes - size));
        size += chunk.length;
        if (size >= opts.maxResponseBytes) finish(); // enough: the rest is not read
      });
      res.on('end', finish);
      res.on('error', (err) => done({ status: res.statusCode, error: err.message }));
    });
    const timer = setTimeout(() => {
      done({ error: `timed out after ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.message, ...(err.code === 'EREFUSEDTARGET' && { refused: true }) }));
    req.end(body);
  });
}
