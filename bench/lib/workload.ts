// What the bench sends: users (in the service's hash layout and as JSON records for the BullMQ baseline), one
// template, and the notifications themselves, each carrying a bench timestamp for the fakes' latency probe.
import type { Redis } from 'ioredis';
import { DEVICE_FIELD_PREFIX, PROFILE_FIELD, type Device } from '../../src/domain/user.js';
import type { Channel, Platform } from '../../src/domain/types.js';
import { makeKeys, type Keys } from '../../src/streams/keys.js';
import { TemplateStore } from '../../src/store/templates.js';
import { BENCH_TENANT } from './service.js';

export const PREFIX = 'notify';
export const KEYS = makeKeys(PREFIX);
export const TEMPLATE = 'bench';

/** The template both pipelines render: push title/body, an SMS and an email whose text carries the `[bt=…]` marker. */
export const TEMPLATE_PARTS = {
  push: { title: 'Hello {{ name }}', body: 'Your order {{ order }} has shipped.{{ pad }}' },
  sms: { body: 'Hi {{ name }}, order {{ order }} has shipped. [bt={{ bt }}]{{ pad }}' },
  email: {
    subject: 'Order {{ order }} shipped [bt={{ bt }}]',
    text: 'Hi {{ name }},\n\nyour order {{ order }} has shipped.{{ pad }}',
    html: '<p>Hi {{ name }},</p><p>your order <b>{{ order }}</b> has shipped.</p>',
  },
};

export interface Workload {
  users: number;
  channels: Channel[];
  platform: Platform | 'mix';
  /** Extra bytes of text in every notification (params.pad, rendered into the body). */
  payloadBytes: number;
  /**
   * Per-user checks on: every notification carries a unique `event_id` (deduplicated against the window) and each user
   * has a per-channel cap (`rateLimitSpec`) high enough never to bite, so the work of both checks is done and measured.
   */
  checks: boolean;
}

/** Cap per user and channel while checks are on: counted and checked for every delivery, never reached. */
export const CHECK_CAP = { limit: 1_000_000, windowMs: 3_600_000 };
/** The same cap in the service's NOTIFY_RATE_LIMITS syntax. */
export const rateLimitSpec = (w: Workload): string => w.channels.map((c) => `${c}:${CHECK_CAP.limit}/1h`).join(',');

export const userId = (i: number): string => `u${i}`;
export const platformOf = (w: Workload, i: number): Platform => (w.platform === 'mix' ? (i % 2 ? 'android' : 'ios') : w.platform);
export const tokenOf = (i: number, platform: Platform): string =>
  platform === 'ios' ? i.toString(16).padStart(64, 'a') : `fcm_${i.toString(36).padStart(40, 'x')}`;
export const phoneOf = (i: number): string => `+1415${String(1_000_000 + (i % 9_000_000)).padStart(7, '0')}`;
export const emailOf = (i: number): string => `user${i}@bench.example.com`;

/** The JSON user record of the BullMQ baseline (a Node team's natural layout). */
export interface BullUser {
  id: string;
  email: string;
  phone: string;
  devices: { platform: Platform; token: string }[];
  prefs: { channels: Partial<Record<Channel, boolean>>; categories: Record<string, Partial<Record<Channel, boolean>>> };
}
export const bullUserKey = (id: string): string => `bq:user:${id}`;
export const bullTemplateKey = (name: string): string => `bq:tpl:${name}`;

/**
 * Writes `w.users` users and the template, pipelined: in the service's layout under `keys`, and (with `bull`) as the
 * BullMQ baseline's JSON records. On a cluster every pipeline must stay in one slot: `keys` carry the hash tag, and
 * the BullMQ layout (untagged) is left out.
 */
export async function seed(redis: Redis, w: Workload, keys: Keys = KEYS, bull = true): Promise<void> {
  const now = Date.now();
  const iso = new Date(now).toISOString();
  for (let start = 0; start < w.users; start += 2000) {
    const pipe = redis.pipeline();
    for (let i = start; i < Math.min(w.users, start + 2000); i++) {
      const id = userId(i);
      const platform = platformOf(w, i);
      const token = tokenOf(i, platform);
      const device: Device = { token, platform, active: true, registered_at: now };
      pipe.hset(keys.user(BENCH_TENANT, id),
        PROFILE_FIELD, JSON.stringify({ email: emailOf(i), phone: phoneOf(i), created_at: iso, updated_at: iso }),
        DEVICE_FIELD_PREFIX + token, JSON.stringify(device));
      if (!bull) continue;
      const bu: BullUser = { id, email: emailOf(i), phone: phoneOf(i), devices: [{ platform, token }], prefs: { channels: {}, categories: {} } };
      pipe.set(bullUserKey(id), JSON.stringify(bu));
    }
    await pipe.exec();
  }
  await new TemplateStore(redis, keys).put(BENCH_TENANT, TEMPLATE, TEMPLATE_PARTS);
  if (bull) await redis.set(bullTemplateKey(TEMPLATE), JSON.stringify(TEMPLATE_PARTS));
}

const pads = new Map<number, string>();
export function pad(bytes: number): string {
  let p = pads.get(bytes);
  if (p === undefined) pads.set(bytes, (p = bytes > 0 ? ` ${'x'.repeat(bytes - 1)}` : ''));
  return p;
}

/** Template parameters of notification `i`; `bt` is the bench timestamp (epoch ms, sub-ms precision). */
export function params(w: Workload, i: number, bt: string): Record<string, string> {
  return { name: `User ${i}`, order: `#${100000 + i}`, bt, pad: pad(w.payloadBytes) };
}

/** The POST /v1/notifications body for notification `i` (also the XADD payload, plus `tenant`). */
export function notificationBody(w: Workload, i: number, bt: string): Record<string, unknown> {
  return {
    user_id: userId(i % w.users), channels: w.channels, template: TEMPLATE,
    params: params(w, i, bt), data: { _bt: bt }, ...(w.checks && { event_id: `evt-${bt}-${i}` }),
  };
}

/** The README's XADD contract: field `payload` = the POST body plus `tenant`. */
export function xaddPayload(w: Workload, i: number, bt: string): string {
  return JSON.stringify({ tenant: BENCH_TENANT, ...notificationBody(w, i, bt) });
}

/** Deliveries one notification makes (one device per user). */
export const deliveriesPer = (w: Workload): number => w.channels.length;
