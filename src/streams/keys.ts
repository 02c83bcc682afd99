// Every Redis key and group name the service uses, built in one place.
import type { ProviderName } from '../domain/types.js';

/** A lane is one outbound stream: push splits by platform, sms and email fail over between providers inside their lane. */
export const LANES = ['apns', 'fcm', 'sms', 'email'] as const;
export type Lane = (typeof LANES)[number];

/** Providers tried in order for each lane (failover). */
export const LANE_PROVIDERS: Record<Lane, readonly ProviderName[]> = {
  apns: ['apns'],
  fcm: ['fcm'],
  sms: ['twilio', 'sns'],
  email: ['ses'],
};

export const INTAKE_GROUP = 'intake';
export const SEND_GROUP = 'send';

export interface Keys {
  /** Ingest stream: HTTP ingress and direct producers XADD here. */
  readonly ingest: string;
  /** Dead-letter stream: entries that cannot be processed, with the reason. */
  readonly dead: string;
  /** Sorted set of entries waiting for a time (retries, schedules), scored by due time in ms. */
  readonly delayed: string;
  /**
   * Status event stream: one entry per change of a notification or delivery record, appended by the script that makes
   * the change (src/history/events.ts; read by the archiver's consumer group).
   */
  readonly events: string;
  lane(lane: Lane): string;
  /** A lane's bulk stream: deliveries of big notifications and of tenants with a backlog, read beside the lane (see NOTIFY_BULK_THRESHOLD). */
  bulkLane(lane: Lane): string;
  /**
   * Hash: one notification's meta and its deliveries. Per tenant: ids are the tenant's own (a producer's XADD `id`),
   * so two tenants' `order-1` are two notifications.
   */
  notification(tenant: string, id: string): string;
  /** Hash: a notification record as versions before per-tenant ids kept it (see src/store/legacy-records.ts). */
  legacyNotification(id: string): string;
  /** String: set once a worker's scan found no legacy notification records left to move. */
  legacyRecordsMoved: string;
  /** Hash: a user's profile, preferences and devices. */
  user(tenant: string, userId: string): string;
  /** String (JSON): a template. */
  template(tenant: string, name: string): string;
  /** String (JSON): an Idempotency-Key's reservation, then its stored response. */
  idempotency(tenant: string, keyHash: string): string;
  /** String: the notification id that owns an event_id within the dedupe window. */
  event(tenant: string, eventId: string): string;
  /** Hash: the open coalescing window of a user and collapse key (`ck` is a hash of the key). */
  collapse(tenant: string, userId: string, ck: string): string;
  /** Sorted set: a user's deliveries in one rate-limit scope (`push`, `marketing.email`), scored by time. */
  rate(tenant: string, userId: string, scope: string): string;
  /** Hash: a tenant's suppressed email addresses (field: sha256 of the address; value: why, since when). */
  suppression(tenant: string): string;
  /** String: marks one piece of provider feedback as applied (`id`: a hash of the provider's event id). */
  feedbackSeen(id: string): string;
  /** Hash: a tenant's admission token bucket (`tokens`, `at`; see tenant-admit.lua). */
  tenantBucket(tenant: string): string;
}

/** String: where a stream ended when its lost consumer group was recreated (see ensure-group.lua). */
export const replayMarker = (stream: string, group: string): string => `${stream}:replay:${group}`;

/** Builds the key set for a prefix (tests use a random prefix each). */
export function makeKeys(prefix: string): Keys {
  return {
    ingest: `${prefix}:in`,
    dead: `${prefix}:dead`,
    delayed: `${prefix}:delayed`,
    events: `${prefix}:events`,
    lane: (lane) => `${prefix}:out:${lane}`,
    bulkLane: (lane) => `${prefix}:out:${lane}:bulk`,
    // Ids never contain ':' (they are [A-Za-z0-9_-]), so a legacy key `n:<id>` never looks like `n:<tenant>:<id>`.
    notification: (tenant, id) => `${prefix}:n:${tenant}:${id}`,
    legacyNotification: (id) => `${prefix}:n:${id}`,
    legacyRecordsMoved: `${prefix}:n-moved`,
    user: (tenant, userId) => `${prefix}:u:${tenant}:${userId}`,
    template: (tenant, name) => `${prefix}:tpl:${tenant}:${name}`,
    // User ids never contain '|', so it ends the user id unambiguously.
    idempotency: (tenant, keyHash) => `${prefix}:idem:${tenant}:${keyHash}`,
    event: (tenant, eventId) => `${prefix}:evt:${tenant}:${eventId}`,
    collapse: (tenant, userId, ck) => `${prefix}:co:${tenant}:${userId}|${ck}`,
    rate: (tenant, userId, scope) => `${prefix}:rl:${tenant}:${userId}|${scope}`,
    suppression: (tenant) => `${prefix}:sup:${tenant}`,
    feedbackSeen: (id) => `${prefix}:fb:${id}`,
    tenantBucket: (tenant) => `${prefix}:tb:${tenant}`,
  };
}
