// Decides, for one user and one notification, which deliveries to make and which to record as not sent.
import { createHash } from 'node:crypto';
import type { Lane } from '../streams/keys.js';
import type { UserRecord } from './user.js';
import type { Channel } from './types.js';

export type PlanStatus = 'queued' | 'opted_out' | 'no_address' | 'failed';

export interface PlannedDelivery {
  /** Unique within the notification: user, lane and a fingerprint of the address. */
  key: string;
  channel: Channel;
  /** Set when the delivery has somewhere to go. */
  lane?: Lane;
  to?: string;
  status: PlanStatus;
  reason?: string;
}

export interface PlanInput {
  userId: string;
  /** Channels the request named; undefined means "every channel the user can receive". */
  channels?: readonly Channel[];
  category?: string;
  /** Channels the template or inline content has something to say on. */
  available: ReadonlySet<Channel>;
}

const ALL: readonly Channel[] = ['push', 'sms', 'email'];

/** Pure: the deliveries for one user. An unknown user, opted-out channel or missing address is recorded, not dropped. */
export function planDeliveries(input: PlanInput, user: UserRecord | null): PlannedDelivery[] {
  const { userId, available } = input;
  const base = (channel: Channel) => `${userId}:${channel}`;
  if (!user) {
    const chans = input.channels ?? ALL.filter((c) => available.has(c));
    return chans.map((channel) => ({ key: base(channel), channel, status: 'no_address', reason: 'unknown user' }));
  }
  let chans = input.channels;
  if (!chans) {
    chans = ALL.filter((c) => available.has(c) && canReceive(user, c));
    if (chans.length === 0) {
      return ALL.filter((c) => available.has(c)).map((channel) => ({
        key: base(channel), channel, status: 'no_address', reason: `user has no ${channel} address`,
      }));
    }
  }
  const out: PlannedDelivery[] = [];
  for (const channel of chans) {
    if (!available.has(channel)) {
      out.push({ key: base(channel), channel, status: 'failed', reason: `no ${channel} content in the template or content` });
    } else if (optedOut(user, channel, input.category)) {
      out.push({ key: base(channel), channel, status: 'opted_out' });
    } else {
      out.push(...addressed(user, channel));
    }
  }
  return out;
}

function canReceive(user: UserRecord, channel: Channel): boolean {
  if (channel === 'push') return user.devices.some((d) => d.active);
  if (channel === 'sms') return user.profile.phone !== undefined;
  return user.profile.email !== undefined;
}

/** A channel switched off, or switched off for this category, is never sent to. */
export function optedOut(user: UserRecord, channel: Channel, category?: string): boolean {
  if (user.prefs.channels[channel] === false) return true;
  return category !== undefined && user.prefs.categories[category]?.[channel] === false;
}

function addressed(user: UserRecord, channel: Channel): PlannedDelivery[] {
  const none = (reason: string): PlannedDelivery[] => [
    { key: `${user.id}:${channel}`, channel, status: 'no_address', reason },
  ];
  if (channel === 'push') {
    const devices = user.devices.filter((d) => d.active);
    if (devices.length === 0) return none('user has no active device');
    return devices.map((d) => {
      const lane: Lane = d.platform === 'ios' ? 'apns' : 'fcm';
      return { key: `${user.id}:${lane}:${fingerprint(d.token)}`, channel, lane, to: d.token, status: 'queued' };
    });
  }
  const to = channel === 'sms' ? user.profile.phone : user.profile.email;
  if (to === undefined) return none(`user has no ${channel === 'sms' ? 'phone' : 'email'}`);
  return [{ key: `${user.id}:${channel}`, channel, lane: channel, to, status: 'queued' }];
}

/** Short, stable, not reversible: distinguishes a user's devices without putting tokens in keys. */
export function fingerprint(address: string): string {
  return createHash('sha1').update(address).digest('base64url').slice(0, 10);
}
