/**
 * The exact-match cache key: SHA-256 over a canonical form of everything
 * that can change an answer. Parsed JSON is re-serialized with object keys
 * sorted at every depth, so key order and whitespace in the client's body
 * never split one request into two entries; array order (messages, tools)
 * and the text itself always matter.
 */
import { createHash } from 'node:crypto';
import type { CompletionEndpoint } from '../../providers/provider.js';

/**
 * Top-level fields that change how an answer is delivered or who asked,
 * never what it says. `model` is replaced by the model as resolved.
 */
const DELIVERY_FIELDS = new Set(['model', 'stream', 'stream_options', 'user']);

export interface CacheKeyParts {
  readonly endpoint: CompletionEndpoint;
  /** The canonical id the request resolved to (`sn4/llama-3.1-8b`), so an alias and its target share entries. */
  readonly model: string;
  /** The validated request body; unknown fields count, since they reach the miner. */
  readonly request: Readonly<Record<string, unknown>>;
  /** The API key id when entries are per key (CACHE_SCOPE=key), else null. */
  readonly scope: string | null;
}

/** JSON with object keys sorted at every depth; `undefined` members are left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i] === undefined ? null : value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const name of Object.keys(record).sort()) {
    const member = record[name];
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(name)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}

/** The request's answer-shaping fields; a top-level `null` means "the default", the same as leaving the field out. */
function answerFields(request: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const name of Object.keys(request)) {
    const value = request[name];
    if (value === null || value === undefined || DELIVERY_FIELDS.has(name)) continue;
    fields[name] = value;
  }
  return fields;
}

export function cacheKey(parts: CacheKeyParts): string {
  return createHash('sha256')
    .update(`taogate-cache-v1\n${parts.endpoint}\n${parts.model}\n${parts.scope ?? ''}\n`)
    .update(canonicalJson(answerFields(parts.request)))
    .digest('base64url');
}
