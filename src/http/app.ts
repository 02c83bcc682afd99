// The HTTP API: authentication, size limits, JSON errors, and the /v1 routes.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../log.js';
import type { DeadLetterStore } from '../store/dead-letters.js';
import type { NotificationStore } from '../store/notifications.js';
import type { TemplateStore } from '../store/templates.js';
import type { UserStore } from '../store/users.js';
import { bearerAuth, type AuthEnv } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { onlyLimit } from './body.js';
import { ApiError } from './errors.js';
import { methodGuard } from './method-guard.js';
import type { TenantAdmission } from './admission.js';
import { NotDurableError } from '../streams/durable-writes.js';
import type { KnownTemplates } from './known-templates.js';
import { opsRoutes, type OpsDeps } from './ops.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { feedbackRoutes, type FeedbackRouteDeps } from './routes/feedback.js';
import { historyRoutes } from './routes/history.js';
import { notificationRoutes } from './routes/notifications.js';
import { templateRoutes, type Renderer } from './routes/templates.js';
import { userRoutes } from './routes/users.js';
import type { History } from '../history/index.js';
import { HistoryUnavailable } from '../history/for-service.js';
import { webhookRoutes, type WebhookRouteDeps } from '../webhooks/routes.js';
import { alertRoutes, type AlertRouteDeps } from '../alerts/routes.js';
import { consoleRoutes } from '../console/routes.js';
import { openApiRoutes } from './openapi/index.js';

export interface AppDeps extends OpsDeps {
  /** The notification log in PostgreSQL (src/history), when it is on. */
  history?: History;
  /** Renders template previews (POST /v1/templates/{name}/preview); without it they answer 503. */
  render?: Renderer;
  apiKeys: ReadonlyMap<string, string>;
  maxBodyBytes: number;
  users: UserStore;
  templates: TemplateStore;
  knownTemplates: KnownTemplates;
  notifications: NotificationStore;
  /** Per-tenant admission limits on POST /v1/notifications (and /batch). */
  admission?: TenantAdmission;
  deadLetters: DeadLetterStore;
  feedback: FeedbackRouteDeps;
  /** Present in sandbox mode: what the fake providers received for a tenant. */
  sandboxMessages?: (tenant: string, limit: number) => Promise<unknown[]>;
  /** Producers' webhook endpoints (/v1/webhooks, src/webhooks); without it the paths are not served. */
  webhooks?: WebhookRouteDeps;
  /** A tenant's alert rules (/v1/alerts, src/alerts); without it the path is not served. */
  alerts?: AlertRouteDeps;
  /** Present in sandbox mode: the alerts the fake Slack received. */
  sandboxAlerts?: (limit: number) => Promise<unknown[]>;
  log: Logger;
  now?: () => number;
}

export function createApp(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const now = deps.now ?? Date.now;
  const { history } = deps;
  // The status event stream, for the events the API itself writes (engagement, erasure).
  const events = deps.feedback.store?.events;

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.retryAfterS !== undefined) c.header('Retry-After', String(err.retryAfterS));
      return c.json(err.toBody(), err.status);
    }
    if (err instanceof HTTPException && err.status === 413) return c.json(new ApiError('payload_too_large').toBody(), 413);
    if (err instanceof NotDurableError) {
      c.header('Retry-After', String(err.retryAfterS));
      return c.json(new ApiError('unavailable', `not accepted durably: ${err.message}`).toBody(), 503);
    }
    // The history database not reached yet (src/history/for-service.ts opens it in the background).
    if (err instanceof HistoryUnavailable) {
      c.header('Retry-After', '5');
      return c.json(new ApiError('unavailable', err.message).toBody(), 503);
    }
    if (isRedisUnavailable(err)) {
      deps.log.warn({ err: err.message, path: c.req.path }, 'Redis unavailable: answering 503');
      c.header('Retry-After', '1');
      return c.json(new ApiError('unavailable', 'storage is unavailable; try again (an Idempotency-Key makes the retry safe)').toBody(), 503);
    }
    deps.log.error({ err, path: c.req.path }, 'request failed');
    return c.json(new ApiError('internal').toBody(), 500);
  });
  app.notFound((c) => c.json(new ApiError('not_found', `no route for ${c.req.method} ${c.req.path}`).toBody(), 404));
  // First, before any route or the API-key check: a known path asked with a method it does not take is a 405 with Allow,
  // from the routes registered below (read on the first request).
  app.use(methodGuard(() => app.routes));

  app.route('/', opsRoutes(deps));
  // The OpenAPI document (/openapi.json) and its reference page (/docs), without an API key.
  app.route('/', openApiRoutes());
  // The console's static files, without an API key (the page logs in and calls /v1 with the key it is given).
  app.route('/console', consoleRoutes());
  // Before /v1, whose API-key check would otherwise run first: these are authenticated by their signatures.
  app.route('/v1/feedback', feedbackRoutes(deps.feedback));

  const v1 = new Hono<AuthEnv>();
  v1.use(bearerAuth(deps.apiKeys));
  v1.use(bodyLimit(deps.maxBodyBytes));
  v1.route('/users', userRoutes(deps.users, events && (async (tenant, userId) => {
    await events.append({ kind: 'user_erased', tenant, notificationId: '', createdAt: now(), data: { user_id: userId } });
  })));
  v1.route('/templates', templateRoutes(deps.templates, deps.render));
  v1.route('/dead-letters', deadLetterRoutes(deps.deadLetters));
  v1.route('/notifications', notificationRoutes({
    notifications: deps.notifications, templates: deps.knownTemplates, metrics: deps.metrics, now: deps.now,
    ...(deps.admission && { admission: deps.admission }), ...(history && { history }),
  }));
  v1.route('/', historyRoutes({ notifications: deps.notifications, now, ...(history && { history }), ...(events && { events }) }));
  if (deps.webhooks) v1.route('/webhooks', webhookRoutes(deps.webhooks));
  if (deps.alerts) v1.route('/alerts', alertRoutes(deps.alerts));
  const sandboxAlerts = deps.sandboxAlerts;
  if (sandboxAlerts) v1.get('/sandbox/alerts', async (c) => c.json({ alerts: await sandboxAlerts(onlyLimit(c, 100, 1000)) }));
  const sandbox = deps.sandboxMessages;
  if (sandbox) {
    v1.get('/sandbox/messages', async (c) => c.json({ messages: await sandbox(c.get('tenant'), onlyLimit(c, 100, 1000)) }));
  }
  app.route('/v1', v1);
  return app;
}

/** ioredis errors that mean "Redis is not reachable right now" (as opposed to a bug or a bad command). */
function isRedisUnavailable(err: Error): boolean {
  return err.name === 'MaxRetriesPerRequestError' || /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|LOADING|Command timed out/.test(err.message);
}
