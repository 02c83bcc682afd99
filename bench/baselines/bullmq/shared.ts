// The BullMQ baseline's queues and job shapes, shared by its producer (in the bench) and its workers.
import { Queue, type DefaultJobOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Channel } from '../../../src/domain/types.js';

export const BULL_PREFIX = 'bq';
export const INGEST_QUEUE = 'ingest';
/** One queue per provider lane, as in the service. */
export const LANES = ['apns', 'fcm', 'sms', 'email'] as const;
export type BullLane = (typeof LANES)[number];

/** What a producer adds: the same fields as POST /v1/notifications. */
export interface IngestJob {
  tenant: string;
  user_id: string;
  channels?: Channel[];
  template: string;
  params: Record<string, unknown>;
  category?: string;
  event_id?: string;
  priority?: 'high' | 'normal';
  data?: Record<string, string>;
}

/** One delivery for a channel worker. */
export interface SendJob {
  nid: string;
  key: string;
  channel: Channel;
  to: string;
  content: Record<string, string>;
  priority: 'high' | 'normal';
  data?: Record<string, string>;
}

/** Completed jobs are removed at once, failed ones kept (bounded), as the BullMQ docs recommend for high volume. */
export const INGEST_JOB_OPTIONS: DefaultJobOptions = { removeOnComplete: true, removeOnFail: 1000 };
/** Sends retry like the service's (5 attempts, exponential backoff from 1 s). */
export const SEND_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: true, removeOnFail: 1000, attempts: 5, backoff: { type: 'exponential', delay: 1000 },
};

export const bullConnection = (url: string): Redis => new Redis(url, { maxRetriesPerRequest: null });

export function ingestQueue(url: string): Queue<IngestJob> {
  return new Queue<IngestJob>(INGEST_QUEUE, { connection: bullConnection(url), prefix: BULL_PREFIX, defaultJobOptions: INGEST_JOB_OPTIONS });
}
