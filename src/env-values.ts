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

/** A variable read by a parser that throws with an explanation (shown as the variable's error). */
export const envParsed = <T>(parse: (text: string) => T) =>
  z.string().transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
