/**
 * Who may read GET /metrics. It is operator data: miners' health, traffic
 * per model, store outages. With METRICS_TOKEN set, a scraper must send
 * `Authorization: Bearer $METRICS_TOKEN` (compared in constant time), from
 * anywhere. Without it, only a client on this machine may scrape: the TCP
 * peer is a loopback address and the request carries no forwarding header
 * (a reverse proxy on the same host would otherwise make every outside
 * client look local). So a fresh `npm start` works for a local Prometheus
 * and exposes nothing to the network.
 */
import type { MiddlewareHandler } from 'hono';
import { forbidden, unauthorized } from '../errors.js';
import { constantTimeEqual } from '../metering/api-keys.js';
import type { GatewayEnv } from './gateway-env.js';
import { nodeIncoming } from './node-env.js';
import { presentedKey } from './require-api-key.js';

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/** The TCP peer's address on Node; null where there is none (Workers), so there only a token opens /metrics. */
function peerAddress(env: unknown): string | null {
  return nodeIncoming(env)?.socket?.remoteAddress ?? null;
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function requireMetricsAccess(token: string | undefined): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    if (token) {
      const presented = presentedKey(c.req.header('authorization'), undefined);
      if (!presented || !constantTimeEqual(presented, token)) throw unauthorized('invalid metrics token', 'invalid_metrics_token');
      return next();
    }
    const peer = peerAddress(c.env);
    const forwarded = FORWARDING_HEADERS.some((name) => c.req.header(name) !== undefined);
    if (peer === null || !isLoopback(peer) || forwarded) {
      throw forbidden('/metrics is served to local clients only: set METRICS_TOKEN to scrape it from elsewhere', 'metrics_local_only');
    }
    return next();
  };
}
