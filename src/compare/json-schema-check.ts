/**
 * JSON Schema checks of /v1/compare with bounded work. Schemas come from API
 * callers and answers from miners, and both run in the gateway's own event
 * loop, so nothing in them may take more than linear time:
 *
 * - `pattern` and `patternProperties` match with RE2 (linear-regexp.ts), not
 *   the backtracking engine;
 * - `uniqueItems` compares items by a canonical form in a Set (Ajv's own
 *   compares every pair: 10 000 distinct objects took 12 s);
 * - one Ajv per comparison with schema validation off, because a fresh Ajv
 *   would compile the meta-schema again (~20 ms each time); schemas are
 *   checked against the meta-schema by one shared instance instead, which
 *   keeps nothing of them. A fresh instance per comparison keeps one caller's
 *   `$id`s away from another's and frees its compiled code with it.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ajvLinearRegExp } from './linear-regexp.js';

const metaValidator = new Ajv({ strict: false, logger: false });

/** JSON with object keys sorted: equal JSON values, equal strings. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function allUnique(items: readonly unknown[]): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const key = canonical(item);
    if (seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

export function newSchemaCompiler(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: false, logger: false, validateSchema: false, code: { regExp: ajvLinearRegExp } });
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword({
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    errors: false,
    validate: (unique: boolean, items: unknown[]) => !unique || allUnique(items),
  });
  return ajv;
}

export interface SchemaProblem {
  /** `invalid`: the schema's fault (bad keyword, remote $ref, a pattern RE2 refuses); `unsupported`: this runtime's. */
  readonly kind: 'invalid' | 'unsupported';
  readonly message: string;
}

/** A validator for `schema`, or why it cannot be one. */
export function compileSchema(ajv: Ajv, schema: unknown): ValidateFunction | SchemaProblem {
  try {
    if (typeof schema !== 'boolean' && !metaValidator.validateSchema(schema as object)) {
      return { kind: 'invalid', message: metaValidator.errorsText(metaValidator.errors, { dataVar: 'schema' }) };
    }
    return ajv.compile(schema as object);
  } catch (err) {
    // Ajv compiles every schema (its meta-schema too) to a function with `new Function`, which Cloudflare Workers forbid.
    if (err instanceof EvalError) return { kind: 'unsupported', message: 'JSON Schema checks compile the schema to code, which this runtime (Cloudflare Workers) does not allow; use the Node gateway for them' };
    return { kind: 'invalid', message: err instanceof Error ? err.message : String(err) };
  }
}

export function describeSchemaError(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'does not match the schema';
  if (e.keyword === 'uniqueItems') return `${e.instancePath || '(root)'} must not have duplicate items`;
  return `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`;
}
