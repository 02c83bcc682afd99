// Sends one alert to one destination: Slack through @slack/webhook's IncomingWebhook (Block Kit), or the generic JSON
// webhook. Both go through the webhooks' guarded POST (src/webhooks/post.ts): the SSRF check before the request and
// at connect, a whole-request timeout, a bounded read of the answer.
import { IncomingWebhook, type FetchFunction } from '@slack/webhook';
import { postWebhook, type PostOptions } from '../webhooks/post.js';
import { slackMessage, webhookBody } from './message.js';
import type { Destination } from './rules.js';
import type { AlertMessage } from './window.js';

export interface DeliverOptions {
  timeoutMs: number;
  allowPrivate: boolean;
}

export type DeliverResult = { ok: true } | { ok: false; error: string };

/** @slack/webhook's `fetch`, made of the guarded POST (it only ever POSTs JSON). */
function guardedFetch(opts: PostOptions): FetchFunction {
  return async (url, init) => {
    const ua = init?.headers?.['User-Agent'];
    const r = await postWebhook(String(url), typeof init?.body === 'string' ? init.body : '', ua ? { 'user-agent': ua } : {}, opts);
    if (r.status === undefined) throw new Error(r.error ?? 'no answer');
    const text = r.snippet ?? '';
    const headers = new Headers(r.retryAfter !== undefined ? { 'retry-after': r.retryAfter } : {});
    const res: Awaited<ReturnType<FetchFunction>> = {
      ok: r.status >= 200 && r.status < 300, status: r.status, statusText: '', url: String(url), headers,
      text: async () => text, json: async () => JSON.parse(text) as unknown, arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
    };
    return res;
  };
}

export async function deliver(dest: Pick<Destination, 'type' | 'url' | 'trusted'>, m: AlertMessage, opts: DeliverOptions, now = Date.now()): Promise<DeliverResult> {
  const post: PostOptions = { timeoutMs: opts.timeoutMs, maxResponseBytes: 4_096, allowPrivate: opts.allowPrivate || dest.trusted === true };
  if (dest.type === 'slack') {
    try {
      // The SDK's own retries are off (its default): the outbox retries, with backoff, across restarts.
      await new IncomingWebhook(dest.url, { fetch: guardedFetch(post), timeout: opts.timeoutMs }).send(slackMessage(m));
      return { ok: true };
    } catch (err) {
      const e = err as Error & { statusCode?: number; original?: Error };
      return { ok: false, error: e.statusCode !== undefined ? `HTTP ${e.statusCode}` : (e.original?.message ?? e.message) };
    }
  }
  const r = await postWebhook(dest.url, JSON.stringify(webhookBody(m, now)), { 'user-agent': 'notify-streams-alerts' }, post);
  return r.error === undefined ? { ok: true } : { ok: false, error: r.error };
}
