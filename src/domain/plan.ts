// Decides, for one user and one notification, which deliveries to make and which to record as not sent.
import { createHash } from 'node:crypto';
import type { Lane } from '../streams/keys.js';
import { CONTENT_NEEDS } from './content.js';
import type { Device, UserRecord } from './user.js';
import type { Channel } from './types.js';

export type PlanStatus = 'queued' | 'opted_out' | 'no_address' | 'no_content' | 'failed';

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
  /** Lanes with a configured provider; undefined: all of them. */
  lanes?: ReadonlySet<Lane>;
}

const ALL: readonly Channel[] = ['push', 'sms', 'email'];
const CHANNEL_LANES: Record<Channel, readonly Lane[]> = { push: ['apns', 'fcm'], sms: ['sms'], email: ['email'] };
const deviceLane = (d: Device): Lane => (d.platform === 'ios' ? 'apns' : 'fcm');

/**
 * Pure: the deliveries for one user. An unknown user, opted-out channel or missing address is recorded, not dropped.
 * Left to the default, the channels are those the content covers, the user can receive and a provider serves; a
 * channel (or device) named but served by no provider is recorded `failed`, never queued. Never empty: a plan with
 * nothing in it would leave the notification `accepted` for good (its recipient is marked planned all the same), so
 * content that covers no channel at all is recorded `no_content` on every channel it was meant for.
 */
export function planDeliveries(input: PlanInput, user: UserRecord | null): PlannedDelivery[] {
  const plan = planned(input, user);
  if (plan.length > 0) return plan;
  const chans = input.channels?.length ? input.channels : ALL;
  return chans.map((channel): PlannedDelivery => (input.available.has(channel)
    // Only an empty `channels` (which the schema refuses) plans nothing for a channel that has content.
    ? { key: `${input.userId}:${channel}`, channel, status: 'failed', reason: 'channels is empty: no channel was asked for' }
    : {
        key: `${input.userId}:${channel}`, channel, status: 'no_content',
        reason: `no ${channel} content in the template or content (${CONTENT_NEEDS[channel]})`,
      }));
}

function planned(input: PlanInput, user: UserRecord | null): PlannedDelivery[] {
  const { userId, available, lanes } = input;
  const base = (channel: Channel) => `${userId}:${channel}`;
  const served = (lane: Lane) => lanes === undefined || lanes.has(lane);
  const offered = ALL.filter((c) => available.has(c) && CHANNEL_LANES[c].some(served));
  const unserved = (channel: Channel, lane?: Lane): PlannedDelivery => ({
    key: base(channel), channel, status: 'failed', reason: `no provider is configured for ${lane ?? channel}`,
  });
  if (!input.channels && offered.length === 0) return ALL.filter((c) => available.has(c)).map((c) => unserved(c));
  if (!user) {
    const chans = input.channels ?? offered;
    return chans.map((channel) => ({ key: base(channel), channel, status: 'no_address', reason: 'unknown user' }));
  }
  let chans = input.channels;
  if (!chans) {
    chans = offered.filter((c) => canReceive(user, c, served));
    if (chans.length === 0) {
      return offered.map((channel) => ({
        key: base(channel), channel, status: 'no_address', reason: `user has no ${channel} address`,
      }));
    }
  }
  const out: PlannedDelivery[] = [];
  for (const channel of chans) {
    if (!available.has(channel)) {
      out.push({ key: base(channel), channel, status: 'failed', reason: `no ${channel} content in the template or content` });
    } else if (!CHANNEL_LANES[channel].some(served)) {
      out.push(unserved(channel));
    } else if (optedOut(user, channel, input.category)) {
      out.push({ key: base(channel), channel, status: 'opted_out' });
    } else {
      out.push(...addressed(user, channel, served, input.channels !== undefined));
    }
  }
  return out;
}

function canReceive(user: UserRecord, channel: Channel, served: (lane: Lane) => boolean): boolean {
  if (channel === 'push') return user.devices.some((d) => d.active && served(deviceLane(d)));
  if (channel === 'sms') return user.profile.phone !== undefined;
  return user.profile.email !== undefined;
}

/** A channel switched off, or switched off for this category, is never sent to. */
export function optedOut(user: UserRecord, channel: Channel, category?: string): boolean {
  if (user.prefs.channels[channel] === false) return true;
  return category !== undefined && user.prefs.categories[category]?.[channel] === false;
}

/** `named`: the request named the channel, so a device no provider serves is recorded rather than left out. */
function addressed(user: UserRecord, channel: Channel, served: (lane: Lane) => boolean, named: boolean): PlannedDelivery[] {
  const none = (reason: string): PlannedDelivery[] => [
    { key: `${user.id}:${channel}`, channel, status: 'no_address', reason },
  ];
  if (channel === 'push') {
    const devices = user.devices.filter((d) => d.active && (named || served(deviceLane(d))));
    if (devices.length === 0) return none('user has no active device');
    return devices.map((d): PlannedDelivery => {
      const lane = deviceLane(d);
      const key = `${user.id}:${lane}:${fingerprint(d.token)}`;
      if (!served(lane)) return { key, channel, to: d.token, status: 'failed', reason: `no provider is configured for ${lane}` };
      return { key, channel, lane, to: d.token, status: 'queued' };
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
