/**
 * Shapes shared by the devnet node's JSON-RPC method table and its server.
 */
import type { BlockClock } from './block-clock.js';
import type { DevnetChainState } from './chain-state.js';
import type { DevnetChainTypes } from './chain-types.js';

/**
 * Ways the node can misbehave, for resilience tests: on the neurons runtime
 * call (all but the last), or by never answering a subscription request.
 */
export type ChainFault = 'none' | 'garbage-json' | 'wrong-types' | 'unknown-runtime-call' | 'stall' | 'stall-subscriptions';

export const CHAIN_FAULTS: readonly ChainFault[] = ['none', 'garbage-json', 'wrong-types', 'unknown-runtime-call', 'stall', 'stall-subscriptions'];

/** What the server sends back for one request. */
export type RpcReply =
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'error'; readonly code: number; readonly message: string }
  /** A text frame sent as is, in place of a JSON-RPC response (fault injection). */
  | { readonly kind: 'raw'; readonly text: string }
  /** No answer at all (fault injection). */
  | { readonly kind: 'silent' };

export type SubscriptionTopic = 'newHead' | 'finalizedHead' | 'allHead' | 'runtimeVersion' | 'storage';

/** One WebSocket connection's subscription bookkeeping, as the method table sees it. */
export interface RpcSession {
  /** Registers a subscription; the server sends its first notification right after the reply. */
  subscribe(topic: SubscriptionTopic, keys: readonly string[]): string;
  unsubscribe(id: string): boolean;
}

export interface RpcContext {
  readonly types: DevnetChainTypes;
  readonly state: DevnetChainState;
  readonly blocks: BlockClock;
  fault(): ChainFault;
}

export type RpcMethod = (params: readonly unknown[], session: RpcSession) => RpcReply;

export function result(value: unknown): RpcReply {
  return { kind: 'result', result: value };
}

export function rpcError(code: number, message: string): RpcReply {
  return { kind: 'error', code, message };
}

/** JSON-RPC "invalid params". */
export function invalidParams(message: string): RpcReply {
  return rpcError(-32602, message);
}
