// Users, their devices and preferences, one Redis hash per user.
import type { Redis } from 'ioredis';
import type { Keys } from '../streams/keys.js';
import { runScript } from '../streams/scripts.js';
import type { DeviceInput, Preferences, UserInput } from '../domain/schemas.js';
import type { UserPatch } from '../domain/user-patch.js';
import { decodeUser, decodeUserFields, DEVICE_FIELD_PREFIX, PREFS_FIELD, PROFILE_FIELD, type Device, type Profile, type UserRecord } from '../domain/user.js';

export class UserStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(tenant: string, id: string): Promise<UserRecord | null> {
    return decodeUser(id, await this.redis.hgetall(this.keys.user(tenant, id)));
  }

  /** Creates or replaces the profile (a field not given is removed: PUT replaces); devices and preferences are kept. */
  async put(tenant: string, id: string, input: UserInput, now = Date.now()): Promise<UserRecord> {
    const key = this.keys.user(tenant, id);
    const previous = await this.redis.hget(key, PROFILE_FIELD);
    const iso = new Date(now).toISOString();
    const profile: Profile = { ...input, created_at: previous ? (JSON.parse(previous) as Profile).created_at : iso, updated_at: iso };
    await this.redis.hset(key, PROFILE_FIELD, JSON.stringify(profile));
    return (await this.get(tenant, id))!;
  }

  /**
   * Merges into the profile (fields given replace, null removes, absent stay; devices and preferences untouched) in
   * one script, so concurrent patches all land; null if the user does not exist (a patch never creates one).
   */
  async patch(tenant: string, id: string, patch: UserPatch, now = Date.now()): Promise<UserRecord | null> {
    const hash = await runScript<string[] | null>(this.redis, 'userPatch', [this.keys.user(tenant, id)], [
      JSON.stringify(patch), new Date(now).toISOString(),
    ]);
    return hash ? decodeUserFields(id, hash) : null;
  }

  /** Erases the user with devices and preferences. */
  async delete(tenant: string, id: string): Promise<boolean> {
    return (await this.redis.del(this.keys.user(tenant, id))) === 1;
  }

  /** Registers (or re-registers, re-activating) a device; false if the user does not exist. */
  async addDevice(tenant: string, id: string, input: DeviceInput, now = Date.now()): Promise<Device | null> {
    const device: Device = { token: input.token, platform: input.platform, active: true, registered_at: now };
    const ok = await runScript<number>(this.redis, 'hsetIfExists', [this.keys.user(tenant, id)], [
      DEVICE_FIELD_PREFIX + input.token, JSON.stringify(device),
    ]);
    return ok === 1 ? device : null;
  }

  async removeDevice(tenant: string, id: string, token: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.user(tenant, id), DEVICE_FIELD_PREFIX + token)) === 1;
  }

  /** Replaces the preferences; false if the user does not exist. */
  async putPreferences(tenant: string, id: string, prefs: Preferences): Promise<boolean> {
    const ok = await runScript<number>(this.redis, 'hsetIfExists', [this.keys.user(tenant, id)], [PREFS_FIELD, JSON.stringify(prefs)]);
    return ok === 1;
  }
}
