// /v1/notifications: accept one or a batch (202 once in Redis; Idempotency-Key honoured), read what became of one,
// and cancel what of it is not yet sent.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { StoredResponse } from '../../domain/idempotency.js';
import { NotificationSchema, type NotificationInput } from '../../domain/schemas.js';
import type { Accepted, NotificationStore } from '../../store/notifications.js';
import type { AuthEnv } from '../auth.js';
import { pathParam, readJson } from '../body.js';
import { ApiError, fromZod, issueMessages, type ErrorBody } from '../errors.js';
import { claimKeys, completion, idempotencyKey, releaseAll, settle, type Claim, type ClaimOutcome } from '../idempotency.js';
import type { KnownTemplates } from '../known-templates.js';
import { traceAccept } from '../accept-trace.js';
import { recipientsOf, type TenantAdmission } from '../admission.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { History } from '../../history/index.js';
import { acceptedResponse, holdFor, notificationView, toAccepted } from './notification-view.js';

export { notificationView } from './notification-view.js';

export const MAX_BATCH = 1000;
export const BatchSchema = z.strictObject({ notifications: z.array(z.unknown()).min(1).max(MAX_BATCH) });
export const NOTIFICATION_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const NOTIFICATION_ID_RULE = 'notification ids are 1-64 characters of letters, digits, _ and -';
type Checked = { ok: true; input: NotificationInput; holdMs: number } | { ok: false; error: ErrorBody };

export interface NotificationRouteDeps {
  notifications: NotificationStore;
  templates: KnownTemplates;
  metrics?: Metrics;
  /** Per-tenant admission limits (none: unlimited). */
  admission?: TenantAdmission;
  /** With history: a notification whose Redis record has expired is read from PostgreSQL. */
  history?: History;
  now?: () => number;
}

const replayed = (c: Context, response: StoredResponse) => c.json(response, 202, { 'Idempotent-Replayed': 'true' });

export function notificationRoutes(deps: NotificationRouteDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const now = deps.now ?? Date.now;
  const store = deps.notifications;
  const controls = store.controls;

  app.post('/', async (c) => {
    const input = await readJson(c, NotificationSchema);
    const tenant = c.get('tenant');
    const at = now();
    const holdMs = holdFor(input, at, controls.scheduleHorizonMs);
    const header = c.req.header('idempotency-key');
    const keyField = header !== undefined ? 'Idempotency-Key' : 'idempotency_key';
    const key = controls.enabled ? idempotencyKey(header ?? input.idempotency_key, keyField) : undefined;
    const [claimed] = key !== undefined ? await claimKeys(store, tenant, [{ key, body: input, field: keyField }]) : [undefined];
    if (claimed?.kind === 'replay') return replayed(c, claimed.response);
    if (claimed?.kind === 'error') throw claimed.error;
    const claim = claimed?.claim;
    const trace = traceAccept('/v1/notifications', c.req.header('traceparent'), 1);
    try {
      if (input.template !== undefined && (await deps.templates.missing(tenant, [input.template])).size > 0) {
        throw new ApiError('template_not_found', `no template named "${input.template}"`, 'template');
      }
      // Admission last, so a request refused for any other reason takes nothing from the tenant's allowance.
      await deps.admission?.take(tenant, recipientsOf(input), input.to !== undefined ? 'to' : 'user_id');
      const item = toAccepted(tenant, input, at, holdMs, trace.traceparent(0));
      const own = acceptedResponse(item);
      const [result] = await store.accept([{ ...item, ...(claim && { idempotency: completion(claim, own) }) }]);
      const { response, replayed: again } = settle(result!, own, claim, keyField);
      trace.end([response.id]);
      if (!again) deps.metrics?.accepted.inc({ tenant });
      return again ? replayed(c, response) : c.json(response, 202);
    } catch (err) {
      trace.end([undefined], err);
      await releaseAll(store, tenant, [claim]);
      throw err;
    }
  });

  app.post('/batch', async (c) => {
    const { notifications } = await readJson(c, BatchSchema);
    const tenant = c.get('tenant');
    const at = now();
    const checked = notifications.map((raw, i): Checked => {
      const parsed = NotificationSchema.safeParse(raw, { error: issueMessages });
      if (!parsed.success) return { ok: false, error: fromZod(parsed.error, `notifications.${i}`).toBody() };
      try {
        return { ok: true, input: parsed.data, holdMs: holdFor(parsed.data, at, controls.scheduleHorizonMs, `notifications.${i}.send_at`) };
      } catch (err) {
        return { ok: false, error: (err as ApiError).toBody() };
      }
    });
    const claims: (ClaimOutcome | undefined)[] = await claimKeys(store, tenant, checked.map((ch, i) => (
      ch.ok && controls.enabled && ch.input.idempotency_key !== undefined
        ? { key: ch.input.idempotency_key, body: ch.input, field: `notifications.${i}.idempotency_key` } : undefined
    )));
    const fresh = (i: number): Claim | undefined => (claims[i]?.kind === 'fresh' ? claims[i].claim : undefined);
    const missing = await deps.templates.missing(tenant, checked.flatMap((ch, i) => (
      ch.ok && ch.input.template && (claims[i] === undefined || claims[i]!.kind === 'fresh') ? [ch.input.template] : []
    )));
    const items: { at: number; item: Accepted; own: StoredResponse; cost: number }[] = [];
    const trace = traceAccept('/v1/notifications/batch', c.req.header('traceparent'), checked.length);
    const results: (StoredResponse | ErrorBody)[] = checked.map((ch, i) => {
      if (!ch.ok) return ch.error;
      const claimed = claims[i];
      if (claimed?.kind === 'replay') return claimed.response;
      if (claimed?.kind === 'error') return claimed.error.toBody();
      if (ch.input.template !== undefined && missing.has(ch.input.template)) {
        void releaseAll(store, tenant, [fresh(i)]);
        return new ApiError('template_not_found', `no template named "${ch.input.template}"`, `notifications.${i}.template`).toBody();
      }
      const item = toAccepted(tenant, ch.input, at, ch.holdMs, trace.traceparent(i));
      const own = acceptedResponse(item);
      const claim = fresh(i);
      items.push({ at: i, item: { ...item, ...(claim && { idempotency: completion(claim, own) }) }, own, cost: recipientsOf(ch.input) });
      return own;
    });
    let accepted;
    try {
      // The batch is admitted whole or not at all; it asks for the deliveries of the items that would be accepted.
      await deps.admission?.take(tenant, items.reduce((sum, x) => sum + x.cost, 0), 'notifications');
      accepted = await store.accept(items.map((x) => x.item));
    } catch (err) {
      trace.end([], err);
      await releaseAll(store, tenant, items.map((x) => fresh(x.at)));
      throw err;
    }
    accepted.forEach((result, j) => {
      const { at: i, own } = items[j]!;
      try {
        results[i] = settle(result, own, fresh(i), `notifications.${i}.idempotency_key`).response;
      } catch (err) {
        results[i] = (err as ApiError).toBody();
      }
    });
    const ok = results.filter((r) => 'id' in r).length;
    trace.end(results.map((r) => ('id' in r ? r.id : undefined)));
    deps.metrics?.accepted.inc({ tenant }, items.length);
    return c.json({ accepted: ok, rejected: results.length - ok, results }, 202);
  });

  app.get('/:id', async (c) => {
    const id = pathParam(c, 'id', NOTIFICATION_ID, NOTIFICATION_ID_RULE);
    const tenant = c.get('tenant');
    // Redis first: it has the live record; past the hot retention only the history has it, in the same shape.
    const n = (await store.get(id, tenant)) ?? (await deps.history?.getNotification(tenant, id));
    if (!n) throw new ApiError('not_found', 'no such notification');
    return c.json(notificationView(n), 200);
  });

  app.delete('/:id', async (c) => {
    const id = pathParam(c, 'id', NOTIFICATION_ID, NOTIFICATION_ID_RULE);
    const outcome = await store.cancel(id, c.get('tenant'), now());
    if (outcome === 'not_found') {
      // Only in the history: its record expired, which it does once the notification is terminal (or past the retention).
      if (await deps.history?.getNotification(c.get('tenant'), id)) throw new ApiError('not_cancellable', 'the notification is finished: only its history is kept');
      throw new ApiError('not_found', 'no such notification');
    }
    if (outcome === 'not_cancellable') throw new ApiError('not_cancellable');
    const n = await store.get(id, c.get('tenant'));
    if (!n) throw new ApiError('not_found', 'no such notification');
    return c.json(notificationView(n), 200);
  });

  return app;
}
