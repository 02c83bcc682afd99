// APNs adapter on @parse/node-apn: one HTTP/2 session, token (JWT) auth, no hidden retries — ours are in charge.
import { createHash } from 'node:crypto';
import apn from '@parse/node-apn';
import { classifyApns } from './classify.js';
import type { ApnsConfig } from './config.js';
import { failure, networkFailure } from './failure.js';
import { guardedSend, wrongChannel } from './guard.js';
import type { ProviderAdapter, PushMessage, SendResult } from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * apns-id for a delivery: the deliveryId itself when it is a UUID, else a name-based UUID (SHA-1, version 5 layout) of it,
 * so every attempt of one delivery carries the same id and duplicates can be matched up in Apple's records.
 */
export function apnsIdFor(deliveryId: string): string {
  if (UUID.test(deliveryId)) return deliveryId.toLowerCase();
  const h = createHash('sha1').update(deliveryId).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The APNs request for one push: alert title/body in `aps`, app data beside it. */
export function buildApnsNotification(m: PushMessage, topic: string): apn.Notification {
  const note = new apn.Notification();
  note.topic = topic;
  note.pushType = 'alert';
  note.priority = m.priority === 'high' ? 10 : 5;
  note.id = apnsIdFor(m.deliveryId);
  if (m.collapseKey) note.collapseId = m.collapseKey;
  note.alert = m.content.title !== undefined ? { title: m.content.title, body: m.content.body } : { body: m.content.body };
  if (m.data) note.payload = { ...m.data };
  return note;
}

interface ApnsFailed {
  status?: number | string;
  response?: { reason?: string; timestamp?: number | string };
  error?: Error;
}

/** Turns node-apn's per-device failure entry into a SendFailure. */
function classifyFailed(f: ApnsFailed): SendResult {
  const status = typeof f.status === 'number' ? f.status : undefined;
  if (status !== undefined) {
    // node-apn swaps the body of 500 InternalServerError and 403 ExpiredProviderToken for a VError; keep the reason.
    const swapped = status === 500 ? 'InternalServerError' : f.error?.message === 'ExpiredProviderToken' ? 'ExpiredProviderToken' : undefined;
    const reason = f.response?.reason ?? swapped;
    const ts = f.response?.timestamp;
    return classifyApns({ status, code: reason, timestamp: ts === undefined ? undefined : Number(ts) });
  }
  // No status: connection trouble, request timeout, or "client session is either closed or destroyed" after another
  // send's 500 closed the shared session. All retryable; the next send opens a new session.
  return networkFailure('apns', f.error) ?? failure('apns', { code: 'connection', retryable: true, providerSide: true, detail: f.error?.message });
}

export function createApnsAdapter(cfg: ApnsConfig): ProviderAdapter {
  const options: apn.ProviderOptions = {
    token: { key: cfg.key, keyId: cfg.keyId, teamId: cfg.teamId },
    production: cfg.production,
    // node-apn retries 429/5xx at once (it misreads Retry-After) and closes the session after a 500; with 0 it never retries.
    connectionRetryLimit: 0,
    requestTimeout: cfg.timeoutMs,
  };
  if (cfg.address) options.address = cfg.address;
  if (cfg.port) options.port = cfg.port;
  if (cfg.ca) options.ca = [cfg.ca];
  const provider = new apn.Provider(options);

  return {
    name: 'apns',
    channel: 'push',
    send(message) {
      const wrong = wrongChannel('apns', 'push', message);
      if (wrong) return Promise.resolve(wrong);
      const note = buildApnsNotification(message as PushMessage, cfg.topic);
      return guardedSend('apns', cfg.timeoutMs, async () => {
        const { sent, failed } = await provider.send(note, message.to);
        const ok = sent[0] as { 'apns-id'?: string } | undefined;
        if (ok) return { ok: true, providerMessageId: ok['apns-id'] ?? note.id };
        return classifyFailed((failed[0] ?? {}) as ApnsFailed);
      }, undefined, false);
    },
    close: () => new Promise<void>((resolve) => provider.shutdown(() => resolve())),
  };
}
