/** The current metagraph snapshot, or a 503 that names the source and why there is none yet. */
import { GatewayError } from '../errors.js';
import type { MetagraphSnapshot, MetagraphSource } from './snapshot.js';

/** Why a source has no snapshot yet: its kind, endpoint and state, and its last error. */
export function noSnapshotReason(source: MetagraphSource): string {
  const status = source.status();
  const why = status.error ? `: ${status.error}` : '';
  return `no metagraph yet: waiting for ${source.kind} source ${status.endpoint} (${status.state})${why}`;
}

export function requireSnapshot(source: MetagraphSource): MetagraphSnapshot {
  const snapshot = source.current();
  if (snapshot) return snapshot;
  throw new GatewayError(503, noSnapshotReason(source), 'server_error', 'metagraph_unavailable');
}
