/**
 * The log a relayed stream goes through (a Redis Stream per claim): what
 * its values are. A header naming who serves the stream, its events, and an
 * end marker (finished, or failed with the error the leader's client got),
 * each with its place in the stream.
 */
import type { CompletionEndpoint, Upstream } from '../../providers/provider.js';
import { DeadlineExceeded } from '../router/request-deadline.js';
import type { EntrySnapshot } from './cache-entry.js';

/** Who serves a relayed stream: what its followers' receipts and entry name. */
export interface StreamOrigin {
  readonly endpoint: CompletionEndpoint;
  readonly upstream: Upstream;
  readonly servedModel: string;
  readonly snapshot: EntrySnapshot;
}

/** How a relayed stream ended. */
export type EndMarker = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly deadline: boolean };

export const HEADER = 'h';
export const EVENT = 'e';
export const END = 'x';

/**
 * One value of the log: its kind, its place in the stream, its body. An
 * append that timed out may have landed all the same, and its retry then
 * repeats it: readers skip what they have had by its place.
 */
export interface LogValue {
  readonly kind: string;
  readonly seq: number;
  readonly body: string;
}

export const encodeValue = (kind: string, seq: number, body: string) => `${kind}${seq}:${body}`;

export function decodeValue(value: string): LogValue | null {
  const colon = value.indexOf(':');
  const seq = Number(value.slice(1, colon));
  return colon > 1 && Number.isSafeInteger(seq) ? { kind: value.slice(0, 1), seq, body: value.slice(colon + 1) } : null;
}

/** The error a follower's clients get: the one the leader's client got. */
export function endFailure(body: string): Error | null {
  let marker: EndMarker;
  try {
    marker = JSON.parse(body) as EndMarker;
  } catch {
    return new Error('the replica serving this stream sent an unreadable end');
  }
  if (marker.ok) return null;
  return marker.deadline ? new DeadlineExceeded(marker.error) : new Error(marker.error);
}
