/** The current metagraph snapshot, or a 503 that names the source and why there is none yet. */
import type { MetagraphSnapshot } from '../src/chain/snapshot.js';
import { GatewayError } from '../src/errors.js';
import type { Gateway } from '../src/gateway.js';

export function requireSnapshot(gw: Gateway): MetagraphSnapshot {
  const snapshot = gw.metagraph.current();
  if (snapshot) return snapshot;
  const status = gw.metagraph.status();
  const why = status.error ? `: ${status.error}` : '';
  throw new GatewayError(
    503,
    `no metagraph yet: waiting for ${gw.metagraph.kind} source ${status.endpoint} (${status.state})${why}`,
    'server_error',
    'metagraph_unavailable',
  );
}
