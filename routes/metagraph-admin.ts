/**
 * PUT /admin/metagraph: where `npm run sync` delivers the metagraph to a
 * gateway that does not read the chain itself (the Workers build). The body
 * is a snapshot in the chain source's persisted format; it is validated,
 * shelved for every isolate (Workers KV) and served here at once. A gateway
 * that reads its own source (chain, file) refuses with 409.
 */
import { Hono } from 'hono';
import { SavedSnapshotSchema, SnapshotCodecError } from '../src/chain/snapshot-codec.js';
import type { StoredSnapshotSource } from '../src/chain/stored-snapshot-source.js';
import type { MetagraphSource } from '../src/chain/snapshot.js';
import { GatewayError, invalidRequest } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody } from '../src/http/read-json-body.js';
import { requireAdmin } from '../src/http/require-admin.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { MetagraphPushResultSchema } from '../src/openapi/response-schemas.js';

/** A few thousand neurons across several subnets fit easily; Workers KV takes up to 25 MiB. */
const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

function acceptsPushes(source: MetagraphSource): source is StoredSnapshotSource {
  return 'publish' in source && typeof source.publish === 'function';
}

export function metagraphAdminRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();

  app.put(
    '/admin/metagraph',
    describeRoute({
      summary: 'Deliver a metagraph snapshot (what `npm run sync` does); Workers build only, 409 on a gateway that reads its own source',
      tags: ['Admin'],
      auth: 'admin',
      body: { name: 'MetagraphSnapshot', schema: SavedSnapshotSchema },
      responses: { 200: { description: 'Shelved for every isolate and served here at once', json: { name: 'MetagraphPushResult', schema: MetagraphPushResultSchema } } },
      errors: [400, 401, 403, 409, 413],
    }),
    requireAdmin(gw.config.ADMIN_TOKEN),
    limitBody(MAX_SNAPSHOT_BYTES),
    async (c) => {
      const source = gw.metagraph;
      if (!acceptsPushes(source)) {
        throw new GatewayError(409, `this gateway reads its metagraph from its own ${source.kind} source; push snapshots only to a Workers deployment`, 'invalid_request_error', 'metagraph_not_pushable');
      }
      let snapshot;
      try {
        snapshot = await source.publish(await c.req.text());
      } catch (err) {
        if (err instanceof SnapshotCodecError) throw invalidRequest(err.message, null, 'invalid_snapshot');
        throw err;
      }
      return c.json({
        version: snapshot.version,
        block: snapshot.block,
        taken_at: new Date(snapshot.takenAt).toISOString(),
        subnets: [...snapshot.subnets.values()].map((s) => ({ netuid: s.netuid, routable: s.ranked.length })),
      });
    },
  );
  return app;
}
