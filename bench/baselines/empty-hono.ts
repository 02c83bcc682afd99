// Baseline: an empty Hono endpoint on @hono/node-server — the same HTTP stack as the ingress, no work. It reads the
// body (as any endpoint must) but does not parse, check or store it. Prints {"msg":"listening","port":N}.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
const empty = async (c: import('hono').Context) => {
  await c.req.text();
  return c.json({ status: 'accepted' }, 202);
};
app.post('/v1/notifications', empty);
app.post('/v1/notifications/batch', empty);

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: info.port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
