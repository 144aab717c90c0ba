/**
 * The OpenAPI 3.1 document of the whole public surface, built from the
 * app's registered routes and the descriptions they carry (describeRoute).
 * Request schemas are the zod schemas that validate the requests, turned
 * into JSON Schema 2020-12 (OpenAPI 3.1's dialect) by zod itself.
 */
import type { RouterRoute } from 'hono/types';
import { COMPOSED_HANDLER } from 'hono/utils/constants';
import { z } from 'zod';
import { routeDocOf, type NamedSchema, type ParameterDoc, type RouteDoc } from './describe-route.js';
import { AnthropicErrorSchema, OpenAiErrorSchema } from './response-schemas.js';

export interface ApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
}

type Json = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: ApiInfo;
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
  tags: Array<{ name: string }>;
}

const ERROR_MEANING: Readonly<Record<number, string>> = {
  400: 'Invalid request; the message names the offending field',
  401: 'Missing, unknown or revoked key',
  402: 'Prepaid credit does not cover the request',
  403: 'Forbidden (e.g. the admin API is disabled)',
  404: 'Unknown model, key or subnet',
  409: 'Conflict (an Idempotency-Key reused for a different amount)',
  413: 'Request body larger than MAX_BODY_BYTES',
  429: 'Over the key\'s RPM/TPM limit (see Retry-After)',
  502: 'Every miner tried failed',
  503: 'No routable miner, no metagraph yet, or the store is unreachable (see Retry-After)',
  504: 'The request deadline passed before any miner answered',
};

/** `/v1/models/:id{.+}` → `/v1/models/{id}` */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}');
}

function describedBy(route: RouterRoute): RouteDoc | undefined {
  // A sub-app with its own onError wraps each handler; the original is kept under COMPOSED_HANDLER.
  let handler: unknown = route.handler;
  for (;;) {
    const doc = routeDocOf(handler);
    if (doc) return doc;
    const inner = (handler as Record<string, unknown> | undefined)?.[COMPOSED_HANDLER];
    if (typeof inner !== 'function') return undefined;
    handler = inner;
  }
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  return rest;
}

class ComponentSchemas {
  readonly json: Record<string, Json> = {};
  private readonly sources = new Map<string, z.ZodType>();

  ref(named: NamedSchema, io: 'input' | 'output'): Json {
    const known = this.sources.get(named.name);
    if (known && known !== named.schema) throw new Error(`two different schemas are both named ${named.name} in the OpenAPI document`);
    if (!known) {
      this.sources.set(named.name, named.schema);
      this.json[named.name] = jsonSchemaOf(named.schema, io);
    }
    return { $ref: `#/components/schemas/${named.name}` };
  }
}

function parameters(where: 'path' | 'query' | 'header', docs: Readonly<Record<string, ParameterDoc>> | undefined, names: readonly string[] = []): Json[] {
  const all = new Set([...names, ...Object.keys(docs ?? {})]);
  return [...all].map((name) => {
    const doc = docs?.[name];
    return {
      name,
      in: where,
      required: where === 'path' ? true : (doc?.required ?? false),
      ...(doc?.description ? { description: doc.description } : {}),
      schema: doc?.schema ? jsonSchemaOf(doc.schema, 'input') : { type: 'string' },
    };
  });
}

const SECURITY: Readonly<Record<RouteDoc['auth'], Json[]>> = {
  'api-key': [{ bearerKey: [] }, { apiKeyHeader: [] }],
  admin: [{ adminToken: [] }],
  metrics: [{ metricsToken: [] }],
  public: [],
};

function operation(method: string, path: string, doc: RouteDoc, schemas: ComponentSchemas): Json {
  const pathNames = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  const responses: Record<string, Json> = {};
  for (const [status, response] of Object.entries(doc.responses)) {
    const content: Record<string, Json> = {};
    if (response.json) content['application/json'] = { schema: schemas.ref(response.json, 'output') };
    if (response.eventStream) content['text/event-stream'] = { schema: { type: 'string', description: response.eventStream } };
    if (response.html) content['text/html'] = { schema: { type: 'string' } };
    if (response.text) content['text/plain'] = { schema: { type: 'string' } };
    responses[status] = { description: response.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  const envelope = doc.errorEnvelope === 'anthropic'
    ? { name: 'AnthropicError', schema: AnthropicErrorSchema }
    : { name: 'Error', schema: OpenAiErrorSchema };
  const errors = new Set([...(doc.errors ?? []), ...(doc.auth === 'public' ? [] : [401])]);
  for (const status of [...errors].sort((a, b) => a - b)) {
    responses[String(status)] = {
      description: ERROR_MEANING[status] ?? 'Error',
      content: { 'application/json': { schema: schemas.ref(envelope, 'output') } },
    };
  }
  const params = [
    ...parameters('path', doc.params, pathNames),
    ...parameters('query', doc.query),
    ...parameters('header', doc.headers),
  ];
  return {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [...doc.tags],
    security: SECURITY[doc.auth],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemas.ref(doc.body, 'input') } } } } : {}),
    responses,
  };
}

/** Registered routes (method, Hono path) that carry no description: missing from the document. */
export function undocumentedRoutes(routes: readonly RouterRoute[]): string[] {
  const endpoints = new Map<string, boolean>();
  for (const route of routes) {
    // `use()` middleware registers method ALL; it is not an endpoint.
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path}`;
    endpoints.set(key, (endpoints.get(key) ?? false) || describedBy(route) !== undefined);
  }
  return [...endpoints].filter(([, described]) => !described).map(([key]) => key);
}

/** The document for these routes; routes without a description are left out (the test names them). */
export function buildOpenApiDocument(routes: readonly RouterRoute[], info: ApiInfo): OpenApiDocument {
  const schemas = new ComponentSchemas();
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  for (const route of routes) {
    const doc = describedBy(route);
    if (!doc || route.method === 'ALL') continue;
    const path = openApiPath(route.path);
    const method = route.method.toLowerCase();
    paths[path] ??= {};
    if (paths[path][method]) continue;
    paths[path][method] = operation(method, path, doc, schemas);
    for (const tag of doc.tags) tags.add(tag);
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: schemas.json,
      securitySchemes: {
        bearerKey: { type: 'http', scheme: 'bearer', description: 'An API key (sk-tao-…) as `Authorization: Bearer <key>`.' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The same API key as `x-api-key` (what Anthropic clients send).' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN as `Authorization: Bearer <token>`.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN as `Authorization: Bearer <token>`; without one set, only local clients may scrape.' },
      },
    },
    tags: [...tags].map((name) => ({ name })),
  };
}
