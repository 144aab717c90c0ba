/**
 * What the cache keeps for one answer: the answer as the miner sent it
 * (a JSON completion, or a stream's chunks), who served it and on which
 * snapshot (hits keep naming the original miner), its usage (hits are
 * metered with it) and when it was stored (the `age` of a hit).
 * Stored as JSON text in Redis; held decoded in memory.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import { UsageSchema, type CompletionResponse, type Usage } from '../openai/responses.js';
import { chunksFromCompletion, completionFromChunks } from './answer-shapes.js';

export interface EntrySnapshot {
  readonly version: string;
  readonly block: number | null;
}

export interface CacheEntry {
  readonly v: 1;
  readonly endpoint: CompletionEndpoint;
  /** ms since epoch. */
  readonly storedAt: number;
  readonly expiresAt: number;
  readonly upstream: Upstream;
  /** The subnet model that served it (`sn4/llama-3.1-8b`). */
  readonly servedModel: string;
  readonly snapshot: EntrySnapshot;
  readonly usage: Usage | null;
  /** Recorded from a non-stream answer: the completion (its `model` is set per request when served). */
  readonly json: CompletionResponse | null;
  /** Recorded from a stream: every chunk's `data:` payload in order, usage chunk included, `[DONE]` not. */
  readonly events: readonly string[] | null;
}

/** Per decoded entry, the shape it was not recorded in, built on first use (an entry is immutable). */
const otherShape = new WeakMap<CacheEntry, CompletionResponse | readonly string[]>();

interface Recorded {
  readonly endpoint: CompletionEndpoint;
  readonly upstream: Upstream;
  readonly servedModel: string;
  readonly snapshot: EntrySnapshot;
  readonly ttlS: number;
  readonly now?: number;
}

export function entryFromCompletion(r: Recorded, completion: CompletionResponse): CacheEntry {
  const now = r.now ?? Date.now();
  return { v: 1, endpoint: r.endpoint, storedAt: now, expiresAt: now + r.ttlS * 1000, upstream: r.upstream, servedModel: r.servedModel, snapshot: r.snapshot, usage: completion.usage ?? null, json: completion, events: null };
}

/** Null when the chunks are not one finished answer (cut, error event, no finish reason). */
export function entryFromChunks(r: Recorded, events: readonly string[]): CacheEntry | null {
  const assembled = completionFromChunks(r.endpoint, events);
  if (!assembled) return null;
  const now = r.now ?? Date.now();
  const entry: CacheEntry = { v: 1, endpoint: r.endpoint, storedAt: now, expiresAt: now + r.ttlS * 1000, upstream: r.upstream, servedModel: r.servedModel, snapshot: r.snapshot, usage: assembled.usage, json: null, events };
  otherShape.set(entry, assembled.completion);
  return entry;
}

export function completionOf(entry: CacheEntry): CompletionResponse {
  if (entry.json) return entry.json;
  let built = otherShape.get(entry) as CompletionResponse | undefined;
  if (!built) {
    // Every entry with events was assembled once when it was recorded or decoded; this is a safety net.
    built = completionFromChunks(entry.endpoint, entry.events ?? [])?.completion as CompletionResponse;
    otherShape.set(entry, built);
  }
  return built;
}

export function chunksOf(entry: CacheEntry): readonly string[] {
  if (entry.events) return entry.events;
  let built = otherShape.get(entry) as readonly string[] | undefined;
  if (!built) {
    built = chunksFromCompletion(entry.endpoint, entry.json as CompletionResponse);
    otherShape.set(entry, built);
  }
  return built;
}

export function encodeEntry(entry: CacheEntry): string {
  return JSON.stringify(entry);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An entry read back from the store, or null when it is not one this
 * version wrote (an older format, or garbage): that is a miss, never an error.
 */
export function decodeEntry(text: string, now = Date.now()): CacheEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || value.v !== 1 || (value.endpoint !== 'chat' && value.endpoint !== 'completions')) return null;
  if (typeof value.storedAt !== 'number' || typeof value.expiresAt !== 'number' || value.expiresAt <= now) return null;
  if (!isRecord(value.upstream) || typeof value.upstream.id !== 'string' || typeof value.servedModel !== 'string' || !isRecord(value.snapshot)) return null;
  const usage = value.usage === null ? null : UsageSchema.safeParse(value.usage);
  if (usage !== null && !usage.success) return null;
  const entry = value as unknown as CacheEntry;
  if (isRecord(value.json) && Array.isArray(value.json.choices)) return entry;
  if (!Array.isArray(value.events) || !value.events.every((e) => typeof e === 'string')) return null;
  const assembled = completionFromChunks(entry.endpoint, value.events as string[]);
  if (!assembled) return null;
  otherShape.set(entry, assembled.completion);
  return entry;
}
