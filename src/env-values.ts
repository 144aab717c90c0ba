/**
 * zod schemas for the kinds of values environment variables hold, shared by
 * every module that contributes variables to the gateway's EnvSchema.
 */
import { z } from 'zod';

/** 1/0, true/false, yes/no. */
export const envFlag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const envPositiveInt = z.coerce.number().int().positive();

/** A JSON document in a variable; the error shows an example of the expected shape. */
export const envJson = (example: string) =>
  z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be JSON like ${example}` });
      return z.NEVER;
    }
  });
