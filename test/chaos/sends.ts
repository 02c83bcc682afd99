// Counts what reached the fake providers per notification marker and delivery slot (apns, fcm, sms, email).
import type { FakeMessage } from '../../src/fakes/index.js';

export type Slot = 'apns' | 'fcm' | 'sms' | 'email';

export interface SlotSends {
  /** Requests the provider accepted (2xx): real sends. */
  ok: number;
  /** Every request, failed ones included. */
  tried: number;
  /** Accepted sends answered so late that the sender had surely given up (a timeout): a resend is expected. */
  late: number;
  /** When each accepted send arrived (ms since epoch). */
  at: number[];
}

/** The marker a notification carries in its content, wherever the provider puts it. */
export function markerOf(m: FakeMessage): string | undefined {
  const b = m.body;
  switch (m.provider) {
    case 'apns': return b.aps?.alert?.body;
    case 'fcm': return b.message?.notification?.body;
    case 'twilio': return b.Body;
    case 'sns': return b.Message;
    case 'ses': return b.Content?.Simple?.Subject?.Data;
  }
}

const slotOf = (m: FakeMessage): Slot => (m.provider === 'twilio' || m.provider === 'sns' ? 'sms' : m.provider === 'ses' ? 'email' : m.provider);

export class SendCounter {
  readonly bySlot = new Map<string, SlotSends>();
  /** APNs ids (one per delivery: derived from notification id and delivery key) accepted per marker. */
  readonly apnsIds = new Map<string, Set<string>>();
  /** Answered at least this long after arrival counts as late (set while a timeout storm runs). */
  lateAfterMs = Infinity;

  /** The fakes' onMessage hook: called once per request, when it is answered. */
  readonly observe = (m: FakeMessage): void => {
    const marker = markerOf(m);
    if (typeof marker !== 'string' || !marker.startsWith('chaos-')) return;
    const key = `${marker}|${slotOf(m)}`;
    let s = this.bySlot.get(key);
    if (!s) this.bySlot.set(key, (s = { ok: 0, tried: 0, late: 0, at: [] }));
    s.tried++;
    if (m.status >= 200 && m.status < 300) {
      s.ok++;
      s.at.push(m.at);
      if (m.provider === 'apns' && m.messageId) this.apnsIds.set(marker, (this.apnsIds.get(marker) ?? new Set()).add(m.messageId));
      if (Date.now() - m.at >= this.lateAfterMs) s.late++;
    }
  };

  get(marker: string, slot: Slot): SlotSends {
    return this.bySlot.get(`${marker}|${slot}`) ?? { ok: 0, tried: 0, late: 0, at: [] };
  }

  /** Markers that reached a provider at all. */
  markers(): Set<string> {
    return new Set([...this.bySlot.keys()].map((k) => k.slice(0, k.lastIndexOf('|'))));
  }

  totalOk(): number {
    let n = 0;
    for (const s of this.bySlot.values()) n += s.ok;
    return n;
  }
}
