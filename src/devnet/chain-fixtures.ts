/**
 * The real finney recordings in ./fixtures (see its README), read relative to
 * this module so the devnet works from any working directory and never reads
 * outside the repository.
 */
import { readFileSync } from 'node:fs';
import { compactFromU8a, hexToU8a, isHex, u8aToHex } from '@polkadot/util';

/** Finney's genesis hash: the devnet claims to be finney so the api picks finney's spec handling. */
export const FINNEY_GENESIS_HASH = '0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03';

export const FINNEY_CHAIN_NAME = 'Bittensor';

export const FINNEY_PROPERTIES = Object.freeze({ ss58Format: 42, tokenDecimals: [9], tokenSymbol: ['TAO'] });

/** Block at which the SN1 neurons fixture was recorded. */
export const SN1_FIXTURE_BLOCK = 6_852_690;

export interface RecordedRuntimeVersion {
  readonly specName: string;
  readonly implName: string;
  readonly authoringVersion: number;
  readonly specVersion: number;
  readonly implVersion: number;
  readonly apis: ReadonlyArray<readonly [string, number]>;
  readonly transactionVersion: number;
  readonly systemVersion: number;
  readonly stateVersion: number;
}

function readFixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();
}

function readHexFixture(name: string): `0x${string}` {
  const text = readFixture(name);
  if (!isHex(text)) throw new Error(`fixture ${name} is not hex`);
  return text;
}

export interface RecordedMetadata {
  /** `Metadata_metadata_at_version(15)` as recorded: SCALE Option<OpaqueMetadata>. */
  readonly atVersionResult: `0x${string}`;
  /** The bare metadata bytes ("meta" + v15), which `state_getMetadata` returns. */
  readonly metadataHex: `0x${string}`;
}

let metadataCache: RecordedMetadata | null = null;

export function recordedMetadata(): RecordedMetadata {
  if (metadataCache) return metadataCache;
  const atVersionResult = readHexFixture('metadata-v15.spec343.hex');
  const raw = hexToU8a(atVersionResult);
  if (raw[0] !== 1) throw new Error('metadata fixture is not Some(OpaqueMetadata)');
  // Strip the Option tag and the compact byte length of the opaque vector.
  const [offset, length] = compactFromU8a(raw.subarray(1));
  const bytes = raw.subarray(1 + offset);
  if (bytes.length !== length.toNumber()) throw new Error('metadata fixture length prefix does not match its size');
  metadataCache = Object.freeze({ atVersionResult, metadataHex: u8aToHex(bytes) });
  return metadataCache;
}

let runtimeVersionCache: RecordedRuntimeVersion | null = null;

export function recordedRuntimeVersion(): RecordedRuntimeVersion {
  runtimeVersionCache ??= Object.freeze(JSON.parse(readFixture('runtime-version.spec343.json')) as RecordedRuntimeVersion);
  return runtimeVersionCache;
}

/** `NeuronInfoRuntimeApi_get_neurons_lite(1)` at block 6,852,690: SCALE Vec<NeuronInfoLite>. */
export function sn1NeuronsLiteHex(): `0x${string}` {
  return readHexFixture('sn1-neurons-lite.block6852690.hex');
}
