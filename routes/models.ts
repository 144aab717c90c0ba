/**
 * GET /v1/models: the one catalog across subnets, in OpenAI's list shape:
 * every subnet model (owned by `sn<netuid>`, whichever provider serves it),
 * whether or not it has a routable miner right now (a request then gets a
 * 503 saying why), every alias and `auto`, with context length and price.
 * GET /v1/models/{id}: one of them.
 */
import { Hono } from 'hono';
import { modelNotFound } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { PriceBook } from '../src/metering/pricing.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { ModelListSchema, ModelSchema } from '../src/openapi/response-schemas.js';

const STARTED = Math.floor(Date.now() / 1000);

export function modelsRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  app.use('/v1/models', requireApiKey(gw.keys));
  app.use('/v1/models/*', requireApiKey(gw.keys));

  const toModel = (entry: ReturnType<Gateway['catalog']['list']>[number]) => ({
    id: entry.id,
    object: 'model' as const,
    created: STARTED,
    owned_by: entry.ownedBy,
    context_length: entry.contextLength,
    taogate: { kind: entry.kind, targets: entry.targets.map((t) => t.id), private: entry.private },
    // What a request is charged: the price of the model it is served by (an alias's first target).
    pricing: PriceBook.view(gw.metering.prices.priceFor(...entry.targets.slice(0, 1).map((t) => t.id), entry.id)),
  });

  app.get(
    '/v1/models',
    describeRoute({
      summary: 'List models: every sn<netuid>/<model> configured for a served subnet (routable miner or not), the aliases and auto',
      tags: ['OpenAI'],
      auth: 'api-key',
      responses: { 200: { description: 'The models', json: { name: 'ModelList', schema: ModelListSchema } } },
      errors: [503],
    }),
    (c) => {
      const data = gw.catalog.list(gw.metagraph.current()).map(toModel);
      return c.json({ object: 'list', data });
    },
  );

  // Model ids contain a slash (sn4/llama-3.1-8b), so match the rest of the path.
  app.get(
    '/v1/models/:id{.+}',
    describeRoute({
      summary: 'One model',
      tags: ['OpenAI'],
      auth: 'api-key',
      params: { id: { description: 'A model id; it may contain slashes (sn4/llama-3.1-8b)' } },
      responses: { 200: { description: 'The model', json: { name: 'Model', schema: ModelSchema } } },
      errors: [404, 503],
    }),
    (c) => {
      const id = c.req.param('id');
      const entry = gw.catalog.list(gw.metagraph.current()).find((e) => e.id === id);
      if (!entry) throw modelNotFound(id, 'see GET /v1/models for the models this gateway routes');
      return c.json(toModel(entry));
    },
  );
  return app;
}
