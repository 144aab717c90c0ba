/**
 * The devnet node's view of subtensor's types, built from the REAL recorded
 * metadata: the node encodes neurons with the same type definitions the
 * chain publishes, and computes storage keys with the metadata's own
 * hashers, so @polkadot/api decodes what it serves exactly as it would on
 * finney. Building the registry parses ~300 KB of metadata, so it is done
 * once per process.
 */
import { Metadata, TypeRegistry, expandMetadata } from '@polkadot/types';
import type { ChainProperties } from '@polkadot/types/interfaces';
import type { StorageEntry } from '@polkadot/types/primitive/types';
import { compactStripLength, u8aToHex } from '@polkadot/util';
import { SUBTENSOR_SIGNED_EXTENSIONS } from '../chain/subtensor-api-options.js';
import { FINNEY_PROPERTIES, recordedMetadata } from './chain-fixtures.js';

export interface DevnetChainTypes {
  readonly registry: TypeRegistry;
  readonly metadata: Metadata;
  /** Lookup name of `NeuronInfoRuntimeApi.get_neurons_lite`'s output, i.e. Vec<NeuronInfoLite>. */
  readonly neuronsLiteType: string;
  /** Lookup name of `SubtensorModule.Weights`' value, i.e. Vec<(u16, u16)>. */
  readonly weightsValueType: string;
  /** Storage key (hex, no length prefix) of `SubtensorModule.Weights(netuid, uid)`. */
  weightsKey(netuid: number, uid: number): `0x${string}`;
}

function runtimeApiOutputType(registry: TypeRegistry, metadata: Metadata, api: string, method: string): string {
  const apiMeta = metadata.asLatest.apis.find((a) => a.name.toString() === api);
  const methodMeta = apiMeta?.methods.find((m) => m.name.toString() === method);
  if (!methodMeta) throw new Error(`metadata has no runtime api ${api}.${method}`);
  return registry.createLookupType(methodMeta.output);
}

function storageEntry(registry: TypeRegistry, metadata: Metadata, section: string, method: string): StorageEntry {
  const entry = expandMetadata(registry, metadata).query[section]?.[method];
  if (!entry) throw new Error(`metadata has no storage item ${section}.${method}`);
  return entry;
}

let cached: DevnetChainTypes | null = null;

export function devnetChainTypes(): DevnetChainTypes {
  if (cached) return cached;
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, recordedMetadata().metadataHex);
  registry.setMetadata(metadata, undefined, SUBTENSOR_SIGNED_EXTENSIONS);
  registry.setChainProperties(registry.createTypeUnsafe<ChainProperties>('ChainProperties', [FINNEY_PROPERTIES]));

  const weights = storageEntry(registry, metadata, 'subtensorModule', 'weights');
  if (!weights.meta.type.isMap) throw new Error('SubtensorModule.Weights is not a map in this metadata');
  const weightsValueType = registry.createLookupType(weights.meta.type.asMap.value);

  cached = Object.freeze({
    registry,
    metadata,
    neuronsLiteType: runtimeApiOutputType(registry, metadata, 'NeuronInfoRuntimeApi', 'get_neurons_lite'),
    weightsValueType,
    // The storage function returns the key with a compact length prefix (a
    // SCALE Vec<u8>); JSON-RPC storage keys are the bare bytes.
    weightsKey: (netuid: number, uid: number) => u8aToHex(compactStripLength(weights(netuid, uid))[1]),
  });
  return cached;
}
