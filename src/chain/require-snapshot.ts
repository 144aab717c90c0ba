/** The current metagraph snapshot, or a 503 that names the source and why there is none yet. */
import { GatewayError } from '../errors.js';
import type { MetagraphSnapshot, MetagraphSource } from './snapshot.js';

export function requireSnapshot(source: MetagraphSource): MetagraphSnapshot {
  const snapshot = source.current();
  if (snapshot) return snapshot;
  const status = source.status();
  const why = status.error ? `: ${status.error}` : '';
  throw new GatewayError(
    503,
    `no metagraph yet: waiting for ${source.kind} source ${status.endpoint} (${status.state})${why}`,
    'server_error',
    'metagraph_unavailable',
  );
}
