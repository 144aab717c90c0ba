/**
 * GET /v1/usage: the calling key's metered usage (totals, per model, per UTC
 * day) and, for prepaid keys, its credit. GET /v1/receipts/public-key: the
 * ed25519 key receipts are signed with, for checking them offline (public,
 * no API key needed).
 */
import { Hono } from 'hono';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { requireApiKey } from '../src/http/require-api-key.js';
import { describeRoute } from '../src/openapi/describe-route.js';
import { ReceiptPublicKeySchema, UsageReportSchema } from '../src/openapi/response-schemas.js';

export function usageRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  app.get(
    '/v1/usage',
    describeRoute({
      summary: "The calling key's usage: totals, per model, per UTC day; credit for prepaid keys",
      tags: ['Metering'],
      auth: 'api-key',
      responses: { 200: { description: 'Usage', json: { name: 'UsageReport', schema: UsageReportSchema } } },
      errors: [503],
    }),
    requireApiKey(gw.keys),
    async (c) => c.json({ object: 'usage', ...(await gw.metering.usage(c.get('apiKey'))) }),
  );

  app.get(
    '/v1/receipts/public-key',
    describeRoute({
      summary: 'The ed25519 key receipts are signed with, for checking them offline',
      tags: ['Metering'],
      auth: 'public',
      responses: { 200: { description: 'The public key', json: { name: 'ReceiptPublicKey', schema: ReceiptPublicKeySchema } } },
    }),
    (c) => {
      const { publicKey, kid, ephemeral } = gw.metering.receipts;
      return c.json({
        algorithm: 'ed25519',
        kid,
        public_key_hex: Buffer.from(publicKey).toString('hex'),
        public_key_base64: Buffer.from(publicKey).toString('base64'),
        ephemeral,
        format: '<base64url(compact JSON)>.<base64url(ed25519 signature over those JSON bytes)>',
      });
    },
  );
  return app;
}
