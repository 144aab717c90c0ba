/**
 * Declarative checks of a comparison: compiled before anything is sent (a
 * bad regex or schema is a 400 naming it), then run on every answer in the
 * gateway's own event loop. That is safe because every check takes time
 * linear in what it reads: regexes and schema patterns match with RE2
 * (linear-regexp.ts), schemas validate without quadratic keywords
 * (json-schema-check.ts), and regex and schema checks read at most
 * MAX_CHECKED_CHARS of an answer. Between two such checks the loop yields,
 * so a comparison with many checks and answers never holds up other requests
 * for more than one check at a time.
 *
 * A check that could not run (an answer longer than it reads, an error while
 * validating) has `passed: null`: it is no verdict on the answer, so it does
 * not count towards the score, neither as a pass nor as a fail.
 */
import type { ValidateFunction } from 'ajv';
import { invalidRequest } from '../errors.js';
import type { Check } from './compare-request.js';
import { compileSchema, describeSchemaError, newSchemaCompiler } from './json-schema-check.js';
import { compileLinearRegExp, type LinearRegExp } from './linear-regexp.js';

/** A JSON Schema larger than this is refused: it is a check, not a program. */
const MAX_SCHEMA_BYTES = 32 * 1024;
/** The most of an answer a regex or JSON Schema check reads (a max_tokens of 16k is about this much text). */
export const MAX_CHECKED_CHARS = 64 * 1024;

export interface CheckOutcome {
  /** null when the check could not run (see `detail`): not a verdict on the answer. */
  readonly passed: boolean | null;
  /** Why it failed or did not run (null when it passed). */
  readonly detail: string | null;
}

export interface CheckResult extends CheckOutcome {
  readonly type: Check['type'];
}

type Runner = (answer: string) => CheckOutcome;

export interface CompiledChecks {
  readonly checks: readonly Check[];
  readonly runners: readonly Runner[];
}

const verdict = (passed: boolean, failure: string): CheckOutcome => ({ passed, detail: passed ? null : failure });

function bounded(type: string, run: Runner): Runner {
  return (answer) => {
    if (answer.length > MAX_CHECKED_CHARS) {
      return { passed: null, detail: `the answer is ${answer.length} characters long; ${type} checks read at most ${MAX_CHECKED_CHARS}, so this one did not run` };
    }
    try {
      return run(answer);
    } catch (err) {
      return { passed: null, detail: `the check could not run: ${err instanceof Error ? err.message : String(err)}` };
    }
  };
}

function regexRunner(re: LinearRegExp): Runner {
  return bounded('regex', (answer) => verdict(re.test(answer), 'no match'));
}

function schemaRunner(validate: ValidateFunction): Runner {
  return bounded('JSON Schema', (answer) => {
    let value: unknown;
    try {
      value = JSON.parse(answer.trim());
    } catch {
      return { passed: false, detail: 'the answer is not JSON' };
    }
    const passed = validate(value) === true;
    return { passed, detail: passed ? null : describeSchemaError(validate.errors) };
  });
}

/** Every check ready to run; throws the 400 naming the first one that cannot be used. */
export function compileChecks(checks: readonly Check[]): CompiledChecks {
  // One compiler per comparison: a caller's `$id`s never meet another's, and its compiled code goes with it.
  let ajv: ReturnType<typeof newSchemaCompiler> | null = null;
  const runners = checks.map((check, i): Runner => {
    switch (check.type) {
      case 'exact': {
        const expected = check.ignore_case ? check.value.trim().toLowerCase() : check.value.trim();
        return (answer) => verdict((check.ignore_case ? answer.trim().toLowerCase() : answer.trim()) === expected, 'the answer is not exactly the expected text');
      }
      case 'contains': {
        const expected = check.ignore_case ? check.value.toLowerCase() : check.value;
        return (answer) => verdict((check.ignore_case ? answer.toLowerCase() : answer).includes(expected), 'the expected text does not occur');
      }
      case 'regex': {
        try {
          return regexRunner(compileLinearRegExp(check.pattern, check.flags ?? ''));
        } catch (err) {
          throw invalidRequest(
            `checks[${i}].pattern is not a valid regular expression (RE2 syntax: no backreferences or lookaround): ${(err as Error).message}`,
            `checks[${i}].pattern`,
            'invalid_regex',
          );
        }
      }
      case 'json_schema': {
        if (JSON.stringify(check.schema).length > MAX_SCHEMA_BYTES) {
          throw invalidRequest(`checks[${i}].schema is larger than ${MAX_SCHEMA_BYTES} bytes`, `checks[${i}].schema`, 'invalid_json_schema');
        }
        const validate = compileSchema((ajv ??= newSchemaCompiler()), check.schema);
        if (typeof validate === 'function') return schemaRunner(validate);
        const why = validate.kind === 'invalid' ? `is not a valid JSON Schema: ${validate.message}` : `cannot be checked here: ${validate.message}`;
        throw invalidRequest(`checks[${i}].schema ${why}`, `checks[${i}].schema`, validate.kind === 'invalid' ? 'invalid_json_schema' : 'json_schema_unsupported');
      }
    }
  });
  return { checks, runners };
}

/** Lets other requests run between two checks that may read a long answer. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Every check on one answer, in order. */
export async function runChecks(compiled: CompiledChecks, answer: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [i, check] of compiled.checks.entries()) {
    if (check.type === 'regex' || check.type === 'json_schema') await yieldToEventLoop();
    results.push({ type: check.type, ...(compiled.runners[i] as Runner)(answer) });
  }
  return results;
}
