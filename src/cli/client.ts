// The service's HTTP API, over fetch: the API key as a bearer token, JSON in and out, error bodies turned into ApiFailure
// and a service that does not answer into Unreachable.
import { ApiFailure, causeOf, safeUrl, Unreachable } from './errors.js';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  headers?: Record<string, string>;
}

export class Api {
  constructor(readonly url: string, readonly apiKey: string | undefined, readonly timeoutMs = 30_000) {}

  /** Builds a request URL: the path under the service URL, with the query's defined values. */
  href(path: string, query: Query = {}): string {
    const u = new URL(path, this.url.endsWith('/') ? this.url : `${this.url}/`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** One request; any HTTP answer is returned (only not reaching the service throws). */
  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
    let res: Response;
    try {
      res = await fetch(this.href(path, opts.query), {
        method,
        headers: {
          accept: 'application/json',
          ...(this.apiKey && { authorization: `Bearer ${this.apiKey}` }),
          ...(opts.body !== undefined && { 'content-type': 'application/json' }),
          ...opts.headers,
        },
        ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      const why = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${this.timeoutMs} ms` : causeOf(err);
      throw new Unreachable(`cannot reach the service at ${safeUrl(this.url)}: ${why}`);
    }
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }

  /** A request that must succeed (2xx); an error answer throws ApiFailure with the service's code and message. */
  async call<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
    const answer = await this.request<T>(method, path, opts);
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw failureOf(answer);
  }
}

/** The error an answer carries: `{"error": {code, message, field?}}` (src/http/errors.ts), or its status and text. */
export function failureOf(answer: Answer<unknown>): ApiFailure {
  const e = (answer.body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
  if (e && typeof e.code === 'string') {
    return new ApiFailure(answer.status, e.code, typeof e.message === 'string' ? e.message : e.code, typeof e.field === 'string' ? e.field : undefined);
  }
  const text = typeof answer.body === 'string' ? answer.body.slice(0, 200) : '';
  return new ApiFailure(answer.status, `http_${answer.status}`, text || `the service answered ${answer.status}`);
}

/** A path segment (an id, a name) as it goes into a URL. */
export const seg = (s: string): string => encodeURIComponent(s);
