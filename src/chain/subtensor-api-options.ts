/**
 * @polkadot/api options the gateway's chain connection uses, all stock
 * library definitions with a flag changed, never hand-written types.
 */
import { ApiPromise } from '@polkadot/api';
import type { ApiOptions } from '@polkadot/api/types';
import { rpcDefinitions } from '@polkadot/types';

/**
 * Subtensor's own transaction extensions, named in its metadata. The gateway
 * never signs extrinsics, and @polkadot/types already treats unknown
 * extensions as no-effect; declaring them as such only silences the
 * registry's console warning each time a registry loads the metadata.
 */
export const SUBTENSOR_SIGNED_EXTENSIONS = Object.freeze({
  SubtensorTransactionExtension: { extrinsic: {}, payload: {} },
  DrandPriority: { extrinsic: {}, payload: {} },
});

/** The RPCs a metagraph sync makes; their failures are reported (once) by the source itself. */
const SYNC_RPCS: ReadonlyArray<readonly [section: string, method: string]> = [
  ['chain', 'getFinalizedHead'],
  ['chain', 'getHeader'],
  ['state', 'call'],
  ['state', 'getStorage'],
];

/**
 * The same RPC definitions with `noErrorLog` set: otherwise rpc-core writes
 * every failed call to the console, which during an outage is one line per
 * call per refresh, on top of the source's own deduplicated log.
 */
export function quietSyncRpcDefinitions(): NonNullable<ApiOptions['rpc']> {
  const rpc: Record<string, Record<string, (typeof rpcDefinitions)[string][string]>> = {};
  for (const [section, method] of SYNC_RPCS) {
    const def = rpcDefinitions[section]?.[method];
    if (!def) continue;
    rpc[section] = { ...rpc[section], [method]: { ...def, noErrorLog: true } };
  }
  return rpc;
}

/** An ApiPromise for subtensor on the given provider, decorated from the chain's own metadata. */
export function createSubtensorApi(provider: NonNullable<ApiOptions['provider']>): ApiPromise {
  const api = new ApiPromise({
    provider,
    noInitWarn: true,
    signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS,
    rpc: quietSyncRpcDefinitions(),
  });
  // ApiPromise rejects isReadyOrError on its first 'error' event; callers watch events instead.
  api.isReadyOrError.catch(() => {});
  return api;
}
