/**
 * `state_call` runtime functions the devnet answers: the metadata calls the
 * api makes at connect, and the neurons call the gateway makes every sync
 * (which is where fault injection happens).
 */
import { hexToU8a, isHex, u8aToHex } from '@polkadot/util';
import { recordedMetadata } from './chain-fixtures.js';
import { result, rpcError, type RpcContext, type RpcReply } from './rpc-types.js';

/** Substrate's code for a runtime call that fails inside the client ("Client error: …"). */
const RUNTIME_CALL_FAILED = 4003;

const METADATA_VERSION = 15;

function littleEndian(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.length - 1; i >= 0; i--) n = n * 256 + (bytes[i] ?? 0);
  return n;
}

function argument(data: unknown, byteLength: number, what: string): number | RpcReply {
  if (typeof data !== 'string' || !isHex(data)) return rpcError(-32602, `${what}: call data must be hex`);
  const bytes = hexToU8a(data);
  if (bytes.length !== byteLength) {
    return rpcError(RUNTIME_CALL_FAILED, `Client error: Execution failed: ${what}: expected ${byteLength} bytes of SCALE arguments, got ${bytes.length}`);
  }
  return littleEndian(bytes);
}

function neuronsLite(ctx: RpcContext, data: unknown): RpcReply {
  const netuid = argument(data, 2, 'NeuronInfoRuntimeApi_get_neurons_lite');
  if (typeof netuid !== 'number') return netuid;
  const encoded = ctx.state.neuronsLite(netuid);
  switch (ctx.fault()) {
    case 'garbage-json':
      return { kind: 'raw', text: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
    case 'wrong-types':
      // Valid JSON-RPC, valid hex, but not a whole Vec<NeuronInfoLite>: the
      // first half of the real answer (or a length prefix with no elements).
      return result(encoded.length > 4 ? encoded.slice(0, 2 + Math.floor((encoded.length - 2) / 4) * 2) : '0x08ffff');
    case 'unknown-runtime-call':
      return rpcError(
        RUNTIME_CALL_FAILED,
        'Client error: Execution failed: Other: Exported method NeuronInfoRuntimeApi_get_neurons_lite is not found',
      );
    case 'stall':
      return { kind: 'silent' };
    case 'none':
    case 'stall-subscriptions':
      return result(encoded);
  }
}

type RuntimeCall = (ctx: RpcContext, data: unknown) => RpcReply;

const RUNTIME_CALLS: Readonly<Record<string, RuntimeCall>> = {
  // SCALE Vec<u32> [15]: the only metadata version the devnet has recorded.
  Metadata_metadata_versions: () => result(u8aToHex(new Uint8Array([4, METADATA_VERSION, 0, 0, 0]))),
  Metadata_metadata_at_version: (_ctx, data) => {
    const version = argument(data, 4, 'Metadata_metadata_at_version');
    if (typeof version !== 'number') return version;
    // Option<OpaqueMetadata>: None for versions we do not have.
    return result(version === METADATA_VERSION ? recordedMetadata().atVersionResult : '0x00');
  },
  NeuronInfoRuntimeApi_get_neurons_lite: neuronsLite,
};

export function runtimeCallNames(): string[] {
  return Object.keys(RUNTIME_CALLS);
}

/** Dispatches one `state_call`; null when the devnet does not implement that runtime function. */
export function runtimeCall(ctx: RpcContext, method: string, data: unknown): RpcReply | null {
  const call = Object.hasOwn(RUNTIME_CALLS, method) ? RUNTIME_CALLS[method] : undefined;
  return call ? call(ctx, data) : null;
}
