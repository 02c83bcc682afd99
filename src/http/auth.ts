// Bearer API-key authentication: the key's SHA-256 names the tenant.
import type { MiddlewareHandler } from 'hono';
import { sha256Hex } from '../config.js';
import { ApiError } from './errors.js';

export type AuthEnv = { Variables: { tenant: string } };

/**
 * Keys are held only as SHA-256 digests. Looking up the digest of the presented key reveals nothing useful
 * through timing: an attacker controls the key, not its digest.
 */
export function bearerAuth(keys: ReadonlyMap<string, string>): MiddlewareHandler<AuthEnv> {
  return async function bearerAuth(c, next) {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const tenant = m ? keys.get(sha256Hex(m[1]!)) : undefined;
    if (tenant === undefined) throw new ApiError('unauthorized');
    c.set('tenant', tenant);
    await next();
  };
}
