/**
 * The devnet node's JSON-RPC method table: everything @polkadot/api 16
 * asks for at connect, the block/header calls `api.at()` needs, storage
 * reads for `weights`, and `state_call` for runtime apis. Methods not in
 * this table are logged by the server and answered with "method not found".
 */
import { FINNEY_CHAIN_NAME, FINNEY_PROPERTIES, recordedMetadata, recordedRuntimeVersion } from './chain-fixtures.js';
import { runtimeCall } from './runtime-calls.js';
import { invalidParams, result, rpcError, type RpcContext, type RpcMethod, type RpcReply, type SubscriptionTopic } from './rpc-types.js';

const NODE_NAME = 'taogate-devnet';
const NODE_VERSION = '0.1.0';

/** Resolves an optional `at` block hash; a reply when it names a block the node does not know. */
function atBlock(ctx: RpcContext, at: unknown): number | RpcReply {
  if (at === undefined || at === null) return ctx.blocks.head();
  if (typeof at !== 'string') return invalidParams('block hash must be a hex string');
  const n = ctx.blocks.numberOf(at);
  return n === null ? rpcError(4003, `Client error: UnknownBlock: unknown block ${at}`) : n;
}

function blockNumberParam(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^0x[0-9a-f]+$/i.test(value)) return parseInt(value, 16);
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return null;
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) && value.every((v): v is string => typeof v === 'string') ? value : null;
}

function subscription(ctx: RpcContext, topic: SubscriptionTopic): RpcMethod {
  return (params, session) => {
    if (ctx.fault() === 'stall-subscriptions') return { kind: 'silent' };
    if (topic !== 'storage') return result(session.subscribe(topic, []));
    const keys = stringList(params[0]);
    return keys ? result(session.subscribe('storage', keys)) : invalidParams('state_subscribeStorage needs a list of keys');
  };
}

const unsubscribe: RpcMethod = (params, session) =>
  typeof params[0] === 'string' ? result(session.unsubscribe(params[0])) : invalidParams('subscription id must be a string');

export function createRpcMethods(ctx: RpcContext): ReadonlyMap<string, RpcMethod> {
  const header: RpcMethod = (params) => {
    const n = atBlock(ctx, params[0]);
    return typeof n === 'number' ? result(ctx.blocks.header(n)) : result(null);
  };
  const methods: Record<string, RpcMethod> = {
    system_chain: () => result(FINNEY_CHAIN_NAME),
    system_name: () => result(NODE_NAME),
    system_version: () => result(NODE_VERSION),
    system_chainType: () => result('Development'),
    system_properties: () => result(FINNEY_PROPERTIES),
    system_health: () => result({ peers: 0, isSyncing: false, shouldHavePeers: false }),
    rpc_methods: () => result({ version: 1, methods: [...Object.keys(methods)].sort() }),

    chain_getBlockHash: (params) => {
      if (params[0] === undefined || params[0] === null) return result(ctx.blocks.hashOf(ctx.blocks.head()));
      const n = blockNumberParam(params[0]);
      return n === null ? invalidParams('block number must be a number or hex') : result(ctx.blocks.hashOf(n));
    },
    chain_getHeader: header,
    chain_getBlock: (params) => {
      const n = atBlock(ctx, params[0]);
      if (typeof n !== 'number') return result(null);
      return result({ block: { header: ctx.blocks.header(n), extrinsics: [] }, justifications: null });
    },
    // Finality is instant on the devnet: the head is final.
    chain_getFinalizedHead: () => result(ctx.blocks.hashOf(ctx.blocks.head())),
    chain_subscribeNewHeads: subscription(ctx, 'newHead'),
    chain_unsubscribeNewHeads: unsubscribe,
    // The singular spelling is what @polkadot/rpc-core actually sends; substrate serves both.
    chain_subscribeNewHead: subscription(ctx, 'newHead'),
    chain_unsubscribeNewHead: unsubscribe,
    chain_subscribeAllHeads: subscription(ctx, 'allHead'),
    chain_unsubscribeAllHeads: unsubscribe,
    chain_subscribeFinalizedHeads: subscription(ctx, 'finalizedHead'),
    chain_unsubscribeFinalizedHeads: unsubscribe,

    state_getRuntimeVersion: (params) => {
      const n = atBlock(ctx, params[0]);
      return typeof n === 'number' ? result(recordedRuntimeVersion()) : n;
    },
    state_subscribeRuntimeVersion: subscription(ctx, 'runtimeVersion'),
    state_unsubscribeRuntimeVersion: unsubscribe,
    state_getMetadata: (params) => {
      const n = atBlock(ctx, params[0]);
      return typeof n === 'number' ? result(recordedMetadata().metadataHex) : n;
    },
    state_call: (params) => {
      const [method, data, at] = params;
      if (typeof method !== 'string') return invalidParams('state_call needs a runtime function name');
      const n = atBlock(ctx, at);
      if (typeof n !== 'number') return n;
      return runtimeCall(ctx, method, data) ?? rpcError(4003, `Client error: Execution failed: Other: Exported method ${method} is not found`);
    },
    state_getStorage: (params) => {
      const [key, at] = params;
      if (typeof key !== 'string') return invalidParams('storage key must be hex');
      const n = atBlock(ctx, at);
      return typeof n === 'number' ? result(ctx.state.storage(key)) : n;
    },
    state_queryStorageAt: (params) => {
      const keys = stringList(params[0]);
      if (!keys) return invalidParams('state_queryStorageAt needs a list of keys');
      const n = atBlock(ctx, params[1]);
      if (typeof n !== 'number') return n;
      return result([{ block: ctx.blocks.hashOf(n), changes: keys.map((k) => [k, ctx.state.storage(k)]) }]);
    },
    state_getKeysPaged: (params) => {
      const [prefix, count, startKey, at] = params;
      if (typeof prefix !== 'string' || typeof count !== 'number') return invalidParams('state_getKeysPaged needs (prefix, count)');
      const n = atBlock(ctx, at);
      if (typeof n !== 'number') return n;
      return result(ctx.state.keysPaged(prefix, Math.min(count, 1000), typeof startKey === 'string' ? startKey : null));
    },
    state_subscribeStorage: subscription(ctx, 'storage'),
    state_unsubscribeStorage: unsubscribe,
  };
  return new Map(Object.entries(methods));
}

/** The JSON-RPC method name a subscription topic's notifications carry. */
export function notificationMethod(topic: SubscriptionTopic): string {
  switch (topic) {
    case 'newHead':
      return 'chain_newHead';
    case 'allHead':
      return 'chain_allHead';
    case 'finalizedHead':
      return 'chain_finalizedHead';
    case 'runtimeVersion':
      return 'state_runtimeVersion';
    case 'storage':
      return 'state_storage';
  }
}
