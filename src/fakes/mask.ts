// One log-safe summary per received fake message: addresses masked, no bodies, no credentials.
import { maskAddress as maskOne } from '../domain/mask.js';
import type { FakeMessage } from './store.js';

/** Masks each address of a comma-joined list the same way records and logs do. */
export const maskAddress = (to: string): string => to.split(',').map(maskOne).join(',');

export interface FakeMessageSummary {
  provider: string;
  status: number;
  error?: string;
  to: string;
  messageId?: string;
  bytes: number;
}

/**
 * What a sandbox logs for a received message.
 * @example startFakes({ onMessage: (m) => log.info(summarizeFakeMessage(m), 'fake provider received') })
 */
export function summarizeFakeMessage(m: FakeMessage): FakeMessageSummary {
  const s: FakeMessageSummary = { provider: m.provider, status: m.status, to: maskAddress(m.to), bytes: m.bytes };
  if (m.error) s.error = m.error;
  if (m.messageId) s.messageId = m.messageId;
  return s;
}
