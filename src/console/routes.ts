// The console at /console: a static bundle (index.html, app.js, console.css next to this file; `npm run build` copies
// them into dist/console), read once at start and served without an API key — the page logs in itself and calls the
// /v1 API with the key the user pastes. Every answer carries a strict Content-Security-Policy: only this origin's
// script, style and fetches, no inline code, no framing.
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

export const CONSOLE_CSP = [
  "default-src 'self'", "connect-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'",
].join('; ');

const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/console.css': ['console.css', 'text/css; charset=utf-8'],
} as const;

export function consoleRoutes(): Hono {
  const app = new Hono();
  const headers = (type: string) => ({
    'content-type': type, 'content-security-policy': CONSOLE_CSP, 'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'cache-control': 'no-cache',
  });
  for (const [path, [file, type]] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, import.meta.url), 'utf8');
    app.get(path, (c) => c.body(body, 200, headers(type)));
  }
  return app;
}
