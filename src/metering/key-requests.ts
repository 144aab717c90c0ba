/**
 * What may be asked of the key registry: a new key, a top-up. One zod schema
 * each, shared by the admin API (routes/admin.ts) and the keys CLI
 * (src/metering/keys-cli.ts), so both accept and refuse exactly the same
 * values. Money is refused, not rounded, beyond micro-dollars.
 */
import { z } from 'zod';
import type { NewKeyInput } from './api-keys.js';
import { usdToMicro } from './metering-config.js';

/** USD with at most 6 decimals: exactly a whole number of micro-dollars (the range is checked by the caller's bounds). */
const usd = (max: number) =>
  z
    .number()
    .max(max)
    .refine((value) => value < 0 || value > max || usdToMicro(value) !== null, 'has more than 6 decimals (micro-dollars are the smallest unit)');

export const NewKeySchema = z.strictObject({
  name: z.string().trim().min(1, 'name is required').max(100),
  credits_usd: usd(1_000_000).nonnegative().nullish(),
  rpm: z.number().int().positive().nullish(),
  tpm: z.number().int().positive().nullish(),
  private: z.boolean().optional(),
  /** Its comparisons count for routing (blend quality, the `quality` policy); see ApiKeyRecord.trustedScorer. */
  trusted_scorer: z.boolean().optional(),
});

export type NewKeyRequest = z.infer<typeof NewKeySchema>;

/** The registry's input for a validated request (wire names to field names). */
export function newKeyInput(request: NewKeyRequest): NewKeyInput {
  return { name: request.name, creditsUsd: request.credits_usd, rpm: request.rpm, tpm: request.tpm, private: request.private ?? false, trustedScorer: request.trusted_scorer ?? false };
}

export const TopUpSchema = z
  .strictObject({
    amount_usd: usd(1_000_000).positive().optional(),
    amount_micro_usd: z.number().int().positive().max(1e12).optional(),
  })
  .refine((b) => (b.amount_usd === undefined) !== (b.amount_micro_usd === undefined), 'give exactly one of amount_usd and amount_micro_usd');
