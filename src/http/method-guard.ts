// 405 Method Not Allowed, derived from the routes an app has registered: a path some route serves, asked with a
// method none of its routes takes, is answered 405 with `Allow` (OPTIONS: 204 with `Allow`) instead of falling through
// to another route or to the 404.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';
import { ApiError } from './errors.js';

interface Route {
  path: string;
  method: string;
}

/** The order methods are listed in `Allow`. */
const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * A path's routes, most specific first: each segment a fixed name (2) outranks a parameter (1), which outranks a
 * wildcard (0), so `POST /notifications/batch` owns `/notifications/batch` even though `GET /notifications/:id` matches
 * it too — `GET /notifications/batch` is a 405, not a lookup of a notification called "batch".
 */
function specificity(path: string): number[] {
  return path.split('/').filter(Boolean).map((s) => (s.includes('*') ? 0 : s.startsWith(':') ? 1 : 2));
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The methods a path supports, from `routes` (the app's `routes` once everything is registered; read on the first
 * request). Middleware (`use`, method ALL) is not a route and is left out; HEAD comes with GET (Hono serves HEAD from
 * the GET handler) and OPTIONS with every path.
 */
export function allowedMethods(routes: () => readonly Route[]): (path: string) => string[] | undefined {
  let router: TrieRouter<{ shape: number[]; methods: Set<string> }> | undefined;
  const build = () => {
    const byPath = new Map<string, { shape: number[]; methods: Set<string> }>();
    for (const r of routes()) {
      if (r.method === 'ALL') continue;
      const entry = byPath.get(r.path) ?? { shape: specificity(r.path), methods: new Set<string>() };
      entry.methods.add(r.method.toUpperCase());
      byPath.set(r.path, entry);
    }
    const trie = new TrieRouter<{ shape: number[]; methods: Set<string> }>();
    for (const [path, entry] of byPath) trie.add('ALL', path, entry);
    return trie;
  };
  return (path) => {
    router ??= build();
    const [found] = router.match('GET', path);
    if (found.length === 0) return undefined;
    const entries = found.map(([e]) => e as { shape: number[]; methods: Set<string> });
    const best = entries.reduce((a, b) => (compare(b.shape, a.shape) > 0 ? b : a)).shape;
    const methods = new Set<string>(['OPTIONS']);
    for (const e of entries) if (compare(e.shape, best) === 0) for (const m of e.methods) methods.add(m);
    if (methods.has('GET')) methods.add('HEAD');
    return ORDER.filter((m) => methods.has(m)).concat([...methods].filter((m) => !ORDER.includes(m)).sort());
  };
}

/** Registered first on the root app, so it decides before any route (or the API-key check) runs. */
export function methodGuard(routes: () => readonly Route[]): MiddlewareHandler {
  const allowed = allowedMethods(routes);
  return async function methodGuard(c: Context, next: Next) {
    const allow = allowed(c.req.path);
    if (allow === undefined) return next();
    const method = c.req.method.toUpperCase();
    if (method === 'OPTIONS') return c.body(null, 204, { Allow: allow.join(', ') });
    if (allow.includes(method)) return next();
    c.header('Allow', allow.join(', '));
    throw new ApiError('method_not_allowed', `${method} is not supported on ${c.req.path} (allowed: ${allow.join(', ')})`);
  };
}
