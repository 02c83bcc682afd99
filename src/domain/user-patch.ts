// PATCH /v1/users/{id}: a merge into the profile. Each field is checked as PUT checks it; null removes the field.
import { z } from 'zod';
import { UserSchema } from './schemas.js';

const put = UserSchema.shape;

/**
 * Only the profile's own fields: devices have their own endpoints and preferences PUT /preferences, so a `devices`
 * or `preferences` key is refused (as `created_at`, `updated_at` and anything else) naming the key.
 */
export const UserPatchSchema = z.strictObject({
  email: put.email.unwrap().nullable().optional(),
  phone: put.phone.unwrap().nullable().optional(),
  locale: put.locale.unwrap().nullable().optional(),
  timezone: put.timezone.unwrap().nullable().optional(),
});
export type UserPatch = z.infer<typeof UserPatchSchema>;
