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
  const profile = hash[PROFILE_FIELD];
  if (profile === undefined) return null;
  const devices: Device[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (field.startsWith(DEVICE_FIELD_PREFIX)) devices.push(JSON.parse(value) as Device);
  }
  const prefs = hash[PREFS_FIELD];
  return { id, profile: JSON.parse(profile) as Profile, prefs: prefs ? (JSON.parse(prefs) as Preferences) : EMPTY_PREFS, devices };
}
