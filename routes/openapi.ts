/**
 * GET /openapi.json: the OpenAPI 3.1 description of every route this app
 * serves, built once from the routes' own descriptions (describeRoute) and
 * the zod schemas that validate their requests. GET /docs: the same as a
 * page that works offline.
 */
import { Hono } from 'hono';
import type { RouterRoute } from 'hono/types';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../src/openapi/document.js';
import { renderDocsPage } from '../src/openapi/docs-page.js';

const INFO = {
  title: 'taogate',
  version: '0.1.0',
  description:
    'An OpenAI- and Anthropic-compatible gateway to the miners of Bittensor inference subnets, ranked by on-chain weights: ' +
    'chat completions, legacy completions, the Responses API and the Messages API all go through the same routing, metering and receipts.',
};

/** `routesOf` is read at the first request, once every route of the app is registered. */
export function openApiRoutes(routesOf: () => readonly RouterRoute[]) {
  let document: OpenApiDocument | null = null;
  let page: string | null = null;
  const current = () => (document ??= buildOpenApiDocument(routesOf(), INFO));
  const app = new Hono<GatewayEnv>();

  app.get(
    '/openapi.json',
    describeRoute({
      summary: 'This document',
      description: 'OpenAPI 3.1 description of every route, generated from the schemas that validate requests.',
      tags: ['Meta'],
      auth: 'public',
      responses: { 200: { description: 'The OpenAPI 3.1 document' } },
    }),
    (c) => c.json(current()),
  );

  app.get(
    '/docs',
    describeRoute({
      summary: 'API reference page',
      description: 'The OpenAPI document rendered as HTML on the server: no scripts, nothing loaded from elsewhere.',
      tags: ['Meta'],
      auth: 'public',
      responses: { 200: { description: 'HTML page', html: true } },
    }),
    (c) => c.html((page ??= renderDocsPage(current()))),
  );
  return app;
}
