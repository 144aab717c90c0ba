/**
 * Classifies one WebSocket frame from a JSON-RPC node without trusting it:
 * anything that is not a well-formed response or notification is reported
 * as bad instead of throwing.
 */
import { isRecord } from '../json-record.js';

export class RpcResponseError extends Error {
  override readonly name = 'RpcResponseError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export type JsonRpcFrame =
  | { readonly kind: 'result'; readonly id: number; readonly result: unknown }
  | { readonly kind: 'error'; readonly id: number; readonly error: RpcResponseError }
  | { readonly kind: 'notification'; readonly method: string; readonly subscription: string | number; readonly params: Readonly<Record<string, unknown>> }
  | { readonly kind: 'bad'; readonly description: string };

export function rpcErrorFrom(value: unknown): RpcResponseError | null {
  if (!isRecord(value)) return null;
  return new RpcResponseError(typeof value.code === 'number' ? value.code : 0, String(value.message ?? 'unknown error'));
}

export function parseJsonRpcFrame(text: string | null): JsonRpcFrame {
  const bad = (why: string): JsonRpcFrame => ({ kind: 'bad', description: `${why}: ${JSON.stringify((text ?? '<binary>').slice(0, 80))}` });
  if (text === null) return bad('binary frame');
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (!isRecord(message)) return bad('not a JSON-RPC object');
  if (typeof message.method === 'string') {
    const params = message.params;
    if (!isRecord(params) || (typeof params.subscription !== 'string' && typeof params.subscription !== 'number')) {
      return bad('notification without a subscription');
    }
    return { kind: 'notification', method: message.method, subscription: params.subscription, params };
  }
  if (typeof message.id !== 'number') return bad('response without a numeric id');
  const error = rpcErrorFrom(message.error);
  if (error) return { kind: 'error', id: message.id, error };
  if (!('result' in message)) return bad('response with neither result nor error');
  return { kind: 'result', id: message.id, result: message.result };
}
