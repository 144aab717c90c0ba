/**
 * Declarative checks of a comparison: validated before anything is sent (a
 * bad regex or schema is a 400 naming it), then run on every answer in the
 * check worker.
 */
import { invalidRequest } from '../errors.js';
import { CheckTimeout, type CheckOutcome, type CheckRunner } from './check-runner.js';
import type { Check } from './compare-request.js';

/** A JSON Schema larger than this is refused: it is a check, not a program. */
const MAX_SCHEMA_BYTES = 32 * 1024;

export interface CheckResult extends CheckOutcome {
  readonly type: Check['type'];
}

export async function validateChecks(checks: readonly Check[], runner: CheckRunner): Promise<void> {
  const schemas: Array<{ index: number; schema: unknown }> = [];
  checks.forEach((check, i) => {
    if (check.type === 'regex') {
      try {
        new RegExp(check.pattern, check.flags ?? '');
      } catch (err) {
        throw invalidRequest(`checks[${i}].pattern is not a valid regular expression: ${(err as Error).message}`, `checks[${i}].pattern`, 'invalid_regex');
      }
    }
    if (check.type === 'json_schema') {
      if (JSON.stringify(check.schema).length > MAX_SCHEMA_BYTES) {
        throw invalidRequest(`checks[${i}].schema is larger than ${MAX_SCHEMA_BYTES} bytes`, `checks[${i}].schema`, 'invalid_json_schema');
      }
      schemas.push({ index: i, schema: check.schema });
    }
  });
  if (schemas.length === 0) return;
  let errors: Array<string | null>;
  try {
    errors = await runner.compileSchemas(schemas.map((s) => s.schema));
  } catch (err) {
    const why = err instanceof CheckTimeout ? 'compiling it took too long' : (err as Error).message;
    throw invalidRequest(`checks[${schemas[0]?.index}].schema cannot be used: ${why}`, `checks[${schemas[0]?.index}].schema`, 'invalid_json_schema');
  }
  errors.forEach((error, j) => {
    const index = (schemas[j] as { index: number }).index;
    if (error !== null) throw invalidRequest(`checks[${index}].schema is not a valid JSON Schema: ${error}`, `checks[${index}].schema`, 'invalid_json_schema');
  });
}

/** Every check on one answer; a job that runs out of time fails each check with the reason. */
export async function runChecks(checks: readonly Check[], answer: string, runner: CheckRunner): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  let outcomes: CheckOutcome[];
  try {
    outcomes = (await runner.run(checks, [answer]))[0] ?? [];
  } catch (err) {
    const detail = err instanceof CheckTimeout ? err.message : `the checks could not run: ${(err as Error).message}`;
    outcomes = checks.map(() => ({ passed: false, detail }));
  }
  return checks.map((check, i) => ({ type: check.type, ...(outcomes[i] ?? { passed: false, detail: 'no result' }) }));
}
