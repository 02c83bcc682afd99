// /v1/users: profiles, devices and preferences.
import { Hono, type Context } from 'hono';
import { APNS_TOKEN, DeviceSchema, FCM_TOKEN, PreferencesSchema, USER_ID, UserSchema } from '../../domain/schemas.js';
import { UserPatchSchema } from '../../domain/user-patch.js';
import type { UserRecord } from '../../domain/user.js';
import type { UserStore } from '../../store/users.js';
import type { AuthEnv } from '../auth.js';
import { pathParam, readJson } from '../body.js';
import { ApiError } from '../errors.js';

/** Either kind of device token (APNs hex, FCM), as POST /devices takes them. */
export const DEVICE_TOKEN = new RegExp(`${APNS_TOKEN.source}|${FCM_TOKEN.source}`);
const USER_ID_RULE = 'user ids are 1-128 characters of letters, digits and ._:@+=-';
const TOKEN_RULE = 'a device token: an APNs token is 64+ hex characters, an FCM token 32+ characters of A-Z a-z 0-9 _ : -';

/**
 * `erased`: told of every DELETE of a well-formed user id, whether or not a profile existed, after the profile is
 * deleted (the status event stream's `user_erased`, so the history forgets the user too: it may hold a user without a
 * profile, and a DELETE retried after a failure then still erases).
 */
export function userRoutes(users: UserStore, erased?: (tenant: string, userId: string) => Promise<void>): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const userId = (c: Context) => pathParam(c, 'user_id', USER_ID, USER_ID_RULE);
  const noUser = () => new ApiError('not_found', 'no such user');

  app.put('/:user_id', async (c) => {
    const id = userId(c);
    const input = await readJson(c, UserSchema);
    return c.json(userView(await users.put(c.get('tenant'), id, input)), 200);
  });

  // A merge: fields given replace, null removes one, absent ones stay; devices and preferences are not touched.
  app.patch('/:user_id', async (c) => {
    const id = userId(c);
    const patch = await readJson(c, UserPatchSchema, ['application/merge-patch+json']);
    const user = await users.patch(c.get('tenant'), id, patch);
    if (!user) throw noUser();
    return c.json(userView(user), 200);
  });

  app.get('/:user_id', async (c) => {
    const user = await users.get(c.get('tenant'), userId(c));
    if (!user) throw noUser();
    return c.json(userView(user), 200);
  });

  app.delete('/:user_id', async (c) => {
    const id = userId(c);
    const existed = await users.delete(c.get('tenant'), id);
    await erased?.(c.get('tenant'), id);
    if (!existed) throw noUser();
    return c.body(null, 204);
  });

  app.post('/:user_id/devices', async (c) => {
    const id = userId(c);
    const input = await readJson(c, DeviceSchema);
    const device = await users.addDevice(c.get('tenant'), id, input);
    if (!device) throw noUser();
    return c.json({ platform: device.platform, token: device.token, active: true, registered_at: new Date(device.registered_at).toISOString() }, 201);
  });

  app.delete('/:user_id/devices/:token', async (c) => {
    const id = userId(c);
    if (!(await users.removeDevice(c.get('tenant'), id, pathParam(c, 'token', DEVICE_TOKEN, TOKEN_RULE)))) {
      throw new ApiError('not_found', 'no such device for this user');
    }
    return c.body(null, 204);
  });

  app.put('/:user_id/preferences', async (c) => {
    const id = userId(c);
    const prefs = await readJson(c, PreferencesSchema);
    if (!(await users.putPreferences(c.get('tenant'), id, prefs))) throw noUser();
    return c.json(prefs, 200);
  });

  return app;
}

/** The API's view of a user. */
export function userView(u: UserRecord) {
  return {
    user_id: u.id,
    ...u.profile,
    devices: u.devices.map((d) => ({
      platform: d.platform, token: d.token, active: d.active, registered_at: new Date(d.registered_at).toISOString(),
      ...(d.deactivated_at !== undefined && { deactivated_at: new Date(d.deactivated_at).toISOString(), deactivated_reason: d.deactivated_reason }),
    })),
    preferences: u.prefs,
  };
}
