/**
 * `Authorization: Bearer $ADMIN_TOKEN` for /admin routes, compared in
 * constant time. Without ADMIN_TOKEN configured the admin API is off.
 */
import type { MiddlewareHandler } from 'hono';
import { forbidden, unauthorized } from '../errors.js';
import { constantTimeEqual } from '../metering/api-keys.js';
import type { GatewayEnv } from './gateway-env.js';
import { presentedKey } from './require-api-key.js';

/** Whether an `Authorization` header carries the admin token (false while the admin API is off). */
export function isAdminAuthorization(authorization: string | undefined, adminToken: string | undefined): boolean {
  const token = presentedKey(authorization, undefined);
  return Boolean(adminToken) && token !== null && constantTimeEqual(token, adminToken as string);
}

export function requireAdmin(adminToken: string | undefined): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (!adminToken) throw forbidden('the admin API is disabled: set ADMIN_TOKEN to enable it', 'admin_disabled');
    if (!isAdminAuthorization(c.req.header('authorization'), adminToken)) throw unauthorized('invalid admin token', 'invalid_admin_token');
    await next();
  };
}
