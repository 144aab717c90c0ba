/**
 * Bearer-key authentication for /v1 routes. A missing, unknown or revoked key
 * is a 401 in the OpenAI envelope; a key store that cannot be reached for a
 * key never seen before is a 503 with retry-after, not a 401, so clients
 * retry instead of concluding their key is bad.
 */
import type { MiddlewareHandler } from 'hono';
import { storeUnavailable, unauthorized } from '../errors.js';
import type { ApiKeyRegistry } from '../metering/api-keys.js';
import type { GatewayEnv } from './gateway-env.js';

/** Reads a key from `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic clients). */
export function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | null {
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match?.[1]?.trim() ?? null;
  }
  return xApiKey?.trim() || null;
}

export function requireApiKey(keys: ApiKeyRegistry): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const key = presentedKey(c.req.header('authorization'), c.req.header('x-api-key'));
    if (!key) throw unauthorized('Missing API key: send it as "Authorization: Bearer sk-tao-…".', 'missing_api_key');
    let record;
    try {
      record = await keys.authenticate(key);
    } catch {
      throw storeUnavailable('The key store is unreachable, so this key cannot be checked right now; retry shortly.', 'key_store_unavailable');
    }
    if (!record) throw unauthorized('Incorrect API key provided, or the key was revoked.');
    c.set('apiKey', record);
    await next();
  };
}
