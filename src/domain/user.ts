// A user as the planner sees it: profile, preferences and devices, decoded from the user hash.
import type { Platform } from './types.js';
import type { Preferences } from './schemas.js';

export interface Profile {
  email?: string;
  phone?: string;
  locale?: string;
  timezone?: string;
  created_at: string;
  updated_at: string;
}
export interface Device {
  token: string;
  platform: Platform;
  active: boolean;
  registered_at: number;
  deactivated_at?: number;
  deactivated_reason?: string;
}
export interface UserRecord {
  id: string;
  profile: Profile;
  prefs: Preferences;
  devices: Device[];
}

export const PROFILE_FIELD = 'profile';
export const PREFS_FIELD = 'prefs';
export const DEVICE_FIELD_PREFIX = 'dev:';
export const EMPTY_PREFS: Preferences = { channels: {}, categories: {} };

/** Decodes HGETALL of a user hash; null when the user does not exist. */
export function decodeUser(id: string, hash: Record<string, string>): UserRecord | null {
  return decodeUserFields(id, Object.entries(hash).flat());
}

/** Decodes HGETALL of a user hash as the flat field, value, … list Redis sends; null when the user does not exist. */
export function decodeUserFields(id: string, flat: readonly string[]): UserRecord | null {
  let profile: string | undefined;
  let prefs: string | undefined;
  const devices: Device[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const field = flat[i]!;
    if (field === PROFILE_FIELD) profile = flat[i + 1];
    else if (field === PREFS_FIELD) prefs = flat[i + 1];
    else if (field.startsWith(DEVICE_FIELD_PREFIX)) devices.push(JSON.parse(flat[i + 1]!) as Device);
  }
  if (profile === undefined) return null;
  return { id, profile: JSON.parse(profile) as Profile, prefs: prefs ? (JSON.parse(prefs) as Preferences) : EMPTY_PREFS, devices };
}
