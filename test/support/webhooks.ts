// Webhook test helpers: a real HTTP receiver on 127.0.0.1, the /v1/webhooks routes on an app of their own, and a
// dispatcher + sender started against a prefix.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { sha256Hex } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { bearerAuth, type AuthEnv } from '../../src/http/auth.js';
import { ApiError } from '../../src/http/errors.js';
import { makeKeys } from '../../src/streams/keys.js';
import { loadWebhookConfig, startWebhookWorker, webhookRoutes, type WebhookConfig } from '../../src/webhooks/index.js';
import { REDIS_URL } from './redis.js';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

export interface Receiver {
  url: string;
  port: number;
  got: Received[];
  /** Decides each answer (default 200); may hang by returning 'hang'. */
  answer: (r: Received, n: number) => { status: number; headers?: Record<string, string> } | 'hang';
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const hanging: http.ServerResponse[] = [];
  const rx: Receiver = {
    url: '', port: 0, got: [], answer: () => ({ status: 200 }),
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: Received = { headers: req.headers, body, json: JSON.parse(body), at: Date.now() };
      const a = rx.answer(r, rx.got.length);
      if (a === 'hang') {
        hanging.push(res);
        return;
      }
      rx.got.push(r);
      res.writeHead(a.status, a.headers).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  rx.port = (server.address() as AddressInfo).port;
  rx.url = `http://127.0.0.1:${rx.port}/hook`;
  return rx;
}

export const KEYS = { acme: 'wh-acme-key-0123456789', other: 'wh-other-key-0123456789' };

export const testConfig = (env: Record<string, string> = {}): WebhookConfig => loadWebhookConfig({
  NOTIFY_WEBHOOK_ALLOW_PRIVATE: 'on', NOTIFY_WEBHOOK_RETRY_SCHEDULE: '50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms,50ms',
  NOTIFY_WEBHOOK_TIMEOUT_MS: '1000', NOTIFY_WEBHOOK_POLL_MS: '20', NOTIFY_WEBHOOK_BLOCK_MS: '100', NOTIFY_WEBHOOK_LEASE_MS: '3000',
  ...env,
});

/** The /v1/webhooks routes behind the API-key check, as createApp mounts them; `call` returns status and JSON. */
export function webhookApi(redis: Redis, prefix: string, config: WebhookConfig) {
  const app = new Hono<AuthEnv>();
  app.onError((err, c) => (err instanceof ApiError ? c.json(err.toBody(), err.status) : c.json({ error: { code: 'internal', message: String(err) } }, 500)));
  app.use(bearerAuth(new Map([[sha256Hex(KEYS.acme), 'acme'], [sha256Hex(KEYS.other), 'other']])));
  app.route('/v1/webhooks', webhookRoutes({ redis, prefix, config }));
  return async (method: string, path: string, body?: unknown, tenant: keyof typeof KEYS = 'acme') => {
    const res = await app.request(path, {
      method, headers: { authorization: `Bearer ${KEYS[tenant]}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

export async function startWorker(redis: Redis, prefix: string, config: WebhookConfig) {
  return startWebhookWorker({
    redis, blocking: new Redis(REDIS_URL, { lazyConnect: true }), keys: makeKeys(prefix), prefix, config,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
}
