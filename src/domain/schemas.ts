// Request shapes for the HTTP API and the ingest stream, validated with zod.
import { z } from 'zod';
import { CHANNELS } from './types.js';
import { MAX_IDEMPOTENCY_KEY } from './idempotency.js';
import { CLOCK_TIME } from './quiet-hours.js';
import { CONTENT_NEEDS, inlineContent } from './content.js';
import { jsonBoundsProblem } from './json-bounds.js';
import { limitProblem } from './limits.js';

export const USER_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;
export const TEMPLATE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const E164 = /^\+[1-9]\d{6,14}$/;
/** APNs device tokens are hex (64 today; allow longer). FCM registration tokens are URL-safe base64 with ':'. */
export const APNS_TOKEN = /^[0-9a-fA-F]{64,200}$/;
export const FCM_TOKEN = /^[A-Za-z0-9_:-]{32,4096}$/;

const userId = z.string().regex(USER_ID, 'user ids are 1-128 characters of letters, digits and ._:@+=-');
const channels = z.array(z.enum(CHANNELS)).min(1).max(3);
const shortText = (max: number) => z.string().max(max);

export const UserSchema = z.strictObject({
  email: z.email().max(254).optional(),
  phone: z.string().regex(E164, 'phone must be E.164, e.g. +14155550100').optional(),
  locale: z.string().regex(/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$/, 'locale must be a BCP 47 tag, e.g. en-US').optional(),
  timezone: z.string().refine(isTimeZone, 'timezone must be an IANA zone, e.g. Europe/Paris').optional(),
});
export type UserInput = z.infer<typeof UserSchema>;

export const DeviceSchema = z
  .strictObject({ platform: z.enum(['ios', 'android']), token: z.string().min(1).max(4096) })
  .superRefine((d, ctx) => {
    const ok = d.platform === 'ios' ? APNS_TOKEN.test(d.token) : FCM_TOKEN.test(d.token);
    if (!ok) {
      const what = d.platform === 'ios' ? 'an APNs token is 64+ hex characters' : 'an FCM token is 32+ characters of A-Z a-z 0-9 _ : -';
      ctx.addIssue({ code: 'custom', path: ['token'], message: `invalid ${d.platform} token: ${what}` });
    }
  });
export type DeviceInput = z.infer<typeof DeviceSchema>;

const channelFlags = z.strictObject({ push: z.boolean().optional(), sms: z.boolean().optional(), email: z.boolean().optional() });
const clockTime = z.string().regex(CLOCK_TIME, 'a local time HH:MM or HH:MM:SS, e.g. 22:00');
export const PreferencesSchema = z.strictObject({
  channels: channelFlags.default({}),
  categories: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), channelFlags).default({}),
  /** Non-urgent push and SMS wait until `end` (in the user's time zone, UTC when the profile has none). */
  quiet_hours: z
    .strictObject({ start: clockTime, end: clockTime })
    .refine((q) => q.start !== q.end, 'start and end must differ')
    .optional(),
});
export type Preferences = z.infer<typeof PreferencesSchema>;

export const TemplateSchema = z
  .strictObject({
    push: z.strictObject({ title: shortText(1000).optional(), body: shortText(4000) }).optional(),
    sms: z.strictObject({ body: shortText(1600) }).optional(),
    email: z
      .strictObject({ subject: shortText(1000), html: shortText(500_000).optional(), text: shortText(500_000).optional() })
      .refine((e) => e.html !== undefined || e.text !== undefined, 'email needs html or text')
      .optional(),
    /** A variable that is undefined (or null) where it is output fails the render instead of printing nothing. */
    strict: z.boolean().optional(),
  })
  .refine((t) => t.push || t.sms || t.email, 'a template needs at least one of push, sms, email');
export type TemplateInput = z.infer<typeof TemplateSchema>;

export const ContentSchema = z.strictObject({
  title: shortText(1000).optional(),
  body: shortText(4000).optional(),
  subject: shortText(1000).optional(),
  html: shortText(500_000).optional(),
  text: shortText(500_000).optional(),
});
export type ContentInput = z.infer<typeof ContentSchema>;

/** `params`: a JSON object of at most this many levels (params itself is the first) and bytes of UTF-8 JSON. */
export const PARAMS_MAX_DEPTH = 32;
export const PARAMS_MAX_BYTES = 16_384;
/** `data`: flat, at most this many keys, string values at most this many characters. */
export const DATA_MAX_KEYS = 50;
export const DATA_MAX_VALUE_CHARS = 1024;
const DATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const DATA_RULES = `data is flat: at most ${DATA_MAX_KEYS} keys of 1-64 letters, digits and _.-, each value a string of up to ${DATA_MAX_VALUE_CHARS} characters, a number or a boolean`;

const dataValue = z.union([
  z.string().max(DATA_MAX_VALUE_CHARS, `data values are at most ${DATA_MAX_VALUE_CHARS} characters (${DATA_RULES})`),
  z.number(),
  z.boolean(),
], { error: `data values must be strings, numbers or booleans (${DATA_RULES})` });

/**
 * Depth and size are measured without recursion before anything recursive (the size as JSON, the idempotency
 * fingerprint, the renderer) sees the value: a few kilobytes of `[[[[…` would otherwise overflow the stack.
 */
export const ParamsSchema = z.record(z.string(), z.unknown()).superRefine((p, ctx) => {
  const problem = jsonBoundsProblem(p, { maxDepth: PARAMS_MAX_DEPTH, maxBytes: PARAMS_MAX_BYTES });
  if (problem?.kind === 'depth') {
    ctx.addIssue({ code: 'custom', message: `params may be nested at most ${PARAMS_MAX_DEPTH} levels deep (params itself is the first)` });
  } else if (problem) {
    ctx.addIssue({ code: 'custom', message: `params are limited to 16 KiB (${PARAMS_MAX_BYTES} bytes) of JSON` });
  }
});

/** POST /v1/templates/{name}/preview: the params a notification would carry, bounded the same way. */
export const PreviewSchema = z.strictObject({ params: ParamsSchema.optional() });

const notificationShape = {
  user_id: userId.optional(),
  to: z.array(z.strictObject({ user_id: userId })).min(1).max(1000).optional(),
  channels: channels.optional(),
  template: z.string().regex(TEMPLATE_NAME, 'template names are 1-64 characters of letters, digits and ._-').optional(),
  params: ParamsSchema.optional(),
  content: ContentSchema.optional(),
  category: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  event_id: z.string().min(1).max(255).optional(),
  priority: z.enum(['high', 'normal']).optional(),
  /** Hold until then (ISO 8601 with an offset); checked against the clock by the ingress. */
  send_at: z.iso.datetime({ offset: true }).optional(),
  /** Notifications for one user with the same key within the collapse window become one; also APNs/FCM's collapse id. */
  collapse_key: z.string().min(1).max(64).optional(),
  /** With collapse_key: a template rendered with {count, notifications, latest} when several were folded together. */
  digest_template: z.string().regex(TEMPLATE_NAME, 'template names are 1-64 characters of letters, digits and ._-').optional(),
  data: z
    .record(z.string().regex(DATA_KEY, `not a valid data key (${DATA_RULES})`), dataValue)
    .refine((d) => Object.keys(d).length <= DATA_MAX_KEYS, `at most ${DATA_MAX_KEYS} data keys (${DATA_RULES})`)
    .optional(),
};

interface Checked {
  user_id?: string; to?: unknown; template?: string; content?: ContentInput; params?: unknown; collapse_key?: string;
  digest_template?: string; channels?: readonly (typeof CHANNELS)[number][]; data?: Record<string, string | number | boolean>;
}

function checkNotification(n: Checked, ctx: z.RefinementCtx): void {
  checkLimits(n, ctx);
  if (n.digest_template !== undefined && n.collapse_key === undefined) {
    ctx.addIssue({ code: 'custom', path: ['digest_template'], message: 'digest_template needs a collapse_key' });
  }
  if ((n.user_id === undefined) === (n.to === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['user_id'], message: 'give exactly one of user_id or to' });
  }
  if ((n.template === undefined) === (n.content === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['template'], message: 'give exactly one of template or content' });
  }
  const nothing = n.content !== undefined ? nothingToSend(n.content, n.channels) : undefined;
  if (nothing) ctx.addIssue({ code: 'custom', path: ['content'], message: nothing });
}

/**
 * Inline content that no channel it may go to (the named ones, or all) can send would be accepted and never sent:
 * refused, saying what each of those channels needs.
 */
export function nothingToSend(content: ContentInput, named: readonly (typeof CHANNELS)[number][] | undefined): string | undefined {
  const channels = named ?? CHANNELS;
  if (channels.some((ch) => inlineContent(ch, content) !== null)) return undefined;
  const needs = channels.map((ch) => CONTENT_NEEDS[ch]).join('; ');
  return named
    ? `nothing in it can be sent by ${channels.join(' or ')}: ${needs}`
    : `nothing in it can be sent by any channel: ${needs}`;
}

/**
 * Inline content is sent as it is: every channel it may go to (the named ones, or all) must take its size. A template's
 * render is checked when it is rendered; here only its data, which push carries whatever the template says.
 */
function checkLimits(n: Checked, ctx: z.RefinementCtx): void {
  const channels = n.channels ?? CHANNELS;
  if (n.content === undefined) {
    const problem = channels.includes('push') && n.data ? limitProblem('push', { body: '' }, n.data) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['data'], message: problem });
    return;
  }
  for (const channel of channels) {
    const content = inlineContent(channel, n.content);
    const problem = content && limitProblem(channel, content, n.data);
    if (!problem) continue;
    const c = n.content;
    const path = channel === 'sms' ? ['content', c.body !== undefined ? 'body' : 'text']
      : channel === 'push' && limitProblem('push', content, undefined) === undefined ? ['data'] : ['content'];
    const hint = n.channels ? '' : ' (channels was not given, so every channel counts; name the ones you mean)';
    ctx.addIssue({ code: 'custom', path, message: `${problem}${hint}` });
  }
}

export const NotificationSchema = z
  .strictObject({ ...notificationShape, idempotency_key: z.string().min(1).max(MAX_IDEMPOTENCY_KEY).optional() })
  .superRefine(checkNotification);
export type NotificationInput = z.infer<typeof NotificationSchema>;

/** What travels in the ingest stream: the POST body plus who sent it (and, from the HTTP ingress, the id and time). */
export const StreamEntrySchema = z
  .strictObject({
    ...notificationShape,
    tenant: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
    accepted_at: z.number().int().positive().optional(),
  })
  .superRefine(checkNotification);
export type StreamEntry = z.infer<typeof StreamEntrySchema>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
