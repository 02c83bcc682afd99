// Pure: the user actor's decision for one delivery that is ready to go — hold it for quiet hours, or send it
// subject to the user's rate caps (which Redis enforces atomically across processes).
import type { Controls } from './controls.js';
import { quietUntil } from './quiet-hours.js';
import { capsFor, type Cap } from './rate-limit.js';
import type { Channel, Priority } from './types.js';
import type { UserRecord } from './user.js';

export type Gate =
  | { kind: 'defer'; until: number; reason: string }
  | { kind: 'send'; caps: Cap[] };

export interface GateInput {
  channel: Channel;
  category?: string;
  priority: Priority;
}

/** Channels quiet hours hold back: the ones that buzz. Email waits in the inbox anyway. */
const QUIET_CHANNELS: ReadonlySet<Channel> = new Set(['push', 'sms']);

/**
 * Pure: quiet hours first (a held delivery does not use up a cap), then the caps that apply.
 * @example gateDelivery({ channel: 'sms', priority: 'normal' }, user, controls, now) // { kind: 'defer', until, reason: 'quiet_hours' }
 */
export function gateDelivery(d: GateInput, user: UserRecord | null, controls: Controls, now: number): Gate {
  if (!controls.enabled) return { kind: 'send', caps: [] };
  const quiet = user?.prefs.quiet_hours;
  if (quiet && d.priority !== 'high' && QUIET_CHANNELS.has(d.channel)) {
    const until = quietUntil(now, quiet, user.profile.timezone ?? 'UTC');
    if (until !== null) return { kind: 'defer', until, reason: 'quiet_hours' };
  }
  return { kind: 'send', caps: capsFor(controls.rateLimit, d) };
}
