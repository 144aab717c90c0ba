/**
 * Key administration: POST/GET/DELETE /admin/keys. The plaintext key is
 * returned once, at creation; only its SHA-256 is stored. Revocation takes
 * effect at once on every replica sharing the store.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { notFound } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';
import type { GatewayEnv } from '../src/http/gateway-env.js';
import { limitBody, readJsonBody } from '../src/http/read-json-body.js';
import { requireAdmin } from '../src/http/require-admin.js';
import type { ApiKeyRecord } from '../src/metering/api-keys.js';

export const NewKeySchema = z.strictObject({
  name: z.string().trim().min(1, 'name is required').max(100),
  credits_usd: z.number().nonnegative().max(1_000_000).nullish(),
  rpm: z.number().int().positive().nullish(),
  tpm: z.number().int().positive().nullish(),
  private: z.boolean().optional(),
});

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
  };
}

export function adminRoutes(gw: Gateway) {
  const app = new Hono<GatewayEnv>();
  app.use('/admin/*', requireAdmin(gw.config.ADMIN_TOKEN));

  app.post('/admin/keys', limitBody(64 * 1024), async (c) => {
    const input = await readJsonBody(c, NewKeySchema);
    const { key, record } = await gw.keys.create({
      name: input.name,
      creditsUsd: input.credits_usd,
      rpm: input.rpm,
      tpm: input.tpm,
      private: input.private,
    });
    return c.json({ ...keyView(record), key }, 201);
  });

  app.get('/admin/keys', async (c) => {
    const records = await gw.keys.list();
    return c.json({ object: 'list', data: records.map(keyView) });
  });

  app.get('/admin/keys/:id', async (c) => {
    const record = await gw.keys.get(c.req.param('id'));
    if (!record) throw notFound(`no key with id ${c.req.param('id')}`, 'key_not_found');
    return c.json(keyView(record));
  });

  app.delete('/admin/keys/:id', async (c) => {
    const record = await gw.keys.revoke(c.req.param('id'));
    if (!record) throw notFound(`no key with id ${c.req.param('id')}`, 'key_not_found');
    return c.json({ ...keyView(record), revoked: true });
  });
  return app;
}
