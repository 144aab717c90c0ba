/**
 * GET /openapi.json describes every route the app registers, validates as
 * OpenAPI 3.1, and its request schemas (generated from the zod schemas that
 * validate requests) accept and refuse what the gateway does. GET /docs
 * renders it offline.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { startMiner, type RunningMiner } from '../src/devnet/miner.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { buildOpenApiDocument, openApiPath, undocumentedRoutes, type OpenApiDocument } from '../src/openapi/document.js';
import { startTestGateway, type TestGateway } from './support/gateway-harness.js';

let miner: RunningMiner;
let gw: TestGateway;
let doc: OpenApiDocument;

beforeAll(async () => {
  miner = await startMiner({ hotkeyUri: '//OpenApiMiner', name: 'O' });
  gw = await startTestGateway({ subnets: [{ netuid: 4, models: ['llama-3.1-8b'], miners: [{ miner, uid: 1, incentive: 1 }] }] });
  const res = await fetch(`${gw.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
});

afterAll(async () => {
  await gw?.close();
  await miner?.close();
});

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document whose $refs all resolve', async () => {
    const validator = new Validator();
    // A copy: resolveRefs() replaces the $refs in place.
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('describes every route the app registers (add describeRoute({...}) to a new route to fix a failure here)', () => {
    const routes = buildApp(gw.gateway).routes;
    expect(undocumentedRoutes(routes)).toEqual([]);
    const endpoints = routes.filter((r) => r.method !== 'ALL');
    expect(endpoints.length).toBeGreaterThanOrEqual(19);
    for (const route of endpoints) {
      expect(doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed).toEqual(
      expect.arrayContaining([
        'POST /v1/chat/completions',
        'POST /v1/completions',
        'POST /v1/responses',
        'POST /v1/messages',
        'POST /v1/messages/count_tokens',
        'GET /v1/models',
        'GET /v1/models/{id}',
        'GET /v1/subnets',
        'GET /v1/subnets/{netuid}/miners',
        'GET /v1/usage',
        'GET /v1/receipts/public-key',
        'POST /admin/keys',
        'GET /admin/keys',
        'GET /admin/keys/{id}',
        'DELETE /admin/keys/{id}',
        'POST /admin/keys/{id}/credits',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /openapi.json',
        'GET /docs',
      ]),
    );
  });

  it('names a registered route that carries no description', () => {
    const app = new Hono();
    app.get('/described', describeRoute({ summary: 'x', tags: ['t'], auth: 'public', responses: { 200: { description: 'ok' } } }), (c) => c.text('x'));
    app.post('/v1/forgotten', (c) => c.text('x'));
    expect(undocumentedRoutes(app.routes)).toEqual(['POST /v1/forgotten']);
    expect(Object.keys(buildOpenApiDocument(app.routes, { title: 't', version: '1', description: 'd' }).paths)).toEqual(['/described']);
  });

  it('states auth per route, the Anthropic envelope for Messages and the stream events', () => {
    const messages = doc.paths['/v1/messages']?.post as Record<string, any>;
    expect(messages.security).toEqual([{ bearerKey: [] }, { apiKeyHeader: [] }]);
    expect(messages.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/AnthropicError' });
    expect(messages.responses['200'].content['text/event-stream'].schema.description).toMatch(/message_start.*input_json_delta.*message_stop/);
    const responses = doc.paths['/v1/responses']?.post as Record<string, any>;
    expect(responses.responses['502'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect((doc.paths['/admin/keys']?.post as Record<string, any>).security).toEqual([{ adminToken: [] }]);
    expect((doc.paths['/healthz']?.get as Record<string, any>).security).toEqual([]);
    expect((doc.paths['/metrics']?.get as Record<string, any>).security).toEqual([{ metricsToken: [] }]);
    expect((doc.paths['/v1/chat/completions']?.post as Record<string, any>).parameters).toEqual([
      expect.objectContaining({ name: 'x-taogate-uids', in: 'header' }),
      expect.objectContaining({ name: 'x-taogate-private', in: 'header' }),
      expect.objectContaining({ name: 'x-taogate-route-policy', in: 'header' }),
      expect.objectContaining({ name: 'cache-control', in: 'header' }),
      expect.objectContaining({ name: 'x-taogate-cache-ttl', in: 'header' }),
      expect.objectContaining({ name: 'x-taogate-cache-nondeterministic', in: 'header' }),
    ]);
  });

  it('request schemas are the validating zod schemas: they accept and refuse what the gateway does', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const check = (name: string) => {
      const schema = doc.components.schemas[name];
      expect(schema, name).toBeDefined();
      return ajv.compile(schema as object);
    };
    const responses = check('ResponsesRequest');
    const request = {
      model: 'sn4/llama-3.1-8b',
      input: [{ role: 'user', content: 'x' }, { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c1', output: 'ok' }],
      tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }],
    };
    expect(responses(request)).toBe(true);
    expect(responses({ model: 'm' })).toBe(false);
    expect(responses({ ...request, tools: [{ type: 'web_search' }] })).toBe(false);

    const messages = check('MessagesRequest');
    expect(messages({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'x' }] }] })).toBe(true);
    expect(messages({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).toBe(false);
    expect(check('MessagesCountTokensRequest')({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).toBe(true);
    expect(check('ChatCompletionRequest')({ model: 'm', messages: [] })).toBe(false);
    // What the gateway does with the same bodies.
    const gatewaySays = await gw.request('/v1/responses', { method: 'POST', json: { ...request, tools: [{ type: 'web_search' }] } });
    expect(gatewaySays.status).toBe(400);
  });
});

describe('GET /docs', () => {
  it('renders every operation as HTML that loads nothing from elsewhere', async () => {
    const res = await fetch(`${gw.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    for (const path of Object.keys(doc.paths)) expect(html).toContain(`<code>${path}</code>`);
    expect(html).toContain('Create a message (Anthropic Messages API)');
    expect(html).not.toMatch(/<script|(src|href)="https?:/);
  });
});
