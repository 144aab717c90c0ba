/**
 * The metagraph source of a gateway that serves no miners: every subnet in
 * taogate.config.json is served by its own API, and neither SUBTENSOR_URL
 * nor METAGRAPH_FILE is set. Its one snapshot has no subnets, so routes
 * that list subnets and miners answer instead of waiting for a chain.
 */
import type { MetagraphSnapshot, MetagraphSource } from './snapshot.js';

export function createEmptySource(): MetagraphSource {
  const snapshot: MetagraphSnapshot = Object.freeze({ source: 'none', version: 'none', block: null, takenAt: Date.now(), subnets: new Map() });
  return {
    kind: 'none',
    start: async () => {},
    stop: async () => {},
    current: () => snapshot,
    status: () => ({ state: 'ok', endpoint: 'none (every subnet is served by its own API)', error: null }),
    onUpdate: () => () => {},
  };
}
