/**
 * Regular expressions from API callers, matched in time linear in the text:
 * RE2 (re2js, a pure-JavaScript port, so it runs on Node and on Workers
 * alike) instead of the backtracking engine built into JavaScript, where
 * `(a+)+b` over forty a's runs for minutes. RE2 has no backreferences and no
 * lookaround; a pattern that uses them is refused up front (a 400 naming it).
 */
import { RE2JS } from 're2js';

export interface LinearRegExp {
  test(text: string): boolean;
}

const FLAG_BITS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  // RE2 always matches by code point: `u` changes nothing.
  u: 0,
};

/** Compiles a JavaScript-style pattern with flags of `imsu`; throws with RE2's message when it cannot. */
export function compileLinearRegExp(pattern: string, flags = ''): LinearRegExp {
  let bits = 0;
  for (const flag of flags) {
    const bit = FLAG_BITS[flag];
    if (bit === undefined) throw new Error(`unsupported flag "${flag}" (use i, m, s or u)`);
    bits |= bit;
  }
  // translateRegExp rewrites JavaScript-only spellings, e.g. named groups (?<name>…) as RE2's (?P<name>…).
  const re = RE2JS.compile(RE2JS.translateRegExp(pattern), bits);
  return { test: (text) => re.test(text) };
}

/**
 * The same engine for Ajv's `pattern` and `patternProperties` (its option
 * `code.regExp`): `code` names it in generated standalone code, which the
 * gateway never emits; `toString` is Ajv's cache key for a compiled pattern.
 */
export const ajvLinearRegExp = Object.assign(
  (pattern: string, u: string) => {
    const re = compileLinearRegExp(pattern);
    return { test: (text: string) => re.test(text), toString: () => `/${pattern}/${u}` };
  },
  { code: 'linearRegExp' },
);
