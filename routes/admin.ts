/**
 * Key administration: POST/GET/DELETE /admin/keys. The plaintext key is
 * returned once, at creation; only its SHA-256 is stored. Revocation takes
 * effect at once on every replica sharing the store. GET /admin/keys/:id
 * shows the key's usage and credit; POST /admin/keys/:id/credits tops up a
 * prepaid key, once per Idempotency-Key.
 */
import { Hono } from 'hono';
import { GatewayError, invalidRequest, notFound } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody, readJsonBody } from '../src/http/read-json-body.js';
import { requireAdmin } from '../src/http/require-admin.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import {
  ApiKeyListSchema,
  ApiKeyWithUsageSchema,
  CreatedApiKeySchema,
  RevokedApiKeySchema,
  TopUpResultSchema,
} from '../src/openapi/response-schemas.js';
import type { ApiKeyRecord } from '../src/metering/api-keys.js';
import { newKeyInput, NewKeySchema, TopUpSchema } from '../src/metering/key-requests.js';
import { usdToMicro } from '../src/metering/metering-config.js';
import { creditView } from '../src/metering/usage-report.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export function keyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    created_at: new Date(record.createdAt).toISOString(),
    revoked_at: record.revokedAt === null ? null : new Date(record.revokedAt).toISOString(),
    credits_usd: record.creditsMicroUsd === null ? null : record.creditsMicroUsd / 1_000_000,
    rpm: record.rpm,
    tpm: record.tpm,
    private: record.private,
    trusted_scorer: record.trustedScorer,
  };
}

export function adminRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  app.use('/admin/*', requireAdmin(gw.config.ADMIN_TOKEN));

  const keyId = { id: { description: 'The key id (not the key)' } };

  app.post(
    '/admin/keys',
    describeRoute({
      summary: 'Create an API key; the plaintext key is returned once',
      tags: ['Admin'],
      auth: 'admin',
      body: { name: 'NewApiKey', schema: NewKeySchema },
      responses: { 201: { description: 'Created', json: { name: 'CreatedApiKey', schema: CreatedApiKeySchema } } },
      errors: [400, 403, 503],
    }),
    limitBody(64 * 1024),
    async (c) => {
      const input = await readJsonBody(c, NewKeySchema);
      const { key, record } = await gw.keys.create(newKeyInput(input));
      return c.json({ ...keyView(record), key }, 201);
    },
  );

  app.get(
    '/admin/keys',
    describeRoute({
      summary: 'List API keys',
      tags: ['Admin'],
      auth: 'admin',
      responses: { 200: { description: 'Keys', json: { name: 'ApiKeyList', schema: ApiKeyListSchema } } },
      errors: [403, 503],
    }),
    async (c) => {
      const records = await gw.keys.list();
      return c.json({ object: 'list', data: records.map(keyView) });
    },
  );

  app.get(
    '/admin/keys/:id',
    describeRoute({
      summary: 'One key with its usage and credit',
      tags: ['Admin'],
      auth: 'admin',
      params: keyId,
      responses: { 200: { description: 'The key', json: { name: 'ApiKeyWithUsage', schema: ApiKeyWithUsageSchema } } },
      errors: [403, 404, 503],
    }),
    async (c) => {
      const record = await gw.keys.get(c.req.param('id'));
      if (!record) throw notFound(`no key with id ${c.req.param('id')}`, 'key_not_found');
      const { key_id: _, ...usage } = await gw.metering.usage(record);
      return c.json({ ...keyView(record), usage });
    },
  );

  app.post(
    '/admin/keys/:id/credits',
    describeRoute({
      summary: 'Top up a prepaid key, once per Idempotency-Key',
      tags: ['Admin'],
      auth: 'admin',
      params: keyId,
      headers: { 'idempotency-key': { description: '1-255 printable characters; a retried top-up with the same key is not added twice', required: true } },
      body: { name: 'TopUp', schema: TopUpSchema },
      responses: {
        201: { description: 'Applied', json: { name: 'TopUpResult', schema: TopUpResultSchema } },
        200: { description: 'Already applied under this Idempotency-Key', json: { name: 'TopUpResult', schema: TopUpResultSchema } },
      },
      errors: [400, 403, 404, 409, 503],
    }),
    limitBody(4 * 1024),
    async (c) => {
      const idempotencyKey = c.req.header('idempotency-key');
      if (!idempotencyKey || !IDEMPOTENCY_KEY.test(idempotencyKey)) {
        throw invalidRequest('A top-up needs an Idempotency-Key header (1-255 printable characters), so a retried top-up is not added twice.', null, 'idempotency_key_required');
      }
      const input = await readJsonBody(c, TopUpSchema);
      const record = await gw.keys.get(c.req.param('id'));
      if (!record) throw notFound(`no key with id ${c.req.param('id')}`, 'key_not_found');
      if (record.creditsMicroUsd === null) {
        throw invalidRequest('This key is postpaid (created without credits_usd): it is never refused for credit and has no balance to top up.', null, 'key_is_postpaid');
      }
      const amount = input.amount_micro_usd ?? usdToMicro(input.amount_usd ?? 0);
      if (amount === null) throw invalidRequest('amount_usd has more than 6 decimals (micro-dollars are the smallest unit)', 'amount_usd');
      const result = await gw.metering.topUp(record.id, amount, idempotencyKey);
      if (result.amount !== amount) {
        throw new GatewayError(409, `Idempotency-Key "${idempotencyKey}" was already used for a top-up of ${result.amount} micro-USD.`, 'invalid_request_error', 'idempotency_key_reused');
      }
      return c.json({ id: record.id, applied: result.applied, amount_micro_usd: amount, credits: creditView(result.balance) }, result.applied ? 201 : 200);
    },
  );

  app.delete(
    '/admin/keys/:id',
    describeRoute({
      summary: 'Revoke a key (at once, on every replica sharing the store)',
      tags: ['Admin'],
      auth: 'admin',
      params: keyId,
      responses: { 200: { description: 'Revoked', json: { name: 'RevokedApiKey', schema: RevokedApiKeySchema } } },
      errors: [403, 404, 503],
    }),
    async (c) => {
      const record = await gw.keys.revoke(c.req.param('id'));
      if (!record) throw notFound(`no key with id ${c.req.param('id')}`, 'key_not_found');
      return c.json({ ...keyView(record), revoked: true });
    },
  );
  return app;
}
