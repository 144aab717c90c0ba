/**
 * A parsed JSON object: what the gateway checks a miner's, a client's or a
 * stored payload is before it reads fields off it (not an array, not null).
 */
export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
