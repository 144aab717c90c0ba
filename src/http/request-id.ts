/**
 * Every response carries `x-request-id`: the client's own when it sent a sane
 * one (so traces join up across hops), otherwise a fresh uuid. One access-log
 * line per request, with ids and sizes only, never keys or prompt text.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../log.js';
import type { GatewayEnv } from './gateway-env.js';
import { nodeOutgoing } from './node-env.js';

const SANE_ID = /^[\w.:-]{1,128}$/;

export function requestIdAndAccessLog(logger: Logger): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SANE_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    // On Node the id goes straight onto the ServerResponse, where writeHead
    // merges it into whatever response is written. c.res.headers.set would
    // turn the response's plain header record into a WHATWG Headers object
    // that @hono/node-server must then iterate back into one, per request.
    const outgoing = nodeOutgoing(c.env);
    outgoing?.setHeader('x-request-id', requestId);
    const started = performance.now();
    await next();
    if (!outgoing) c.res.headers.set('x-request-id', requestId);
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          requestId,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round((performance.now() - started) * 100) / 100,
          keyId: c.get('apiKey')?.id,
          upstream: c.get('upstreamId'),
        },
        'request',
      );
    }
  };
}
