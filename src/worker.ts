/**
 * Cloudflare Workers entry (`npm run dev:worker`, `npm run deploy`; see
 * wrangler.toml). Builds the same Hono app as src/server.ts, once per
 * isolate, from the Worker's bindings (src/worker/edge-gateway.ts).
 *
 * A Worker does no work between requests, so the two background jobs of a
 * Node gateway run around requests instead: the metagraph snapshot is
 * re-read from KV when it is older than METAGRAPH_REFRESH_S, and metered
 * usage is written behind responses once their bodies have been sent
 * (ctx.waitUntil), coalesced per METERING_FLUSH_MS (src/worker/usage-flush.ts).
 */
import { createEdgeGateway, type EdgeGateway } from './worker/edge-gateway.js';
import type { WorkerBindings } from './worker/worker-env.js';

export { StoreObject } from './worker/store-object.js';

let edge: Promise<EdgeGateway> | null = null;

function startupFailure(err: unknown): Response {
  // ConfigError messages name variables but never echo secrets (src/config.ts).
  const message = err instanceof Error ? err.message : String(err);
  return Response.json({ error: { message: `taogate could not start: ${message}`, type: 'server_error', code: 'gateway_misconfigured', param: null } }, { status: 500 });
}

/** Passes the body through untouched and runs `then` once it has been sent (or the client went away). */
function afterBody(response: Response, ctx: ExecutionContext, then: () => Promise<void>): Response {
  if (!response.body) {
    ctx.waitUntil(then());
    return response;
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  ctx.waitUntil(response.body.pipeTo(writable).catch(() => undefined).then(then));
  return new Response(readable, response);
}

export default {
  async fetch(request: Request, env: WorkerBindings, ctx: ExecutionContext): Promise<Response> {
    edge ??= createEdgeGateway(env).catch((err: unknown) => {
      edge = null; // the next request tries again (a fixed binding, a deploy)
      throw err;
    });
    let built: EdgeGateway;
    try {
      built = await edge;
    } catch (err) {
      return startupFailure(err);
    }
    // Only a cold isolate waits for the snapshot; otherwise it is refreshed behind the response.
    const { snapshots } = built;
    if (snapshots?.current()) ctx.waitUntil(snapshots.refresh());
    else if (snapshots) await snapshots.refresh();
    const response = await built.app.fetch(request, env, ctx);
    return afterBody(response, ctx, built.flushUsage);
  },
};
