// The API's routes as the OpenAPI document describes them: one entry per route src/http/app.ts registers (method and
// path as Hono registers them, `:param`), with the zod schemas the handlers validate with. test/openapi.test.ts fails
// when a registered route is missing here, or an entry here is not registered.
import { z } from 'zod';
import { SettingsSchema } from '../../alerts/rules.js';
import { DeviceSchema, NotificationSchema, PreferencesSchema, PreviewSchema, TEMPLATE_NAME, TemplateSchema, USER_ID, UserSchema } from '../../domain/schemas.js';
import { UserPatchSchema } from '../../domain/user-patch.js';
import { MAX_LIMIT } from '../../history/queries.js';
import { EndpointInput, NAME as WEBHOOK_NAME, Redrive } from '../../webhooks/routes.js';
import type { ErrorCode } from '../errors.js';
import { ENTRY_ID, Filter, Selector } from '../routes/dead-letters.js';
import { Engagement, Search, Stats, UserSearch } from '../routes/history.js';
import { BatchSchema, MAX_BATCH, NOTIFICATION_ID } from '../routes/notifications.js';
import { DEVICE_TOKEN } from '../routes/users.js';

export type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
/** `apiKey`: Authorization: Bearer <key> (the /v1 routes); `signature`: the provider's own signature; `none`: open. */
export type Auth = 'apiKey' | 'signature' | 'none';

/** A zod schema published as a named component (components.schemas). */
export interface Named {
  name: string;
  schema: z.ZodType;
}
const named = (name: string, schema: z.ZodType): Named => ({ name, schema });

export interface PathParam {
  pattern: RegExp;
  description: string;
}
/** A query parameter not (or not usefully) in a route's zod schema, e.g. `limit`, which the handler checks itself. */
export interface QueryParam {
  name: string;
  description: string;
  schema: Record<string, unknown>;
  required?: boolean;
}
export interface Header {
  name: string;
  description: string;
  schema?: Record<string, unknown>;
  required?: boolean;
}
export interface Success {
  status: number;
  description: string;
  /** A component (components.schemas) or an inline JSON Schema; absent: no body. */
  body?: Named | Record<string, unknown>;
  /** Default application/json. */
  mediaType?: string;
  headers?: Header[];
}

export interface RouteDoc {
  method: Method;
  /** As Hono registers it: /v1/users/:user_id. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** Every `:param` of the path. */
  params?: Record<string, PathParam>;
  /** The zod object the handler parses the query with (each property a parameter), and parameters it checks itself. */
  query?: { schema?: z.ZodType; extra?: QueryParam[] };
  headers?: Header[];
  /** A JSON body validated with a zod schema, or a body of another kind described by hand. */
  body?: { schema: Named; mediaTypes?: string[] } | { mediaType: string; description: string; schema: Record<string, unknown> };
  ok: Success[];
  /** The route's own error codes; the builder adds those every route of its kind can answer (auth, body, storage). */
  errors?: ErrorCode[];
  /** Does not read or write Redis (no `unavailable` when storage is down). */
  noStorage?: boolean;
}

// The request bodies, as components.
const Notification = named('NotificationRequest', NotificationSchema);
const Batch = named('BatchRequest', BatchSchema);
const User = named('UserRequest', UserSchema);
const UserPatch = named('UserPatchRequest', UserPatchSchema);
const Device = named('DeviceRequest', DeviceSchema);
const Preferences = named('Preferences', PreferencesSchema);
const Template = named('TemplateRequest', TemplateSchema);
const Preview = named('PreviewRequest', PreviewSchema);
const DeadLetterSelector = named('DeadLetterSelector', Selector);
const EngagementEvent = named('EngagementEvent', Engagement);
const WebhookEndpoint = named('WebhookEndpointRequest', EndpointInput);
const WebhookRedrive = named('WebhookRedriveRequest', Redrive);
const AlertSettings = named('AlertSettings', SettingsSchema);
// Responses documented by their shape (the handlers build them inline).
const Accepted = named('Accepted', z.strictObject({ id: z.string(), status: z.enum(['accepted', 'scheduled']) }));

const userId: PathParam = { pattern: USER_ID, description: 'the user id: 1-128 characters of letters, digits and ._:@+=-' };
const templateName: PathParam = { pattern: TEMPLATE_NAME, description: 'the template name: 1-64 characters of letters, digits and ._-' };
const notificationId: PathParam = { pattern: NOTIFICATION_ID, description: 'the notification id (as POST /v1/notifications answered)' };
const deadLetterId: PathParam = { pattern: ENTRY_ID, description: 'the dead letter id, e.g. 1732262400000-0' };
const deviceToken: PathParam = { pattern: DEVICE_TOKEN, description: 'the device token: APNs (64+ hex characters) or FCM' };
const webhookName: PathParam = { pattern: WEBHOOK_NAME, description: 'the webhook name: 1-64 characters of letters, digits and ._-' };

const limit = (fallback: number, max: number, what = 'items'): QueryParam => ({
  name: 'limit', description: `how many ${what} at most (1-${max}, default ${fallback})`,
  schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
});
const object = (description?: string) => ({ type: 'object', ...(description && { description }) });
const json = (description: string, body: Named | Record<string, unknown> = object()): Success => ({ status: 200, description, body });
const noContent = (description: string): Success => ({ status: 204, description });
const historyOff = 'Needs the notification history (PostgreSQL): with history off it answers 503 `unavailable`.';

export const ROUTES: readonly RouteDoc[] = [
  // Operations (every process).
  { method: 'GET', path: '/healthz', tag: 'Operations', summary: 'Liveness', auth: 'none', noStorage: true,
    ok: [json('the process is up', { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] })] },
  { method: 'GET', path: '/readyz', tag: 'Operations', summary: 'Readiness (Redis and the other checks)', auth: 'none', noStorage: true,
    description: 'Answers 503 with the same body, `status: "not_ready"`, when a check fails or readiness takes too long.',
    ok: [json('ready', {
      type: 'object', required: ['status', 'checks'],
      properties: { status: { enum: ['ready', 'not_ready'] }, checks: { type: 'object', additionalProperties: { type: 'boolean' } } },
    })] },
  { method: 'GET', path: '/metrics', tag: 'Operations', summary: 'Prometheus metrics', auth: 'none', noStorage: true,
    ok: [{ status: 200, description: 'the metrics in the Prometheus text format', mediaType: 'text/plain', body: { type: 'string' } }] },
  { method: 'GET', path: '/openapi.json', tag: 'Operations', summary: 'This OpenAPI document', auth: 'none', noStorage: true,
    ok: [json('the OpenAPI 3.1 document')] },
  { method: 'GET', path: '/docs', tag: 'Operations', summary: 'The interactive API reference (HTML)', auth: 'none', noStorage: true,
    ok: [{ status: 200, description: 'an HTML page that reads /openapi.json', mediaType: 'text/html', body: { type: 'string' } }] },

  // The console's static files (the page itself calls /v1 with the API key it is given).
  { method: 'GET', path: '/console', tag: 'Console', summary: 'The operator console (HTML)', auth: 'none', noStorage: true,
    ok: [{ status: 200, description: 'the console page', mediaType: 'text/html', body: { type: 'string' } }] },
  { method: 'GET', path: '/console/app.js', tag: 'Console', summary: "The console's script", auth: 'none', noStorage: true,
    ok: [{ status: 200, description: 'JavaScript', mediaType: 'text/javascript', body: { type: 'string' } }] },
  { method: 'GET', path: '/console/console.css', tag: 'Console', summary: "The console's style sheet", auth: 'none', noStorage: true,
    ok: [{ status: 200, description: 'CSS', mediaType: 'text/css', body: { type: 'string' } }] },

  // Provider feedback: authenticated by signatures, not API keys.
  { method: 'POST', path: '/v1/feedback/ses', tag: 'Feedback', summary: 'SES events through an SNS HTTP(S) subscription', auth: 'signature',
    description: 'Signed by SNS (the certificate of an SNS host); confirms subscriptions. 404 unless NOTIFY_SES_EVENTS_TOPIC_ARNS is set.',
    headers: [{ name: 'x-amz-sns-message-type', description: 'Notification, SubscriptionConfirmation or UnsubscribeConfirmation' }],
    body: { mediaType: 'text/plain', description: 'the SNS message (JSON, whatever the content type says)', schema: { type: 'string' } },
    ok: [json('applied, ignored, confirmed or unsubscribed', { type: 'object', properties: { status: { type: 'string' }, reason: { type: 'string' } }, required: ['status'] })],
    errors: ['not_found', 'invalid_sns_message', 'invalid_signature', 'topic_not_allowed', 'payload_too_large'] },
  { method: 'POST', path: '/v1/feedback/twilio', tag: 'Feedback', summary: 'Twilio status callbacks', auth: 'signature',
    description: 'Signed with X-Twilio-Signature over NOTIFY_PUBLIC_URL and the path; 404 unless NOTIFY_PUBLIC_URL is set with Twilio.',
    headers: [{ name: 'X-Twilio-Signature', description: "Twilio's HMAC of the URL and parameters", required: true }],
    body: { mediaType: 'application/x-www-form-urlencoded', description: "Twilio's status callback", schema: { type: 'object', additionalProperties: { type: 'string' } } },
    ok: [json('applied or ignored', { type: 'object', properties: { status: { type: 'string' }, reason: { type: 'string' } }, required: ['status'] })],
    errors: ['not_found', 'invalid_signature', 'unsupported_media_type', 'payload_too_large'] },

  // Users.
  { method: 'PUT', path: '/v1/users/:user_id', tag: 'Users', summary: 'Create or replace a profile', auth: 'apiKey', params: { user_id: userId },
    description: 'A field not sent is removed; devices and preferences are kept.',
    body: { schema: User }, ok: [json('the user')] },
  { method: 'PATCH', path: '/v1/users/:user_id', tag: 'Users', summary: 'Merge into a profile', auth: 'apiKey', params: { user_id: userId },
    description: 'Fields given replace, null removes one, absent ones stay.',
    body: { schema: UserPatch, mediaTypes: ['application/json', 'application/merge-patch+json'] }, ok: [json('the user')], errors: ['not_found'] },
  { method: 'GET', path: '/v1/users/:user_id', tag: 'Users', summary: 'A user with devices and preferences', auth: 'apiKey', params: { user_id: userId },
    ok: [json('the user')], errors: ['not_found'] },
  { method: 'DELETE', path: '/v1/users/:user_id', tag: 'Users', summary: 'Erase a user', auth: 'apiKey', params: { user_id: userId },
    description: 'Deletes the profile and devices; the history forgets the user too (even when no profile existed, then 404).',
    ok: [noContent('erased')], errors: ['not_found'] },
  { method: 'POST', path: '/v1/users/:user_id/devices', tag: 'Users', summary: 'Register a device', auth: 'apiKey', params: { user_id: userId },
    body: { schema: Device }, ok: [{ status: 201, description: 'the device', body: object() }], errors: ['not_found'] },
  { method: 'DELETE', path: '/v1/users/:user_id/devices/:token', tag: 'Users', summary: 'Remove a device', auth: 'apiKey',
    params: { user_id: userId, token: deviceToken }, ok: [noContent('removed')], errors: ['not_found'] },
  { method: 'PUT', path: '/v1/users/:user_id/preferences', tag: 'Users', summary: "Replace a user's preferences", auth: 'apiKey', params: { user_id: userId },
    body: { schema: Preferences }, ok: [json('the preferences', { $ref: '#/components/schemas/Preferences' })], errors: ['not_found'] },

  // Templates.
  { method: 'PUT', path: '/v1/templates/:name', tag: 'Templates', summary: 'Create or replace a template', auth: 'apiKey', params: { name: templateName },
    description: 'Each part is checked to compile (nunjucks, sandboxed) before it is stored.',
    body: { schema: Template }, ok: [json('the template with its version')], errors: ['template_syntax', 'template_not_allowed'] },
  { method: 'GET', path: '/v1/templates/:name', tag: 'Templates', summary: 'A template', auth: 'apiKey', params: { name: templateName },
    ok: [json('the template')], errors: ['not_found'] },
  { method: 'POST', path: '/v1/templates/:name/preview', tag: 'Templates', summary: 'Render a template with params (nothing is sent)', auth: 'apiKey',
    params: { name: templateName }, body: { schema: Preview },
    ok: [json('every part rendered', { type: 'object', properties: { name: { type: 'string' }, version: { type: 'integer' }, rendered: object() } })],
    errors: ['not_found', 'template_render_failed'] },
  { method: 'DELETE', path: '/v1/templates/:name', tag: 'Templates', summary: 'Delete a template', auth: 'apiKey', params: { name: templateName },
    ok: [noContent('deleted')], errors: ['not_found'] },

  // Dead letters.
  { method: 'GET', path: '/v1/dead-letters', tag: 'Dead letters', summary: 'List dead letters', auth: 'apiKey',
    query: { schema: Filter, extra: [limit(50, 500, 'dead letters'), { name: 'cursor', description: 'the next_cursor of the previous page', schema: { type: 'string', pattern: ENTRY_ID.source } }] },
    ok: [json('a page of dead letters', { type: 'object', properties: { dead_letters: { type: 'array', items: object() }, next_cursor: { type: ['string', 'null'] } } })] },
  { method: 'GET', path: '/v1/dead-letters/:id', tag: 'Dead letters', summary: 'A dead letter', auth: 'apiKey', params: { id: deadLetterId },
    ok: [json('the dead letter')], errors: ['not_found'] },
  { method: 'POST', path: '/v1/dead-letters/redrive', tag: 'Dead letters', summary: 'Send dead letters again', auth: 'apiKey',
    body: { schema: DeadLetterSelector },
    ok: [json('what was redriven', { type: 'object', properties: { redriven: { type: 'integer' }, items: { type: 'array', items: object() } } })] },
  { method: 'POST', path: '/v1/dead-letters/delete', tag: 'Dead letters', summary: 'Delete dead letters', auth: 'apiKey',
    body: { schema: DeadLetterSelector }, ok: [json('how many were deleted', { type: 'object', properties: { deleted: { type: 'integer' } } })] },
  { method: 'DELETE', path: '/v1/dead-letters/:id', tag: 'Dead letters', summary: 'Delete a dead letter', auth: 'apiKey', params: { id: deadLetterId },
    ok: [noContent('deleted')], errors: ['not_found'] },

  // Notifications.
  { method: 'POST', path: '/v1/notifications', tag: 'Notifications', summary: 'Send a notification', auth: 'apiKey',
    description: 'Accepted (202) once it is in Redis. Give exactly one of user_id or to, and one of template or content.',
    headers: [
      { name: 'Idempotency-Key', description: 'makes a retry safe: the same key and body answer the first response again (as does idempotency_key)' },
      { name: 'traceparent', description: 'W3C trace context; the deliveries continue the trace' },
    ],
    body: { schema: Notification },
    ok: [{ status: 202, description: 'accepted (or scheduled, with send_at)', body: Accepted,
      headers: [{ name: 'Idempotent-Replayed', description: '"true" when the response is a replay of an earlier request with the same key', schema: { type: 'string' } }] }],
    errors: ['template_not_found', 'idempotency_key_reused', 'idempotency_key_in_flight', 'too_many_recipients', 'tenant_rate_limited'] },
  { method: 'POST', path: '/v1/notifications/batch', tag: 'Notifications', summary: `Send up to ${MAX_BATCH} notifications`, auth: 'apiKey',
    description: 'Each item is checked as POST /v1/notifications checks a body; an item refused has its error in `results`, the others are accepted.',
    headers: [{ name: 'traceparent', description: 'W3C trace context' }],
    body: { schema: Batch },
    ok: [{ status: 202, description: 'one result per item, in order', body: {
      type: 'object', required: ['accepted', 'rejected', 'results'],
      properties: {
        accepted: { type: 'integer' }, rejected: { type: 'integer' },
        results: { type: 'array', items: { oneOf: [{ $ref: '#/components/schemas/Accepted' }, { $ref: '#/components/schemas/Error' }] } },
      },
    } }],
    errors: ['too_many_recipients', 'tenant_rate_limited'] },
  { method: 'GET', path: '/v1/notifications/:id', tag: 'Notifications', summary: 'A notification and its deliveries', auth: 'apiKey',
    params: { id: notificationId }, ok: [json('the notification')], errors: ['not_found'] },
  { method: 'DELETE', path: '/v1/notifications/:id', tag: 'Notifications', summary: 'Cancel what of a notification is not yet sent', auth: 'apiKey',
    params: { id: notificationId }, ok: [json('the notification')], errors: ['not_found', 'not_cancellable'] },

  // History (PostgreSQL).
  { method: 'GET', path: '/v1/notifications', tag: 'History', summary: 'Search notifications', auth: 'apiKey', description: historyOff,
    query: { schema: Search, extra: [limit(50, MAX_LIMIT, 'notifications')] },
    ok: [json('a page of notifications', { type: 'object', properties: { notifications: { type: 'array', items: object() }, next_cursor: { type: ['string', 'null'] } } })] },
  { method: 'GET', path: '/v1/users/:user_id/notifications', tag: 'History', summary: "A user's notifications", auth: 'apiKey', description: historyOff,
    params: { user_id: userId }, query: { schema: UserSearch, extra: [limit(50, MAX_LIMIT, 'notifications')] },
    ok: [json('a page of notifications', { type: 'object', properties: { notifications: { type: 'array', items: object() }, next_cursor: { type: ['string', 'null'] } } })] },
  { method: 'GET', path: '/v1/stats', tag: 'History', summary: 'Delivery and engagement counts', auth: 'apiKey', description: historyOff,
    query: { schema: Stats }, ok: [json('counts per group', { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, group_by: { type: 'string' }, rows: { type: 'array', items: object() } } })] },
  { method: 'POST', path: '/v1/notifications/:id/events', tag: 'History', summary: 'Report an open or a click', auth: 'apiKey', description: historyOff,
    params: { id: notificationId }, body: { schema: EngagementEvent }, ok: [{ status: 202, description: 'recorded', body: object() }], errors: ['not_found'] },

  // Webhooks (served when NOTIFY_WEBHOOKS is on, the default).
  { method: 'GET', path: '/v1/webhooks', tag: 'Webhooks', summary: "The tenant's webhook endpoints", auth: 'apiKey',
    ok: [json('the endpoints', { type: 'object', properties: { webhooks: { type: 'array', items: object() } } })] },
  { method: 'PUT', path: '/v1/webhooks/:name', tag: 'Webhooks', summary: 'Create or replace a webhook endpoint', auth: 'apiKey', params: { name: webhookName },
    body: { schema: WebhookEndpoint },
    ok: [json('replaced'), { status: 201, description: 'created: the only answer that carries the signing secret', body: object() }] },
  { method: 'GET', path: '/v1/webhooks/:name', tag: 'Webhooks', summary: 'A webhook endpoint', auth: 'apiKey', params: { name: webhookName },
    ok: [json('the endpoint')], errors: ['not_found'] },
  { method: 'DELETE', path: '/v1/webhooks/:name', tag: 'Webhooks', summary: 'Delete a webhook endpoint', auth: 'apiKey', params: { name: webhookName },
    ok: [noContent('deleted')], errors: ['not_found'] },
  { method: 'POST', path: '/v1/webhooks/:name/rotate-secret', tag: 'Webhooks', summary: 'Rotate the signing secret', auth: 'apiKey', params: { name: webhookName },
    ok: [json('the endpoint with its new secret')], errors: ['not_found'] },
  { method: 'POST', path: '/v1/webhooks/:name/test', tag: 'Webhooks', summary: 'Send a test event now', auth: 'apiKey', params: { name: webhookName },
    ok: [json('the attempt')], errors: ['not_found'] },
  { method: 'GET', path: '/v1/webhooks/:name/attempts', tag: 'Webhooks', summary: 'Recent delivery attempts', auth: 'apiKey', params: { name: webhookName },
    query: { extra: [{ name: 'limit', description: 'how many attempts at most (1 to NOTIFY_WEBHOOK_ATTEMPTS_KEPT, default 50)', schema: { type: 'integer', minimum: 1, default: 50 } }] },
    ok: [json('the attempts, newest first', { type: 'object', properties: { attempts: { type: 'array', items: object() } } })], errors: ['not_found'] },
  { method: 'GET', path: '/v1/webhooks/:name/dead-letters', tag: 'Webhooks', summary: "The endpoint's dead letters", auth: 'apiKey', params: { name: webhookName },
    query: { extra: [limit(50, 500, 'dead letters')] },
    ok: [json('the dead letters', { type: 'object', properties: { dead_letters: { type: 'array', items: object() } } })], errors: ['not_found'] },
  { method: 'POST', path: '/v1/webhooks/:name/dead-letters/redrive', tag: 'Webhooks', summary: "Send the endpoint's dead letters again", auth: 'apiKey',
    params: { name: webhookName }, body: { schema: WebhookRedrive },
    ok: [json('how many were redriven', { type: 'object', properties: { redriven: { type: 'integer' } } })], errors: ['not_found'] },

  // Alerts (served when NOTIFY_ALERTS is on).
  { method: 'GET', path: '/v1/alerts', tag: 'Alerts', summary: "The tenant's alert destinations and rules, with each rule's state", auth: 'apiKey',
    ok: [json('the settings and state')] },
  { method: 'PUT', path: '/v1/alerts', tag: 'Alerts', summary: "Replace the tenant's alert destinations and rules", auth: 'apiKey',
    body: { schema: AlertSettings }, ok: [json('the settings and state')] },

  // Sandbox mode only.
  { method: 'GET', path: '/v1/sandbox/alerts', tag: 'Sandbox', summary: 'The alerts the fake Slack received (sandbox mode)', auth: 'apiKey',
    query: { extra: [limit(100, 1000, 'alerts')] }, ok: [json('the alerts', { type: 'object', properties: { alerts: { type: 'array', items: {} } } })] },
  { method: 'GET', path: '/v1/sandbox/messages', tag: 'Sandbox', summary: "What the fake providers received for the tenant (sandbox mode)", auth: 'apiKey',
    query: { extra: [limit(100, 1000, 'messages')] }, ok: [json('the messages', { type: 'object', properties: { messages: { type: 'array', items: {} } } })] },
];
