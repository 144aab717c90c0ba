/**
 * The compare checks on their own: compiled once, run in the event loop in
 * linear time (RE2 for regexes and schema patterns, a linear uniqueItems),
 * bounded in what they read, and a check that could not run is no verdict.
 */
import { describe, expect, it } from 'vitest';
import { compileChecks, MAX_CHECKED_CHARS, runChecks, type CheckResult } from '../src/compare/checks.js';
import { entryScores } from '../src/compare/scores.js';
import type { Check } from '../src/compare/compare-request.js';
import { GatewayError } from '../src/errors.js';

const run = (checks: Check[], answer: string) => runChecks(compileChecks(checks), answer);
const refusal = (checks: Check[]) => {
  try {
    compileChecks(checks);
  } catch (err) {
    if (err instanceof GatewayError) return { status: err.status, code: err.code, param: err.param, message: err.message };
    throw err;
  }
  return null;
};

describe('regex checks', () => {
  it('match hostile patterns in linear time, with flags', async () => {
    const a40 = 'a'.repeat(40);
    const results = await run(
      [
        { type: 'regex', pattern: '(a+)+b' },
        { type: 'regex', pattern: '^(a+)+$' },
        { type: 'regex', pattern: '^(A+)+$', flags: 'i' },
        { type: 'regex', pattern: '^x$', flags: 'm' },
        { type: 'regex', pattern: '(?<first>a)a' },
      ],
      `${a40}\nx`,
    );
    expect(results.map((r) => r.passed)).toEqual([false, false, false, true, true]);
    expect((await run([{ type: 'regex', pattern: '^(a+)+$' }], a40))[0]).toEqual({ type: 'regex', passed: true, detail: null });
  });

  it('refuses backreferences and lookaround up front', () => {
    expect(refusal([{ type: 'contains', value: 'x' }, { type: 'regex', pattern: '(a)\\1' }])).toMatchObject({ status: 400, code: 'invalid_regex', param: 'checks[1].pattern' });
    expect(refusal([{ type: 'regex', pattern: '(?!a)' }])?.message).toMatch(/RE2 syntax/);
  });

  it('do not run on an answer longer than they read: no verdict, not a failure', async () => {
    const long = 'a'.repeat(MAX_CHECKED_CHARS + 1);
    const [regex, contains] = await run([{ type: 'regex', pattern: 'a' }, { type: 'contains', value: 'a' }], long);
    expect(regex).toMatchObject({ passed: null, detail: expect.stringMatching(/read at most 65536/) });
    expect(contains?.passed).toBe(true);
  });
});

describe('JSON Schema checks', () => {
  it('match `pattern` and `patternProperties` with RE2', async () => {
    const hostile = JSON.stringify(`${'a'.repeat(40)}!`);
    const [pattern] = await run([{ type: 'json_schema', schema: { type: 'string', pattern: '^(a+)+$' } }], hostile);
    expect(pattern).toMatchObject({ passed: false, detail: expect.stringMatching(/must match pattern/) });
    const keyed = { type: 'json_schema' as const, schema: { type: 'object', patternProperties: { '^(a+)+$': { type: 'number' } } } };
    expect((await run([keyed], JSON.stringify({ [`${'a'.repeat(40)}!`]: 'x' })))[0]?.passed).toBe(true);
    expect((await run([keyed], JSON.stringify({ aaaa: 'x' })))[0]).toMatchObject({ passed: false, detail: '/aaaa must be number' });
  });

  it('checks uniqueItems in linear time, by value', async () => {
    const schema = { type: 'array', uniqueItems: true };
    const distinct = JSON.stringify(Array.from({ length: 6_000 }, (_, i) => ({ [String(i)]: 1 })));
    expect(distinct.length).toBeLessThan(MAX_CHECKED_CHARS);
    expect((await run([{ type: 'json_schema', schema }], distinct))[0]?.passed).toBe(true);
    // Key order does not make two objects different.
    expect((await run([{ type: 'json_schema', schema }], '[{"a":1,"b":2},{"b":2,"a":1}]'))[0]).toMatchObject({ passed: false, detail: '(root) must not have duplicate items' });
  });

  it('refuses a schema that is not one, a pattern RE2 cannot match, and a remote $ref, naming the check', () => {
    expect(refusal([{ type: 'json_schema', schema: { type: 'nope' } }])).toMatchObject({ code: 'invalid_json_schema', param: 'checks[0].schema' });
    expect(refusal([{ type: 'json_schema', schema: { type: 'string', pattern: '(?=a)' } }])).toMatchObject({ code: 'invalid_json_schema' });
    expect(refusal([{ type: 'json_schema', schema: { $ref: 'https://example.com/s.json' } }])).toMatchObject({ code: 'invalid_json_schema' });
  });

  it('keeps one comparison’s $ids apart from another’s', async () => {
    const schema = { $id: 'https://example.com/answer.json', type: 'object', required: ['a'] };
    for (let i = 0; i < 2; i++) expect((await run([{ type: 'json_schema', schema }], '{"a":1}'))[0]?.passed).toBe(true);
  });
});

describe('scores', () => {
  const check = (passed: boolean | null): CheckResult => ({ type: 'regex', passed, detail: passed === true ? null : 'why' });

  it('leave a check that could not run out of the score: no verdict is not a 0', () => {
    expect(entryScores([check(null)], null, 0)).toMatchObject({ overall: null, checks_passed: 0, checks_total: 1, checks_not_run: 1 });
    expect(entryScores([check(null), check(true), check(false)], null, 0)).toMatchObject({ overall: 5, checks_passed: 1, checks_total: 3, checks_not_run: 1 });
    expect(entryScores([check(false)], null, 0).overall).toBe(0);
  });
});
