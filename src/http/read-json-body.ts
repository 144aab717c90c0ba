/**
 * Reads a request body once: size-capped, parsed once, validated with zod.
 * A bad body is a 400 that names the offending field the way OpenAI does
 * (`messages[0].role`), so clients can fix it without guessing.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { bodyTooLarge, invalidRequest } from '../errors.js';

/**
 * 413 for bodies over `maxBytes`. Hono's bodyLimit touches `c.req.raw.body`,
 * which makes @hono/node-server build a full WHATWG Request per call; this
 * checks Content-Length from the headers instead and only streams (with a
 * running count) when the client sent no length.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const streamingLimit = bodyLimit({ maxSize: maxBytes, onError: () => tooLarge(maxBytes) });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streamingLimit(c, next);
    if (Number(length) > maxBytes) tooLarge(maxBytes);
    await next();
  };
}

/** Thrown, so each API's error handler answers in its own envelope. */
function tooLarge(maxBytes: number): never {
  throw bodyTooLarge(maxBytes);
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

interface PathedIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
}

/**
 * For a value that matches no branch of a union (`input` is a string or a
 * list of items), the branch that got deepest into the value is the one the
 * client meant: report its issue (`input[0].role`), not "Invalid input".
 */
function mostSpecific(issue: z.core.$ZodIssue, prefix: ReadonlyArray<PropertyKey> = []): PathedIssue {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { path, message: issue.message };
  let best: PathedIssue = { path, message: issue.message };
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first) continue;
    const candidate = mostSpecific(first, path);
    if (candidate.path.length > best.path.length) best = candidate;
  }
  return best;
}

export function validationError(error: z.ZodError) {
  const first = error.issues[0];
  const issue = first ? mostSpecific(first) : undefined;
  const param = issue ? fieldPath(issue.path) : '';
  const message = issue
    ? param
      ? `Invalid value for '${param}': ${issue.message}`
      : `Invalid request body: ${issue.message}`
    : 'Invalid request body';
  return invalidRequest(message, param || null);
}

export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidRequest('We could not parse the JSON body of your request.', null, 'invalid_json');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw invalidRequest('The request body must be a JSON object.', null, 'invalid_json');
  }
  const result = schema.safeParse(json);
  if (!result.success) throw validationError(result.error);
  return result.data;
}
